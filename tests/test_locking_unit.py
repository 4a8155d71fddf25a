"""The merge policy, tokens and the model-level versioned save, without the admin."""

import time
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from fastadmin import StaleVersion, save_versioned
from fastadmin.locking import BadEditToken, EditToken, PageToken, editable_fields, merge
from fastadmin.locking.tokens import load
from tests.locking_helpers import make
from tests.testapp.models import Gadget, Ticket

FIELDS = editable_fields(Gadget, ["status", "city", "price"])
BASE = {"status": "new", "city": "Oslo", "price": Decimal("1.00")}


def test_merge_only_mine_only_theirs_and_both():
    mine = {**BASE, "status": "won", "price": Decimal("1.0")}  # 1.0 == 1.00: not a change
    theirs = {**BASE, "city": "Bergen"}
    result = merge(FIELDS, BASE, mine, theirs)
    assert (result.update_fields, result.conflicts, result.theirs_changed) == (["status"], [], ["city"])

    result = merge(FIELDS, BASE, {**BASE, "status": "won"}, {**BASE, "status": "lost"})
    assert [(c.name, c.base, c.theirs, c.mine) for c in result.conflicts] == [
        ("status", "new", "lost", "won")
    ]
    assert result.update_fields == []

    same = merge(FIELDS, BASE, {**BASE, "status": "won"}, {**BASE, "status": "won"})
    assert (same.update_fields, same.conflicts) == ([], [])


def test_merge_resolutions_apply_only_to_the_value_seen():
    mine, theirs = {**BASE, "status": "won"}, {**BASE, "status": "lost"}
    seen = {"status": "lost"}
    assert merge(FIELDS, BASE, mine, theirs, seen, {"status": "mine"}).update_fields == ["status"]
    kept = merge(FIELDS, BASE, mine, theirs, seen, {"status": "theirs"})
    assert (kept.update_fields, kept.conflicts) == ([], [])
    moved = merge(FIELDS, BASE, mine, {**BASE, "status": "open"}, seen, {"status": "mine"})
    assert [c.name for c in moved.conflicts] == ["status"]


@pytest.mark.django_db
def test_edit_token_round_trip_and_tampering():
    obj = make(Gadget, price="12.50")
    raw = EditToken.for_object(obj, FIELDS, user=5).sign(Gadget)
    token = EditToken.read(Gadget, raw, obj.pk, 5)
    assert load(token.base, FIELDS) == {"status": "new", "city": "Oslo", "price": Decimal("12.50")}
    assert token.version is None
    with pytest.raises(BadEditToken, match="altered"):
        EditToken.read(Gadget, raw[:-2] + ("xy" if not raw.endswith("xy") else "zz"), obj.pk, 5)
    with pytest.raises(BadEditToken, match="another object"):
        EditToken.read(Gadget, raw, obj.pk + 1, 5)
    with pytest.raises(BadEditToken, match="altered"):
        EditToken.read(Ticket, raw, obj.pk, 5)  # salted per model
    with pytest.raises(BadEditToken, match="altered"):
        PageToken.read(Gadget, raw, 5)  # and per kind


@pytest.mark.django_db
def test_tokens_are_bound_to_the_user_and_expire():
    obj = make(Gadget)
    raw = EditToken.for_object(obj, FIELDS, user=5).sign(Gadget)
    with pytest.raises(BadEditToken, match="another user"):
        EditToken.read(Gadget, raw, obj.pk, 6)
    page = PageToken.for_rows(Gadget, [obj], ["city"], user=5).sign(Gadget)
    with pytest.raises(BadEditToken, match="another user"):
        PageToken.read(Gadget, page, 6)
    with override_settings(FASTADMIN={"TOKEN_MAX_AGE_S": 60}):
        old = time.time() - 61
        with mock.patch("time.time", return_value=old):
            raw = EditToken.for_object(obj, FIELDS, user=5).sign(Gadget)
            page = PageToken.for_rows(Gadget, [obj], ["city"], user=5).sign(Gadget)
        with pytest.raises(BadEditToken, match="Reload the page"):
            EditToken.read(Gadget, raw, obj.pk, 5)
        with pytest.raises(BadEditToken, match="Reload the page"):
            PageToken.read(Gadget, page, 5)


@pytest.mark.django_db
def test_page_digest_is_keyed():
    """A plain hash of a low-entropy column could be reversed by hashing every candidate value."""
    obj = make(Gadget, status="won")
    page = PageToken.for_rows(Gadget, [obj], [], user=1)
    digest = page.rows[str(obj.pk)][1]
    with override_settings(FASTADMIN={"SIGNING_KEY": "another key"}):
        assert PageToken.for_rows(Gadget, [obj], [], user=1).rows[str(obj.pk)][1] != digest


@pytest.mark.django_db
def test_plain_save_bumps_the_version_in_sql():
    obj = make(Ticket)
    stale = Ticket.objects.get(pk=obj.pk)
    Ticket.objects.filter(pk=obj.pk).update(version=7)  # someone else's writes
    stale.city = "Bergen"
    with CaptureQueriesContext(connection) as queries:
        stale.save(update_fields=["city", "version"])
    assert '"version" = ("testapp_ticket"."version" + 1)' in queries[0]["sql"]
    assert Ticket.objects.get(pk=obj.pk).version == 8


@pytest.mark.django_db
def test_save_versioned_is_compare_and_set():
    obj = make(Ticket)
    copy = Ticket.objects.get(pk=obj.pk)
    obj.city = "Bergen"
    save_versioned(obj, ["city"])
    assert obj.version == 2
    copy.status = "won"
    with pytest.raises(StaleVersion):
        save_versioned(copy, ["status"])
    fresh = Ticket.objects.get(pk=obj.pk)
    assert (fresh.city, fresh.status, fresh.version) == ("Bergen", "new", 2)
    with pytest.raises(TypeError):
        save_versioned(make(Gadget))
