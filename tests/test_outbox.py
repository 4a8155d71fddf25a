"""The outbox writers (signals, relations, m2m) and the drain's claiming under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.db import connection, connections, transaction
from django.db.models.signals import post_delete
from django.test.utils import override_settings
from fastadmin.search_index.drain import drain
from shop.models import Customer, Lead, Order

import fastadmin
from fastadmin.models import SearchOutbox
from tests.meili_helpers import *  # noqa: F403 - the fake and sidecar fixtures
from tests.meili_helpers import sidecar_settings
from tests.testapp.models import Category, Gadget, Note


def outbox() -> set[tuple[str, str, str]]:
    return set(SearchOutbox.objects.pending().values_list("model", "object_pk", "op"))


@pytest.mark.django_db
def test_receivers_are_connected_to_indexed_and_related_models_only(sidecar):
    # Note is neither indexed nor read by an index: its deletes keep Django's fast path.
    assert not post_delete.has_listeners(Note)
    assert post_delete.has_listeners(Lead) and post_delete.has_listeners(Customer)
    with override_settings(FASTADMIN={}):
        assert not post_delete.has_listeners(Lead)  # sidecar off: nothing connected


@pytest.mark.django_db
def test_delete_of_a_related_row_reindexes_dependents_before_set_null(sidecar):
    customer = Customer.objects.create(name="Parent", email="parent@example.com")
    lead = Lead.objects.create(name="Child", email="child@example.com", customer=customer)
    SearchOutbox.objects.all().delete()
    customer.delete()  # Lead.customer is SET_NULL: Django updates the leads without a signal
    assert ("shop.lead", str(lead.pk), "upsert") in outbox()
    drain()
    assert sidecar.docs("t_shop_lead")[str(lead.pk)]["customer"] is None


@pytest.mark.django_db
def test_queryset_delete_and_bulk_create_are_seen_or_coverable(sidecar):
    leads = Lead.objects.bulk_create([Lead(name=f"B{i}", email=f"b{i}@example.com") for i in range(3)])
    assert outbox() == set()  # bulk_create sends no signal: mark_dirty covers it
    fastadmin.search_index.mark_dirty(Lead.objects.filter(pk__in=[lead.pk for lead in leads]))
    drain()
    assert len(sidecar.docs("t_shop_lead")) == 3
    Lead.objects.filter(pk=leads[0].pk).delete()  # QuerySet.delete sends post_delete per row
    assert outbox() == {("shop.lead", str(leads[0].pk), "delete")}
    drain()
    assert set(sidecar.docs("t_shop_lead")) == {str(leads[1].pk), str(leads[2].pk)}


@pytest.fixture
def gadget_index(fake, monkeypatch) -> Iterator:
    """A site whose Gadget admin searches ``tags__name`` (many-to-many) through Meilisearch."""
    site = fastadmin.FastAdminSite(name="meili_m2m")

    class GadgetSearch(fastadmin.ModelAdmin):
        search_fields = ["name", "tags__name"]
        search_backend = "meilisearch"

    site.register(Gadget, GadgetSearch)
    monkeypatch.setattr("fastadmin.search_index.outbox._enqueue_drain", lambda: None)
    settings = sidecar_settings(fake.url)
    settings.pop("SEARCH_BACKEND")
    try:
        with override_settings(FASTADMIN=settings):
            yield fake
    finally:
        site.unregister(Gadget)


@pytest.mark.django_db
def test_m2m_add_remove_clear_and_related_rename_reach_the_index(gadget_index):
    red, blue = Category.objects.create(name="red"), Category.objects.create(name="blue")
    gadget = Gadget.objects.create(name="Widget")
    gadget.tags.add(red, blue)
    drain()
    assert sorted(gadget_index.docs("t_testapp_gadget")[str(gadget.pk)]["tags__name"]) == ["blue", "red"]
    gadget.tags.remove(blue)
    drain()
    assert gadget_index.docs("t_testapp_gadget")[str(gadget.pk)]["tags__name"] == "red"
    red.name = "crimson"
    red.save()  # a related row: the gadgets reading it are marked
    drain()
    assert gadget_index.docs("t_testapp_gadget")[str(gadget.pk)]["tags__name"] == "crimson"
    gadget.tags.clear()
    drain()
    assert gadget_index.docs("t_testapp_gadget")[str(gadget.pk)]["tags__name"] is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_send_every_row_once_and_claim_by_state(sidecar):
    """Two drains at once (SKIP LOCKED + per-index lock), and a row whose id is lower than rows
    already drained but which commits later (ids are assigned before commit) is still sent."""
    early = threading.Event()
    done = threading.Event()

    def slow_writer():
        with transaction.atomic():
            Lead.objects.create(name="Committed late", email="late@example.com")  # takes the lower id
            early.set()
            done.wait(10)
        connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert early.wait(10)
    for i in range(40):
        Lead.objects.create(name=f"Row {i}", email=f"r{i}@example.com")
    results = []

    def run_drain():
        results.append(drain(batch_size=7))
        connections.close_all()

    threads = [threading.Thread(target=run_drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(r.sent for r in results) == 40 and not any(r.failed for r in results)
    done.set()
    writer.join(10)
    assert drain().sent == 1  # the late commit, despite its lower id
    documents = sidecar.docs("t_shop_lead")
    assert len(documents) == 41 == Lead.objects.count()
    uploads = [doc["pk"] for r in sidecar.writes("documents$") for doc in r.body]
    assert len(uploads) == len(set(uploads)) == 41  # nothing sent twice
    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_order_document_reads_customer_through_fk(sidecar):
    customer = Customer.objects.create(name="Reader", email="reader@example.com", country="DE")
    order = Order.objects.create(customer=customer, number="N-1", total=5)
    drain()
    doc = sidecar.docs("t_shop_order")[str(order.pk)]
    assert doc["customer__name"] == "Reader" and doc["customer__country"] == "DE"
    assert doc["customer__email"] == "reader@example.com" and doc["customer"] == customer.pk
    assert "note" not in doc  # only the fields the admin declares


@pytest.mark.django_db
def test_chunked_delete_action_reaches_the_index(sidecar, superuser, monkeypatch):
    """fastadmin's chunked delete runs ``delete_queryset`` per chunk: the indexed model has delete
    receivers, so Django deletes row by row with signals, each chunk writing its outbox rows."""
    from django.test import RequestFactory

    from fastadmin.deletion import delete_in_chunks

    monkeypatch.setattr("fastadmin.deletion.CHUNK_SIZE", 2)
    rows = [Lead.objects.create(name=f"Del {i}", email=f"d{i}@example.com") for i in range(5)]
    drain()
    request = RequestFactory().post("/admin/shop/lead/")
    request.user = superuser
    admin = fastadmin.site.get_model_admin(Lead)
    assert delete_in_chunks(admin, request, Lead.objects.filter(pk__in=[r.pk for r in rows[:3]])) == 3
    drain()
    assert set(sidecar.docs("t_shop_lead")) == {str(rows[3].pk), str(rows[4].pk)}


@pytest.mark.django_db
def test_update_rows_reaches_the_index(sidecar):
    lead = Lead.objects.create(name="Bulk", email="bulk@example.com")
    drain()
    fastadmin.update_rows(Lead.objects.filter(status="new"), status="won")
    drain()
    assert sidecar.docs("t_shop_lead")[str(lead.pk)]["status"] == "won"
