"""The sidecar against a real Meilisearch server: runs when ``MEILI_URL`` is set (and
``MEILI_MASTER_KEY`` when the server has one), skipped otherwise. Indexes use a per-run prefix and
are deleted afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.test.utils import override_settings
from fastadmin.search_index import drain as drain_module
from fastadmin.search_index import sidecar
from fastadmin.search_index.drain import drain
from shop.models import Lead

from fastadmin.models import SearchOutbox
from tests.helpers import row_pks

pytestmark = [
    pytest.mark.skipif(not os.environ.get("MEILI_URL"),
                       reason="MEILI_URL is not set: no Meilisearch server to test against (the contract "
                              "tests in test_meili_contract.py cover the protocol with a fake server)"),
    pytest.mark.django_db,
]


@pytest.fixture
def real(monkeypatch) -> Iterator[str]:
    prefix = f"fa_it_{uuid.uuid4().hex[:8]}_"
    monkeypatch.setattr("fastadmin.search_index.outbox._enqueue_drain", lambda: None)
    drain_module._applied.clear()
    settings = {"SEARCH_BACKEND": "meilisearch",
                "MEILISEARCH": {"URL": os.environ["MEILI_URL"], "API_KEY": os.environ.get("MEILI_MASTER_KEY"),
                                "INDEX_PREFIX": prefix, "TIMEOUT_S": 10}}
    with override_settings(FASTADMIN=settings):
        yield prefix
        client = sidecar.client()
        for index in client.get_indexes({"limit": 1000})["results"]:
            if index.uid.startswith(prefix):
                client.wait_for_task(client.delete_index(index.uid).task_uid)
    drain_module._applied.clear()


def documents(uid: str) -> dict[str, dict]:
    result = sidecar.client().index(uid).get_documents({"limit": 1000})
    return {str(dict(doc)["pk"]): dict(doc) for doc in result.results}


def test_real_server_receives_upserts_deletes_and_settings(real):
    keep = Lead.objects.create(name="Real Ada", email="ada@real.example")
    gone = Lead.objects.create(name="Real Gone", email="gone@real.example")
    drain()
    uid = f"{real}shop_lead"
    index = sidecar.client().get_index(uid)
    assert index.primary_key == "pk"
    assert sorted(index.get_filterable_attributes()) == ["customer", "pk", "source", "status"]
    gone.delete()
    keep.name = "Real Ada Lovelace"
    keep.save()
    drain()
    assert set(documents(uid)) == {str(keep.pk)}
    assert documents(uid)[str(keep.pk)]["name"] == "Real Ada Lovelace"
    assert not SearchOutbox.objects.pending().exists()


def test_real_server_typo_tolerant_search_in_the_changelist(real, admin_client):
    lead = Lead.objects.create(name="Margaret Hamilton", email="mh@real.example")
    Lead.objects.create(name="Someone Else", email="se@real.example")
    drain()
    response = admin_client.get("/admin/shop/lead/", {"q": "Hamliton"})  # a typo
    assert response.status_code == 200
    assert row_pks(response) == [lead.pk]
