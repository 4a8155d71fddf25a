"""Issue 7: one write path. Each test names the defect of the previous design it covers."""

from __future__ import annotations

import base64
import json
import logging
import re
import zlib
from unittest import mock

import pytest
from django.contrib.auth.models import Permission, User
from django.db import DatabaseError
from django.test import Client

from fastadmin import update_rows
from tests.locking_helpers import MODELS, inline_prefix, make, open_form, post, url
from tests.testapp import admin as test_admin
from tests.testapp.models import SAVES, Gadget, Part, SecretTicket, Ticket

pytestmark = pytest.mark.django_db


def changelist(model) -> str:
    return f"/admin/testapp/{model._meta.model_name}/"


def row_index(fields, pk) -> str:
    return next(re.match(r"form-(\d+)-id", n).group(1) for n, v in fields if n.endswith("-id") and v == str(pk))


def staff(name: str, *codenames: str) -> Client:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def decode_without_key(raw: str) -> str:
    """A ``django.core.signing`` payload read the way anyone holding the page can: no key needed."""
    payload = raw.split(":")[0]
    compressed = payload.startswith(".")
    data = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload.lstrip(".")) % 4))
    return (zlib.decompress(data) if compressed else data).decode()


def tokens_in(page: str) -> list[str]:
    return re.findall(r'name="_fa_(?:page_)?token" value="([^"]+)"', page)


# --------------------------------------------------------------------------- Model.save() once per row
@pytest.mark.parametrize("model", MODELS)
def test_change_form_runs_model_save_once(model, alice):
    """Was: versioned change forms wrote with QuerySet.update and hand-sent signals (save() skipped)."""
    obj = make(model)
    fields = open_form(alice, url(obj))
    SAVES.clear()
    assert post(alice, url(obj), fields, city="Bergen", _save="1").status_code == 302
    assert SAVES[(model.__name__, obj.pk)] == 1
    obj.refresh_from_db()
    assert obj.city == "Bergen"


@pytest.mark.parametrize("model", MODELS)
def test_list_editable_runs_model_save_once_per_changed_row(model, alice):
    """Was: list_editable wrote with bulk_update (save() skipped)."""
    rows = [make(model, name=f"row {i}") for i in range(3)]
    fields = open_form(alice, changelist(model), "changelist-form")
    SAVES.clear()
    changes = {f"form-{row_index(fields, r.pk)}-city": f"C{r.pk}" for r in rows[:2]}
    assert post(alice, changelist(model), fields, _save="Save", **changes).status_code == 302
    assert [SAVES[(model.__name__, r.pk)] for r in rows] == [1, 1, 0]
    if model is Ticket:
        assert list(Ticket.objects.order_by("pk").values_list("version", flat=True)) == [2, 2, 1]


def test_inline_rows_run_model_save_once(alice):
    obj = make(Gadget)
    bolt = Part.objects.create(gadget=obj, label="bolt", qty=1)
    nut = Part.objects.create(gadget=obj, label="nut", qty=1)
    fields = open_form(alice, url(obj))
    SAVES.clear()
    i = next(n for n, v in fields if n.endswith("-id") and v == str(bolt.pk)).rsplit("-", 1)[0]
    assert post(alice, url(obj), fields, **{f"{i}-qty": "7", "_save": "1"}).status_code == 302
    assert (SAVES[("Part", bolt.pk)], SAVES[("Part", nut.pk)], SAVES[("Gadget", obj.pk)]) == (1, 0, 0)
    bolt.refresh_from_db()
    assert bolt.qty == 7


def test_project_hooks_run_for_list_editable(alice):
    """Was: list_editable skipped save_model/save_related and built LogEntry rows by hand."""
    rows = [make(Ticket, name=f"row {i}") for i in range(2)]
    fields = open_form(alice, changelist(Ticket), "changelist-form")
    test_admin.HOOK_CALLS.clear()
    post(alice, changelist(Ticket), fields, _save="Save", **{f"form-{row_index(fields, rows[1].pk)}-city": "X"})
    assert test_admin.HOOK_CALLS == [("save_model", rows[1].pk), ("save_related", rows[1].pk),
                                     ("log_change", rows[1].pk)]


def test_project_hooks_run_for_the_change_form(alice):
    obj = make(Ticket)
    fields = open_form(alice, url(obj))
    test_admin.HOOK_CALLS.clear()
    post(alice, url(obj), fields, city="Bergen", _save="1")
    assert [name for name, _pk in test_admin.HOOK_CALLS] == ["save_model", "save_related", "log_change"]


def test_list_editable_failure_rolls_back_every_row(alice):
    """Like stock (Django's test_list_editable_atomicity): one failing log_change undoes all rows."""
    rows = [make(Ticket, name=f"row {i}") for i in range(2)]
    fields = open_form(alice, changelist(Ticket), "changelist-form")
    changes = {f"form-{row_index(fields, r.pk)}-city": "Rome" for r in rows}
    with mock.patch("django.contrib.admin.ModelAdmin.log_change", side_effect=[None, DatabaseError]):
        with pytest.raises(DatabaseError):
            post(alice, changelist(Ticket), fields, _save="Save", **changes)
    assert set(Ticket.objects.values_list("city", flat=True)) == {"Oslo"}


