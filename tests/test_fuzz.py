"""Property-based fuzzing of every admin fastadmin.site serves (issue 9): no input gets a 500, and every
other answer says what happened.

For each registered ModelAdmin (the example project's shop and auth admins, the test apps'), Hypothesis
sends requests built from the admin's own vocabulary (tests/fuzz_vocabulary.py) mixed with hostile
values: changelist query strings, autocomplete requests naming every field of the model (forward,
reverse, many-to-many, generic), the change/add/delete/history views with hostile object ids, action
POSTs and list_editable POSTs, as a superuser and as a view-only user, in-process (Django's test
client, which raises a view's exception instead of answering 500).

Profiles (tests/conftest.py): the default one (fixed seed, FUZZ_EXAMPLES examples per admin) runs in
``make test``; ``--hypothesis-profile=long`` is the deep run, e.g. at least 20,000 requests across the
example project's admins::

    pytest tests/test_fuzz.py --hypothesis-profile=long -k example -p no:cacheprovider
"""

from __future__ import annotations

import collections
import datetime
import re
from urllib.parse import unquote

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from shop.models import Customer, Lead, Order

import fastadmin
from tests.conftest import make_items
from tests.fuzz_vocabulary import (
    Vocabulary,
    action_post,
    autocomplete_query,
    changelist_query,
    editable_post,
    object_id,
    vocabulary,
)

#: Every answer, by status, across the session (printed by tests/conftest.py's terminal summary).
ANSWERS: collections.Counter[int] = collections.Counter()

EXAMPLE_APPS = ("shop", "auth")


def served_models() -> list[str]:
    fastadmin.site.adopt_default()
    return sorted(m._meta.label_lower for m in apps.get_models() if fastadmin.site.is_registered(m))


def case_id(label: str) -> str:
    return ("example-" if label.split(".")[0] in EXAMPLE_APPS else "tests-") + label


@pytest.fixture
def world(db):
    """A little of everything (rows render fast; the items list pages by 10, so it has cursors to replay
    against other admins and orderings), a superuser and a view-only user."""
    when = timezone.make_aware(datetime.datetime(2024, 3, 1))
    customers = Customer.objects.bulk_create(
        Customer(name=f"customer {i}", email=f"c{i}@example.com", city="Paris", country="US" if i % 3 else "FR")
        for i in range(12)
    )
    Order.objects.bulk_create(
        Order(customer=customers[i % 7], number=f"N{i}", total=i, placed_at=when + datetime.timedelta(days=i))
        for i in range(15)
    )
    Lead.objects.bulk_create(
        Lead(name=f"lead {i}", email=f"l{i}@example.com", customer=customers[i % 5] if i % 2 else None, score=i)
        for i in range(12)
    )
    make_items(30)
    user_model = get_user_model()
    boss = user_model.objects.create_superuser("fuzz-boss", "boss@example.com", "pw")
    viewer = user_model.objects.create_user("fuzz-viewer", "viewer@example.com", "pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    clients = {}
    for name, user in (("superuser", boss), ("viewer", viewer)):
        clients[name] = Client(raise_request_exception=True)
        clients[name].force_login(user)
    return {"clients": clients, "superuser": boss}


def harvest_cursors(client: Client) -> list[str]:
    """Real cursors from several orderings of one list: replayed against every admin and ordering."""
    found = []
    for url, orders in (("/admin/testapp/item/", ["", "-2", "3", "5.-1"]),):
        for o in orders:
            content = client.get(url, {"o": o} if o else {}).content.decode()
            found += [unquote(c) for c in re.findall(r"cursor=([^&\"']+)", content)]
    return sorted(set(found))[:20]


def admin_vocabulary(label: str, world) -> Vocabulary:
    model = apps.get_model(label)
    model_admin = fastadmin.site.get_model_admin(model)
    request = RequestFactory().get("/")
    request.user = world["superuser"]
    pks = [str(pk) for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[:3]]
    vocab = vocabulary(model_admin, request, pks)
    vocab.cursors = harvest_cursors(world["clients"]["superuser"])
    return vocab


def urls(v: Vocabulary) -> dict[str, str]:
    info = f"admin:{v.app_label}_{v.model_name}"
    return {"changelist": reverse(f"{info}_changelist"), "add": reverse(f"{info}_add"), "object": info}


def requests(v: Vocabulary) -> st.SearchStrategy[tuple[str, str, object]]:
    """(method, kind, payload) of one request."""
    return st.one_of(
        st.tuples(st.just("GET"), st.just("changelist"), changelist_query(v)),
        st.tuples(st.just("GET"), st.just("autocomplete"), autocomplete_query(v)),
        st.tuples(st.just("GET"), st.sampled_from(["change", "history", "delete", "add"]), object_id(v)),
        st.tuples(st.just("POST"), st.just("action"), action_post(v)),
        st.tuples(st.just("POST"), st.just("editable"), editable_post(v)),
        st.tuples(st.just("POST"), st.just("delete"), object_id(v)),
    )


def send(client: Client, v: Vocabulary, method: str, kind: str, payload):
    u = urls(v)
    if kind == "changelist":
        return client.get(u["changelist"], {}, QUERY_STRING=encode(payload))
    if kind == "autocomplete":
        return client.get(reverse("admin:autocomplete"), payload)
    if kind in ("action", "editable"):
        return client.post(u["changelist"], payload)
    if kind == "add":
        return client.get(u["add"])
    path = reverse(f"{u['object']}_{kind}", args=["__ID__"]).replace("__ID__", quote_id(payload))
    return client.post(path, {"post": "yes"}) if method == "POST" else client.get(path)


def encode(pairs: list[tuple[str, str]]) -> str:
    from urllib.parse import urlencode

    return urlencode(pairs)


def quote_id(raw: str) -> str:
    from urllib.parse import quote as url_quote

    from django.contrib.admin.utils import quote

    return url_quote(quote(raw), safe="")


def check_answer(response, method: str, kind: str, payload) -> None:
    """Not a 500 (the client raised if a view failed), and an answer that says what happened."""
    status = response.status_code
    ANSWERS[status] += 1
    assert status in (200, 302, 400, 403, 404, 409, 503), (status, kind, payload)
    body = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
    if status == 302:
        assert response["Location"], (kind, payload)
    elif status == 400 and "fastadmin-bad-request" in body:
        named = re.search(r"<code>(.*?)</code>", body)
        assert named, (kind, payload)
        if kind == "changelist":
            from html import unescape

            assert unescape(named.group(1)) in {n for n, _v in payload}, (named.group(1), payload)
    elif status == 400:
        assert "Bad Request" in body, (kind, payload)  # stock's answer to a disallowed lookup
    elif status == 503:
        assert "fastadmin-too-slow" in body, (kind, payload)
    elif status in (403, 404, 409):
        assert body.strip(), (status, kind, payload)


@pytest.mark.parametrize("label", served_models(), ids=case_id)
def test_no_input_gets_a_500(world, label):
    vocab = admin_vocabulary(label, world)

    @settings(deadline=None)
    @given(user=st.sampled_from(["superuser", "viewer"]), request=requests(vocab))
    def fuzz(user, request):
        method, kind, payload = request
        response = send(world["clients"][user], vocab, method, kind, payload)
        check_answer(response, method, kind, payload)

    fuzz()
