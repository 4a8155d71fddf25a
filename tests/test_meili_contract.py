"""Contract tests: the official ``meilisearch`` client against the recording fake server.

They assert the exact index creation, settings, documents and deletes fastadmin sends, that outbox
rows are deleted only after Meilisearch reports the task succeeded, and the changelist's search.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from fastadmin.search_index.drain import drain
from fastadmin.search_index.outbox import mark_dirty
from shop.models import Customer, Lead, Order

from fastadmin.models import SearchOutbox
from tests.meili_helpers import *  # noqa: F403 - the fake and sidecar fixtures
from tests.meili_helpers import API_KEY

pytestmark = pytest.mark.django_db

LEAD_INDEX = "t_shop_lead"
LEAD_SETTINGS = {
    "searchableAttributes": ["name", "email", "phone"],
    "filterableAttributes": ["customer", "pk", "source", "status"],
    "sortableAttributes": ["created", "customer", "email", "name", "phone", "pk", "score", "source", "status"],
    "pagination": {"maxTotalHits": 10_000},  # MEILISEARCH["MAX_TOTAL_HITS"]'s default
}


def lead_doc(lead: Lead) -> dict:
    return {"pk": lead.pk, "name": lead.name, "email": lead.email, "phone": lead.phone, "status": lead.status,
            "source": lead.source, "customer": lead.customer_id, "score": lead.score,
            "created": lead.created.timestamp()}


def test_first_drain_creates_index_with_primary_key_and_settings_before_documents(sidecar):
    a = Lead.objects.create(name="Ada Lovelace", email="ada@example.com", score=90)
    b = Lead.objects.create(name="Alan Turing", email="alan@example.com", status="won")
    result = drain()
    assert result.sent == 2 and result.upserts == 2 and not result.failed
    writes = [(r.method, r.path, r.body) for r in sidecar.writes()]
    assert writes == [
        ("POST", "/indexes", {"uid": LEAD_INDEX, "primaryKey": "pk"}),
        ("PATCH", f"/indexes/{LEAD_INDEX}/settings", LEAD_SETTINGS),
        ("POST", f"/indexes/{LEAD_INDEX}/documents", [lead_doc(a), lead_doc(b)]),
    ]
    assert sidecar.writes("documents")[0].query == {"primaryKey": ["pk"]}
    # Every task was waited for (polled until it left enqueued/processing), and all succeeded.
    assert all(task["status"] == "succeeded" for task in sidecar.tasks)
    assert not SearchOutbox.objects.pending().exists()
    assert all(r.headers["Authorization"] == f"Bearer {API_KEY}" for r in sidecar.requests)


def test_settings_are_applied_once_and_not_resent_when_unchanged(sidecar):
    Lead.objects.create(name="One", email="one@example.com")
    drain()
    from fastadmin.search_index import drain as drain_module

    drain_module._applied.clear()  # a new worker process: compares, finds them equal, sends nothing
    Lead.objects.create(name="Two", email="two@example.com")
    drain()
    assert [r.path for r in sidecar.writes("settings")] == [f"/indexes/{LEAD_INDEX}/settings"]
    assert len(sidecar.writes("/indexes$")) == 1


def test_max_total_hits_is_the_index_pagination_setting_and_a_change_is_applied(sidecar):
    from django.test.utils import override_settings
    from fastadmin.search_index import drain as drain_module

    from tests.meili_helpers import sidecar_settings

    Lead.objects.create(name="One", email="one@example.com")
    drain()
    assert sidecar.indexes[LEAD_INDEX].settings["pagination"] == {"maxTotalHits": 10_000}
    with override_settings(FASTADMIN=sidecar_settings(sidecar.url, MAX_TOTAL_HITS=25_000)):
        drain_module._applied.clear()  # a worker started with the new setting
        Lead.objects.create(name="Two", email="two@example.com")
        drain()
    patches = [r.body for r in sidecar.writes("settings")]
    assert [body["pagination"] for body in patches] == [{"maxTotalHits": 10_000}, {"maxTotalHits": 25_000}]
    assert patches[1] == {**LEAD_SETTINGS, "pagination": {"maxTotalHits": 25_000}}
    assert sidecar.indexes[LEAD_INDEX].settings["pagination"] == {"maxTotalHits": 25_000}


def test_update_and_delete_send_current_row_and_delete_filter(sidecar):
    lead = Lead.objects.create(name="Grace", email="grace@example.com")
    gone = Lead.objects.create(name="Gone", email="gone@example.com")
    drain()
    lead.name = "Grace Hopper"
    lead.save()
    gone_pk = gone.pk
    gone.delete()
    drain()
    docs_sent = sidecar.writes("documents$")[-1].body
    assert docs_sent == [lead_doc(lead)]
    delete = sidecar.writes("documents/delete")[-1]
    assert delete.body == {"filter": f"pk IN [{gone_pk}]"}
    assert set(sidecar.docs(LEAD_INDEX)) == {str(lead.pk)}
    assert sidecar.docs(LEAD_INDEX)[str(lead.pk)]["name"] == "Grace Hopper"


def test_same_row_changed_twice_ends_with_its_latest_state(sidecar):
    lead = Lead.objects.create(name="v1", email="v@example.com")
    for version in ("v2", "v3"):
        lead.name = version
        lead.save()
    assert SearchOutbox.objects.pending().filter(object_pk=str(lead.pk)).count() == 3
    drain(batch_size=1)  # three batches, each re-reads the row
    assert sidecar.docs(LEAD_INDEX)[str(lead.pk)]["name"] == "v3"
    assert not SearchOutbox.objects.pending().exists()


def test_rolled_back_transaction_leaves_no_outbox_row_and_no_enqueue(sidecar, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            Lead.objects.create(name="Never", email="never@example.com")
            raise RuntimeError("rollback")
    assert not SearchOutbox.objects.pending().exists()
    assert callbacks == [] and sidecar.enqueued == []
    assert drain().sent == 0 and sidecar.writes() == []


def test_committed_save_enqueues_the_drain_on_commit_only(sidecar, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead = Lead.objects.create(name="Later", email="later@example.com")
        assert sidecar.enqueued == []  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert sidecar.enqueued == [1]
    rows = SearchOutbox.objects.pending().values_list("model", "object_pk", "op")
    assert list(rows) == [("shop.lead", str(lead.pk), "upsert")]


def test_related_row_change_reindexes_documents_reading_it(sidecar):
    customer = Customer.objects.create(name="Acme", email="acme@example.com")
    order = Order.objects.create(customer=customer, number="A-1", total=10)
    Order.objects.create(customer=Customer.objects.create(name="Other", email="o@example.com"), number="B-1", total=1)
    drain()
    customer.name = "Acme Renamed"
    customer.save()
    orders = SearchOutbox.objects.pending().filter(model="shop.order").values_list("object_pk", flat=True)
    assert set(orders) == {str(order.pk)}
    drain()
    assert sidecar.docs("t_shop_order")[str(order.pk)]["customer__name"] == "Acme Renamed"


def test_mark_dirty_covers_queryset_update_without_loading_rows(sidecar, django_assert_max_num_queries):
    leads = [Lead.objects.create(name=f"L{i}", email=f"l{i}@example.com") for i in range(5)]
    drain()
    queryset = Lead.objects.filter(status="new")
    with django_assert_max_num_queries(2):  # INSERT ... SELECT for leads, none for dependents
        mark_dirty(queryset)
    queryset.update(status="contacted")
    drain()
    assert {d["status"] for d in sidecar.docs(LEAD_INDEX).values()} == {"contacted"}
    assert len(sidecar.docs(LEAD_INDEX)) == len(leads)


def test_failed_task_keeps_rows_and_backs_off(sidecar):
    lead = Lead.objects.create(name="Retry", email="retry@example.com")
    drain()
    lead.name = "Retry 2"
    lead.save()
    sidecar.fail_tasks = 1
    result = drain()
    assert result.failed == ["shop.lead"] and result.sent == 0
    row = SearchOutbox.objects.pending().get()
    assert row.attempts == 1 and row.not_before > row.created
    assert drain().sent == 0  # still backing off
    SearchOutbox.objects.pending().update(not_before=row.created)
    assert drain().sent == 1
    assert sidecar.docs(LEAD_INDEX)[str(lead.pk)]["name"] == "Retry 2"


def test_meilisearch_down_keeps_rows_and_the_key_out_of_logs(sidecar, caplog):
    Lead.objects.create(name="Down", email="down@example.com")
    sidecar.down = True
    result = drain()
    assert result.failed == ["shop.lead"]
    assert SearchOutbox.objects.pending().get().attempts == 1
    assert "shop.lead" in caplog.text and API_KEY not in caplog.text
    # More writes while it is down, then it is back: once the backoff has passed, nothing is lost.
    kept = Lead.objects.create(name="Written while down", email="wwd@example.com")
    Lead.objects.filter(name="Down").delete()
    assert drain().failed == ["shop.lead"] and SearchOutbox.objects.pending().count() == 3
    sidecar.down = False
    SearchOutbox.objects.pending().update(not_before=SearchOutbox.objects.earliest("created").created)
    assert drain().sent == 3 and not SearchOutbox.objects.pending().exists()
    assert sidecar.docs(LEAD_INDEX) == {str(kept.pk): lead_doc(kept)}  # the index equals the database


def test_broker_down_at_commit_loses_nothing_the_sweep_delivers(fake, monkeypatch, caplog,
                                                               django_capture_on_commit_callbacks):
    """The enqueue fails (broker down): the save still succeeds and the sweep sends the row."""
    import fastadmin.tasks
    from django.test.utils import override_settings
    from kombu.exceptions import OperationalError

    from tests.meili_helpers import sidecar_settings

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(fastadmin.tasks.drain_search_outbox, "apply_async", broker_down)
    with override_settings(FASTADMIN=sidecar_settings(fake.url)):
        with django_capture_on_commit_callbacks(execute=True):
            lead = Lead.objects.create(name="Broker down", email="bd@example.com")
        assert "the sweep will" in caplog.text
        assert SearchOutbox.objects.pending().count() == 1
        summary = fastadmin.tasks.sweep_search_outbox()
        assert summary["sent"] == 1 and not summary["failed"]
        assert fake.docs(LEAD_INDEX)[str(lead.pk)]["name"] == "Broker down"


def test_sweep_is_added_to_beat_only_when_configured():
    from celery import Celery
    from django.test.utils import override_settings
    from fastadmin.tasks import add_sweep_to_beat

    app = Celery("probe", set_as_current=False)
    assert add_sweep_to_beat(app) is False and app.conf.beat_schedule == {}
    with override_settings(FASTADMIN={"MEILISEARCH": {"URL": "http://127.0.0.1:7700", "SWEEP_INTERVAL_S": 15}}):
        assert add_sweep_to_beat(app) is True
        assert app.conf.beat_schedule == {"fastadmin.tasks.sweep_search_outbox": {
            "task": "fastadmin.tasks.sweep_search_outbox", "schedule": 15.0}}
        assert add_sweep_to_beat(app) is False  # already scheduled (by fastadmin or the project)
