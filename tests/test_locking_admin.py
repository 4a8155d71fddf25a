"""No lost updates through the change form, deletes and inlines (two clients = two staff members)."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext

from tests.locking_helpers import MODELS, category, inline_prefix, make, open_form, post, url
from tests.testapp.models import Gadget, Part, Ticket

pytestmark = pytest.mark.django_db


def messages_of(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.parametrize("model", MODELS)
def test_stock_admin_loses_the_first_save(model, alice, bob):
    """The bug being fixed, shown on the stock admin mounted at /stock/."""
    obj = make(model)
    a = open_form(alice, url(obj, site="stock"))
    b = open_form(bob, url(obj, site="stock"))
    assert post(bob, url(obj, site="stock"), b, city="Bergen", _save="1").status_code == 302
    assert post(alice, url(obj, site="stock"), a, status="won", _save="1").status_code == 302
    obj.refresh_from_db()
    assert (obj.status, obj.city) == ("won", "Oslo")  # Bob's city silently reverted


@pytest.mark.parametrize("model", MODELS)
def test_merge_without_overlap_keeps_both_and_says_so(model, alice, bob):
    obj = make(model)
    a = open_form(alice, url(obj))
    b = open_form(bob, url(obj))
    assert post(bob, url(obj), b, city="Bergen", _save="1").status_code == 302
    response = post(alice, url(obj), a, status="won", _save="1")
    assert response.status_code == 302
    obj.refresh_from_db()
    assert (obj.status, obj.city) == ("won", "Bergen")
    assert "Meanwhile someone else changed City; their values were kept." in messages_of(response)
    if model is Ticket:
        assert obj.version == 3


@pytest.mark.parametrize("model", MODELS)
def test_conflict_page_then_keep_mine(model, alice, bob):
    obj = make(model)
    a = open_form(alice, url(obj))
    b = open_form(bob, url(obj))
    assert post(bob, url(obj), b, status="lost", notes="bob was here", _save="1").status_code == 302
    response = post(alice, url(obj), a, status="won", city="Paris", _save="1")
    assert response.status_code == 409
    page = response.content.decode()
    assert 'id="fastadmin-conflict"' in page
    assert 'data-field="status"' in page and 'data-field="city"' not in page
    assert "New" in page and "Lost" in page and "Won" in page  # base / theirs / mine, as displayed
    assert "bob" in page  # who changed it, from the admin log
    assert "Also changed by someone else meanwhile" in page and "Notes" in page
    # Admin-styled buttons, the merge first (Enter submits it) and primary; "Discard" a cancel link
    row = page.split('<div class="submit-row">', 1)[1].split("</div>", 1)[0]
    buttons = re.findall(r"<button [^>]*>[^<]*</button>", row)
    assert len(buttons) == 3 and all('class="button' in b for b in buttons)
    assert 'class="button default"' in buttons[0] and "Save with the choices above" in buttons[0]
    assert re.search(r'class="button cancel-link">Discard my changes</a>', row)
    obj.refresh_from_db()
    assert (obj.status, obj.city) == ("lost", "Oslo")  # nothing written

    resolve = open_form_from(page)
    response = post(alice, url(obj), resolve, _fa_resolve_all="mine")
    assert response.status_code == 302, response.content[:500]
    obj.refresh_from_db()
    assert (obj.status, obj.city, obj.notes) == ("won", "Paris", "bob was here")


@pytest.mark.parametrize("model", MODELS)
def test_conflict_take_theirs_and_new_conflict_after_resolution_page(model, alice, bob):
    obj = make(model)
    a = open_form(alice, url(obj))
    b = open_form(bob, url(obj))
    post(bob, url(obj), b, status="lost", _save="1")
    page = post(alice, url(obj), a, status="won", city="Paris", _save="1").content.decode()
    resolve = open_form_from(page)

    # While Alice looks at the conflict page, Bob changes status again: her choice no longer applies.
    b2 = open_form(bob, url(obj))
    post(bob, url(obj), b2, status="open", _save="1")
    assert post(alice, url(obj), resolve, _fa_resolve_all="theirs").status_code == 409

    obj.refresh_from_db()
    assert obj.status == "open"
    a2 = open_form(alice, url(obj))
    b3 = open_form(bob, url(obj))
    post(bob, url(obj), b3, status="lost", _save="1")
    page = post(alice, url(obj), a2, status="won", city="Rome", _save="1").content.decode()
    response = post(alice, url(obj), open_form_from(page), _fa_resolve_status="theirs")
    assert response.status_code == 302
    obj.refresh_from_db()
    assert (obj.status, obj.city) == ("lost", "Rome")


def test_conflict_resolution_with_csrf_enforced(bob):
    from django.contrib.auth import get_user_model
    from django.test import Client

    alice = Client(enforce_csrf_checks=True)
    alice.force_login(get_user_model().objects.create_superuser("alice", "a@example.com", "pw"))
    obj = make(Gadget)
    a = open_form(alice, url(obj))
    post(bob, url(obj), open_form(bob, url(obj)), status="lost", _save="1")
    response = post(alice, url(obj), a, status="won", _save="1")
    assert response.status_code == 409
    resolve = open_form_from(response.content.decode())
    assert any(name == "csrfmiddlewaretoken" for name, _ in resolve)
    assert post(alice, url(obj), resolve, _fa_resolve_all="mine").status_code == 302
    without_csrf = [(n, v) for n, v in a if n != "csrfmiddlewaretoken"]
    assert post(alice, url(obj), without_csrf, status="open", _save="1").status_code == 403
    obj.refresh_from_db()
    assert obj.status == "won"


def open_form_from(page: str):
    from example_project.stress import form_fields

    return form_fields(page, "fa-resolve")


@pytest.mark.parametrize("model", MODELS)
def test_deleted_meanwhile_is_a_409(model, alice, bob):
    obj = make(model)
    a = open_form(alice, url(obj))
    model.objects.filter(pk=obj.pk).delete()
    response = post(alice, url(obj), a, status="won", _save="1")
    # Stock's answer for a row gone before the POST (a row deleted between that read and the
    # locked read gets fastadmin's 409 page instead); either way nothing is silently recreated.
    assert response.status_code == 302
    assert "Perhaps it was deleted?" in messages_of(response)
    assert not model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", MODELS)
def test_stale_delete_is_refused_then_confirmed(model, alice, bob):
    obj = make(model)
    confirm = open_form(alice, url(obj, "delete"))
    assert any(name == "_fa_token" for name, _ in confirm)
    b = open_form(bob, url(obj))
    post(bob, url(obj), b, city="Bergen", _save="1")
    response = post(alice, url(obj, "delete"), confirm)
    assert response.status_code == 409
    assert b"was not deleted" in response.content and b"Bergen" in response.content
    assert model.objects.filter(pk=obj.pk).exists()
    response = post(alice, url(obj, "delete"), open_form_from(response.content.decode()))
    assert response.status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", MODELS)
def test_fresh_delete_works(model, alice):
    obj = make(model)
    assert post(alice, url(obj, "delete"), open_form(alice, url(obj, "delete"))).status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("how", ["altered", "other object", "garbage"])
def test_tampered_token_is_a_400_and_writes_nothing(model, alice, how):
    obj, other = make(model), make(model, name="other")
    fields = open_form(alice, url(obj))
    token = dict(fields)["_fa_token"]
    forged = {
        "altered": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "other object": dict(open_form(alice, url(other)))["_fa_token"],
        "garbage": "x" * 3000,
    }[how]
    response = post(alice, url(obj), fields, status="won", _fa_token=forged, _save="1")
    assert response.status_code == 400
    assert b"fastadmin-bad-request" in response.content
    assert b"Reload the page" in response.content
    obj.refresh_from_db()
    assert obj.status == "new"


def test_bad_resolution_value_is_a_400(alice):
    obj = make(Gadget)
    response = post(alice, url(obj), open_form(alice, url(obj)), _fa_resolve_all="both", _save="1")
    assert response.status_code == 400


@pytest.mark.parametrize("model", MODELS)
def test_update_fields_are_only_the_changed_ones(model, alice):
    obj = make(model)
    seen = []

    def spy(sender, update_fields, **kwargs):
        seen.append(update_fields)

    pre_save.connect(spy, sender=model)
    try:
        with CaptureQueriesContext(connection) as queries:
            post(alice, url(obj), open_form(alice, url(obj)), city="Bergen", _save="1")
    finally:
        pre_save.disconnect(spy, sender=model)
    expected = {"city", "updated"} | ({"version"} if model is Ticket else set())
    assert [set(s) for s in seen] == [expected]
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"city"' in updates[0] and '"status"' not in updates[0] and '"notes"' not in updates[0]
    locks = [i for i, q in enumerate(queries.captured_queries) if q["sql"].endswith("FOR UPDATE")]
    assert locks and locks[0] < next(i for i, q in enumerate(queries.captured_queries) if q["sql"].startswith("UPDATE"))
    if model is Ticket:
        assert '"version" = ("testapp_ticket"."version" + 1)' in updates[0]


@pytest.mark.parametrize("model", MODELS)
def test_background_writes_to_other_columns_survive(model, alice):
    obj = make(model)
    form = open_form(alice, url(obj))
    model.objects.filter(pk=obj.pk).update(notes="written by a job")  # no version bump, no signal
    assert post(alice, url(obj), form, city="Bergen", _save="1").status_code == 302
    obj.refresh_from_db()
    assert (obj.city, obj.notes) == ("Bergen", "written by a job")


@pytest.mark.parametrize("model", MODELS)
def test_change_form_save_costs_at_most_one_extra_query(model, alice):
    obj = make(model)
    counts = {}
    for site in ("stock", "admin"):
        fields = open_form(alice, url(obj, site=site))
        with CaptureQueriesContext(connection) as queries:
            response = post(alice, url(obj, site=site), fields, city=f"City {site}", _save="1")
        assert response.status_code == 302
        counts[site] = len(queries)
    assert counts["admin"] <= counts["stock"] + 1, counts


def test_many_to_many_merges_additions_and_removals(alice, bob):
    x, y, z = category("x"), category("y"), category("z")
    obj = make(Gadget)
    obj.tags.set([z])
    a = open_form(alice, url(obj))
    b = open_form(bob, url(obj))
    a = [(n, v) for n, v in a if n != "tags"] + [("tags", str(z.pk)), ("tags", str(x.pk))]
    b = [(n, v) for n, v in b if n != "tags"] + [("tags", str(y.pk))]  # adds y, removes z
    assert post(bob, url(obj), b, _save="1").status_code == 302
    assert post(alice, url(obj), a, _save="1").status_code == 302  # adds x
    assert set(obj.tags.values_list("name", flat=True)) == {"x", "y"}


def test_inline_rows_are_merged(alice, bob):
    """Issue 7: inline rows are merged like the parent (was: last write wins per inline row)."""
    obj = make(Gadget)
    part = Part.objects.create(gadget=obj, label="bolt", qty=1)
    a = open_form(alice, url(obj))
    b = open_form(bob, url(obj))
    prefix = inline_prefix(a)
    assert post(bob, url(obj), b, **{f"{prefix}-0-qty": "5", "_save": "1"}).status_code == 302
    response = post(alice, url(obj), a, **{f"{prefix}-0-label": "nut", "city": "Bergen", "_save": "1"})
    assert response.status_code == 302
    part.refresh_from_db()
    obj.refresh_from_db()
    assert (part.label, part.qty) == ("nut", 5)  # both kept
    assert obj.city == "Bergen"


def test_locking_can_be_turned_off_per_admin(alice, monkeypatch):
    from fastadmin import site

    monkeypatch.setattr(site.get_model_admin(Gadget), "optimistic_locking", False)
    obj = make(Gadget)
    fields = [(n, v) for n, v in open_form(alice, url(obj)) if n != "_fa_token"]
    assert post(alice, url(obj), fields, city="Bergen", _save="1").status_code == 302


def test_add_and_save_as_new_need_no_token(alice):
    data = {"name": "new one", "status": "new", "price": "2", "part_set-TOTAL_FORMS": "0",
            "part_set-INITIAL_FORMS": "0"}
    response = alice.post("/admin/testapp/gadget/add/", data)
    assert response.status_code == 302
    obj = Gadget.objects.get(name="new one")
    fields = [(n, v) for n, v in open_form(alice, url(obj)) if n != "_fa_token"]
    assert post(alice, url(obj), fields, name="copy", _saveasnew="1").status_code == 302
    assert Gadget.objects.filter(name="copy").exists()


def test_view_only_user_gets_403_not_400(db):
    from django.contrib.auth.models import Permission, User
    from django.test import Client

    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_gadget"))
    client = Client()
    client.force_login(user)
    obj = make(Gadget)
    page = client.get(url(obj)).content.decode()
    assert "_fa_token" not in page
    assert client.post(url(obj), {"name": "x"}).status_code == 403


def test_take_all_theirs_beats_the_default_radios(alice, bob):
    obj = make(Ticket)
    a = open_form(alice, url(obj))
    post(bob, url(obj), open_form(bob, url(obj)), status="lost", city="Rome", _save="1")
    page = post(alice, url(obj), a, status="won", city="Paris", notes="hers", _save="1").content.decode()
    resolve = open_form_from(page)
    assert ("_fa_resolve_status", "mine") in resolve  # the radios, as a browser posts them
    assert post(alice, url(obj), resolve, _fa_resolve_all="theirs").status_code == 302
    obj.refresh_from_db()
    assert (obj.status, obj.city, obj.notes) == ("lost", "Rome", "hers")
