"""``manage.py search_reindex``: keyset build, replay of writes made during it, checked swap, --check."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from fastadmin.search_index.drain import drain
from fastadmin.search_index.reindex import ReindexBusy, reindex, reindex_lock
from shop.models import Lead

from tests.meili_helpers import *  # noqa: F403 - the fake and sidecar fixtures

pytestmark = pytest.mark.django_db
LIVE, FRESH = "t_shop_lead", "t_shop_lead__reindex"


def leads(n: int) -> list[Lead]:
    return [Lead.objects.create(name=f"Lead {i}", email=f"l{i}@example.com") for i in range(n)]


def test_reindex_builds_in_keyset_batches_then_swaps_and_deletes_the_old_index(sidecar):
    rows = leads(5)
    drain()
    sidecar.requests.clear()
    out = StringIO()
    call_command("search_reindex", "shop.Lead", "--batch-size", "2", stdout=out)
    writes = [(r.method, r.path) for r in sidecar.writes()]
    assert writes[0] == ("DELETE", f"/indexes/{FRESH}")  # a leftover of a crashed reindex, if any
    create = next(r for r in sidecar.writes("^/indexes$"))
    assert create.body == {"uid": FRESH, "primaryKey": "pk"}
    settings = sidecar.writes(f"{FRESH}/settings")
    batches = sidecar.writes(f"{FRESH}/documents$")
    assert settings and sidecar.requests.index(settings[0]) < sidecar.requests.index(batches[0])  # before import
    assert [[d["pk"] for d in r.body] for r in batches] == [[rows[0].pk, rows[1].pk], [rows[2].pk, rows[3].pk],
                                                            [rows[4].pk]]
    swap = sidecar.writes("swap-indexes")
    assert [r.body for r in swap] == [[{"indexes": [LIVE, FRESH]}]]
    assert writes[-1] == ("DELETE", f"/indexes/{FRESH}")
    assert next(t for t in sidecar.tasks if t["type"] == "indexSwap")["status"] == "succeeded"
    assert set(sidecar.docs(LIVE)) == {str(r.pk) for r in rows} and FRESH not in sidecar.indexes
    assert "5/5" in out.getvalue() and "index swapped" in out.getvalue()


def test_writes_made_during_the_build_are_present_after_the_swap(sidecar):
    rows = leads(4)
    drain()
    added: list[Lead] = []

    def write_during_build(done: int, total: int) -> None:
        if done == 2:  # after the first batch: change a row already copied, delete one, add one
            Lead.objects.filter(pk=rows[0].pk).update(name="Edited during reindex")
            fastadmin_search_index().mark_dirty(Lead.objects.filter(pk=rows[0].pk))
            rows[1].delete()
            added.append(Lead.objects.create(name="Created during reindex", email="new@example.com"))
            drain()  # the live drain runs meanwhile and marks these rows done

    reindex(Lead, batch_size=2, progress=write_during_build)
    documents = sidecar.docs(LIVE)
    assert set(documents) == {str(pk) for pk in Lead.objects.values_list("pk", flat=True)}
    assert documents[str(rows[0].pk)]["name"] == "Edited during reindex"
    assert str(rows[1].pk) not in documents and str(added[0].pk) in documents


def fastadmin_search_index():
    import fastadmin.search_index

    return fastadmin.search_index


def test_concurrent_reindex_of_one_model_is_refused(sidecar):
    held, release = threading.Event(), threading.Event()

    def other_reindex():  # another process's reindex, holding the lock the way reindex() does
        with reindex_lock("shop.lead", "default") as acquired:
            assert acquired
            held.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=other_reindex)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(ReindexBusy, match="already running"):
            reindex(Lead)
        with pytest.raises(CommandError, match="already running"):
            call_command("search_reindex", "shop.Lead", stdout=StringIO())
    finally:
        release.set()
        thread.join(10)
    assert sidecar.writes() == []


def test_reindex_lock_is_released_with_its_block_and_keeps_purge_off_the_model():
    """The lock lives in a transaction of its own connection (it must survive a transaction pooler)."""
    from datetime import timedelta

    from django.utils import timezone
    from fastadmin.search_index.drain import purge_done

    from fastadmin.models import SearchOutbox

    old = timezone.now() - timedelta(hours=2)
    SearchOutbox.objects.bulk_create([SearchOutbox(model=label, object_pk="1", op="upsert", done_at=old)
                                      for label in ("shop.lead", "shop.customer")])
    with reindex_lock("shop.lead", "default") as first:
        assert first
        with reindex_lock("shop.lead", "default") as second:
            assert not second  # refused even from this same process: it is not a re-entrant session lock
        assert purge_done(retention_s=60) == 1  # the customer row; the lead rows wait for the reindex
        assert list(SearchOutbox.objects.values_list("model", flat=True)) == ["shop.lead"]
    with reindex_lock("shop.lead", "default") as again:
        assert again
    assert purge_done(retention_s=60) == 1 and not SearchOutbox.objects.exists()


def test_failed_swap_task_is_an_error_and_the_live_index_stays(sidecar):
    rows = leads(2)
    drain()
    sidecar.fail_types.add("indexSwap")
    with pytest.raises(CommandError, match="indexSwap"):
        call_command("search_reindex", "shop.Lead", stdout=StringIO())
    assert set(sidecar.docs(LIVE)) == {str(r.pk) for r in rows}


def test_check_reports_drift_with_a_non_zero_exit(sidecar):
    rows = leads(3)
    drain()
    out = StringIO()
    call_command("search_reindex", "--check", "shop.Lead", stdout=out)
    assert "matches" in out.getvalue()
    Lead.objects.filter(pk=rows[0].pk).update(name="Changed behind the index's back")  # no mark_dirty
    Lead.objects.bulk_create([Lead(name="Unseen", email="unseen@example.com")])
    with pytest.raises(CommandError) as excinfo:
        call_command("search_reindex", "--check", "shop.Lead", stdout=out)
    assert excinfo.value.returncode == 1
    unseen = Lead.objects.get(name="Unseen")
    assert f"1 missing from the index: {unseen.pk}" in out.getvalue()
    assert f"1 documents differing: {rows[0].pk}" in out.getvalue()
    call_command("search_reindex", "shop.Lead", stdout=StringIO())
    call_command("search_reindex", "--check", "shop.Lead", stdout=out)
    assert out.getvalue().rstrip().endswith("shop.Lead: index matches the database.")