# --------------------------------------------------------------------------- writes that do not bump the version
@pytest.mark.parametrize("how", ["save(update_fields)", "QuerySet.update", "update_rows"])
@pytest.mark.parametrize("model", MODELS)
def test_stale_form_after_a_write_without_version_gets_409(model, how, alice):
    """Was: save(update_fields=[...]) and QuerySet.update() left the version, so a stale form saved over them."""
    obj = make(model)
    fields = open_form(alice, url(obj))
    if how == "save(update_fields)":
        other = model.objects.get(pk=obj.pk)
        other.status = "lost"
        other.save(update_fields=["status"])
    elif how == "QuerySet.update":
        model.objects.filter(pk=obj.pk).update(status="lost")
    else:
        update_rows(model.objects.filter(pk=obj.pk), status="lost")
    response = post(alice, url(obj), fields, status="won", _save="1")
    assert response.status_code == 409
    obj.refresh_from_db()
    assert obj.status == "lost"


# --------------------------------------------------------------------------- leaks
def test_excluded_field_is_in_no_page_and_no_token(alice, bob):
    """Was: the delete view signed every concrete field (signed is not encrypted) and its 409 showed them."""
    obj = make(SecretTicket, memo="TOPSECRET-memo", notes="readonly-notes")
    pages = []
    form = open_form(alice, url(obj))
    pages.append(alice.get(url(obj)).content.decode())
    confirm = open_form(alice, url(obj, "delete"))
    pages.append(alice.get(url(obj, "delete")).content.decode())
    pages.append(alice.get(changelist(SecretTicket)).content.decode())
    Ticket.objects.filter(pk=obj.pk).update(status="lost", city="Bergen", memo="TOPSECRET-memo2")
    conflict = post(alice, url(obj), form, status="won", _save="1")
    assert conflict.status_code == 409
    pages.append(conflict.content.decode())
    delete_conflict = post(alice, url(obj, "delete"), confirm)
    assert delete_conflict.status_code == 409
    pages.append(delete_conflict.content.decode())
    tokens = [t for page in pages for t in tokens_in(page)]
    assert len(tokens) >= 5
    for text in [*pages, *map(decode_without_key, tokens)]:
        assert "TOPSECRET" not in text
    for token in map(decode_without_key, tokens):
        assert "readonly-notes" not in token  # read-only: shown, but never signed
    assert "Bergen" in json.dumps([decode_without_key(t) for t in tokens_in(pages[-1])])


# --------------------------------------------------------------------------- permission first
def test_delete_without_permission_is_403_before_any_token(alice, bob):
    """Was: the delete view read the token first: 409 page with the row's value, or 400, instead of 403."""
    obj = make(Gadget)
    confirm = open_form(alice, url(obj, "delete"))
    post(bob, url(obj), open_form(bob, url(obj)), city="SECRET-CITY", _save="1")
    mallory = staff("mallory", "view_gadget")
    response = post(mallory, url(obj, "delete"), confirm)
    assert response.status_code == 403 and b"SECRET-CITY" not in response.content
    assert post(mallory, url(obj, "delete"), confirm, _fa_token="garbage").status_code == 403
    missing = f"/admin/testapp/gadget/{obj.pk + 999}/delete/"
    assert mallory.post(missing, {"_fa_token": "garbage", "post": "yes"}).status_code == 403
    assert Gadget.objects.filter(pk=obj.pk).exists()


def test_change_without_permission_is_403_before_the_token(alice, bob):
    obj = make(Gadget)
    alices_form = open_form(alice, url(obj))
    post(bob, url(obj), open_form(bob, url(obj)), status="lost", _save="1")
    mallory = staff("mallory", "view_gadget")
    for token in (dict(alices_form)["_fa_token"], "garbage"):
        response = post(mallory, url(obj), alices_form, status="won", _fa_token=token, _save="1")
        assert response.status_code == 403
    assert Gadget.objects.get(pk=obj.pk).status == "lost"


def test_change_of_a_missing_object_is_stocks_redirect_not_400(alice):
    obj = make(Gadget)
    fields = open_form(alice, url(obj))
    response = post(alice, f"/admin/testapp/gadget/{obj.pk + 999}/change/", fields, _fa_token="garbage", _save="1")
    assert response.status_code == 302


def test_list_editable_and_actions_without_permission_are_403(alice):
    row = make(Gadget)
    viewer = staff("viewer", "view_gadget")
    response = viewer.post(changelist(Gadget), {"_save": "Save", "_fa_page_token": "garbage",
                                                "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1",
                                                "form-0-id": str(row.pk), "form-0-city": "X"})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.city == "Oslo"


