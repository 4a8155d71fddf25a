"""Fixtures shared by the Meilisearch sidecar tests (contract, outbox, Celery)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test.utils import override_settings
from fastadmin.search_index import drain as drain_module

from tests.meili_fake import FakeMeilisearch

API_KEY = "sk-test-0123456789abcdef"


def sidecar_settings(url: str, **extra) -> dict:
    return {"SEARCH_BACKEND": "meilisearch",
            "MEILISEARCH": {"URL": url, "API_KEY": API_KEY, "TIMEOUT_S": 2, "INDEX_PREFIX": "t_", **extra}}


@pytest.fixture
def fake() -> Iterator[FakeMeilisearch]:
    server = FakeMeilisearch(api_key=API_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def sidecar(fake, monkeypatch) -> Iterator[FakeMeilisearch]:
    """Every fastadmin admin searches through ``fake``; enqueues are recorded, not sent to a broker."""
    enqueued: list[int] = []
    monkeypatch.setattr("fastadmin.search_index.outbox._enqueue_drain", lambda: enqueued.append(1))
    drain_module._applied.clear()
    fake.enqueued = enqueued
    with override_settings(FASTADMIN=sidecar_settings(fake.url)):
        yield fake
    drain_module._applied.clear()


__all__ = ["fake", "sidecar"]