# --------------------------------------------------------------------------- drop-in: tokenless POSTs
def test_tokenless_change_form_saves_like_stock_and_warns(alice, caplog, settings):
    """Was: a POST without a fastadmin token got a 400, breaking every project test and script."""
    obj = make(Ticket)
    fields = [(n, v) for n, v in open_form(alice, url(obj)) if n != "_fa_token"]
    with caplog.at_level(logging.WARNING, logger="fastadmin.locking"):
        assert post(alice, url(obj), fields, city="Bergen", _save="1").status_code == 302
    assert "without _fa_token" in caplog.text
    obj.refresh_from_db()
    assert obj.city == "Bergen"
    settings.FASTADMIN = {"LOCKING": "strict"}
    assert post(alice, url(obj), fields, city="Rome", _save="1").status_code == 400
    obj.refresh_from_db()
    assert obj.city == "Bergen"


def test_tokenless_list_editable_and_action_save_like_stock(alice, caplog, settings):
    rows = [make(Gadget, name=f"row {i}") for i in range(2)]
    fields = [(n, v) for n, v in open_form(alice, changelist(Gadget), "changelist-form") if n != "_fa_page_token"]
    with caplog.at_level(logging.WARNING, logger="fastadmin.locking"):
        response = post(alice, changelist(Gadget), fields, _save="Save",
                        **{f"form-{row_index(fields, rows[0].pk)}-city": "Bergen"})
    assert response.status_code == 302 and "without _fa_page_token" in caplog.text
    assert Gadget.objects.get(pk=rows[0].pk).city == "Bergen"
    action = [("action", "update_mark_won"), ("index", "0"), ("_selected_action", str(rows[1].pk))]
    assert alice.post(changelist(Gadget), dict(action)).status_code == 302
    assert Gadget.objects.get(pk=rows[1].pk).status == "won"
    settings.FASTADMIN = {"LOCKING": "strict"}
    assert alice.post(changelist(Gadget), {"action": "update_raise_price", "index": "0",
                                           "_selected_action": str(rows[1].pk)}).status_code == 400


# --------------------------------------------------------------------------- token binding and expiry
def test_token_of_another_user_is_400(alice, bob):
    obj = make(Gadget)
    alices_form = open_form(alice, url(obj))
    response = post(bob, url(obj), alices_form, city="Bergen", _save="1")
    assert response.status_code == 400 and b"another user" in response.content
    assert Gadget.objects.get(pk=obj.pk).city == "Oslo"


def test_expired_token_is_400_saying_reload(alice, settings):
    obj = make(Gadget)
    fields = open_form(alice, url(obj))
    settings.FASTADMIN = {"TOKEN_MAX_AGE_S": -1}  # every token is older than that
    response = post(alice, url(obj), fields, city="Bergen", _save="1")
    assert response.status_code == 400 and b"Reload the page" in response.content
    assert Gadget.objects.get(pk=obj.pk).city == "Oslo"


# --------------------------------------------------------------------------- inlines
def test_two_staff_editing_the_same_inline_row_get_a_conflict(alice, bob):
    """Was: inline rows were saved by the stock formset, the last save silently winning."""
    obj = make(Gadget)
    part = Part.objects.create(gadget=obj, label="bolt", qty=1)
    a = open_form(alice, url(obj))
    b = open_form(bob, url(obj))
    prefix = inline_prefix(a)
    assert post(bob, url(obj), b, **{f"{prefix}-0-qty": "5", "_save": "1"}).status_code == 302
    response = post(alice, url(obj), a, **{f"{prefix}-0-qty": "9", "city": "Bergen", "_save": "1"})
    assert response.status_code == 409
    page = response.content.decode()
    assert f'data-field="{prefix}.{part.pk}.qty"' in page and "bolt" in page
    part.refresh_from_db()
    obj.refresh_from_db()
    assert (part.qty, obj.city) == (5, "Oslo")  # nothing written, the parent row neither
    from example_project.stress import form_fields

    response = post(alice, url(obj), form_fields(page, "fa-resolve"), _fa_resolve_all="mine")
    assert response.status_code == 302
    part.refresh_from_db()
    obj.refresh_from_db()
    assert (part.qty, obj.city) == (9, "Bergen")


# --------------------------------------------------------------------------- action confirmation step
def test_confirmation_step_with_a_stale_page_token_is_refused(alice):
    rows = [make(Gadget, name=f"row {i}") for i in range(2)]
    fields = open_form(alice, changelist(Gadget), "changelist-form")
    token = dict(fields)["_fa_page_token"]
    Gadget.objects.filter(pk=rows[0].pk).update(city="Bergen")
    response = alice.post(changelist(Gadget), {"action": "delete_selected", "post": "yes", "index": "0",
                                               "_selected_action": [str(r.pk) for r in rows],
                                               "_fa_page_token": token})
    assert response.status_code == 302
    assert Gadget.objects.count() == 2


def test_field_left_out_of_the_fieldsets_is_not_signed_into_the_delete_token(alice, monkeypatch):
    from fastadmin import site

    admin = site.get_model_admin(Gadget)
    monkeypatch.setattr(type(admin), "fieldsets", [(None, {"fields": ["name", "status"]})], raising=False)
    obj = make(Gadget, city="HIDDEN-CITY")
    page = alice.get(url(obj, "delete")).content.decode()
    tokens = tokens_in(page)
    assert tokens and all("HIDDEN-CITY" not in decode_without_key(t) for t in tokens)
