"""The sidecar through a real Celery worker process and a real Redis broker.

The worker (``celery -A example_project worker -B``) runs with ``tests.settings_meili`` against this
test run's database and the fake Meilisearch server; the broker is Redis on the host of ``REDIS_URL``,
database ``REDIS_URL``'s number + 8 (parallel runs with their own numbers use their own). Skipped,
saying why, without Redis, except the embedded-broker test (Kombu's filesystem transport).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from celery import Celery, current_app
from django.db import connection, transaction
from django.test.utils import override_settings
from shop.models import Lead

from fastadmin.models import SearchOutbox
from tests.celery_worker import CeleryWorker, wait_for
from tests.meili_fake import FakeMeilisearch
from tests.meili_helpers import API_KEY, sidecar_settings

REPO = Path(__file__).resolve().parent.parent
#: The broker's Redis database is REDIS_URL's own number plus this: parallel runs with their own
#: REDIS_URL numbers (0-7) never consume each other's messages, and the cache's keys stay apart.
BROKER_DB_OFFSET = 8
INDEX = "t_shop_lead"


def broker_url() -> str:
    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    own = int(parts.path.strip("/") or 0)
    return f"redis://{parts.netloc}/{(own + BROKER_DB_OFFSET) % 16}"


def database_url(settings_db: dict) -> str:
    """This run's test database as a URL the worker's settings parse; a socket directory (the
    embedded server's) goes in ``?host=``, where a URL's host part cannot hold it."""
    user = quote(settings_db["USER"] or "", safe="")
    password = quote(settings_db["PASSWORD"] or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    host, port, name = settings_db["HOST"] or "", settings_db["PORT"] or "", quote(settings_db["NAME"], safe="")
    if host.startswith("/"):
        return f"postgresql://{auth}:{port}/{name}?host={quote(host, safe='/')}" if port else \
            f"postgresql://{auth}/{name}?host={quote(host, safe='/')}"
    return f"postgresql://{auth}{host}:{port}/{name}" if port else f"postgresql://{auth}{host}/{name}"


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(broker_url(), socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis broker at {broker_url()} ({exc}); CI runs one at 127.0.0.1:6379")
    return client


class Worker(CeleryWorker):
    """The worker with ``tests.settings_meili`` and the fake Meilisearch server."""

    def __init__(self, fake: FakeMeilisearch, tmp: Path, broker: str | None = None,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(tmp, "meili-test")
        self.fake, self.broker, self.env = fake, broker or broker_url(), env or {}

    def start(self, beat: bool = False) -> None:
        self.spawn({"DJANGO_SETTINGS_MODULE": "tests.settings_meili", "CELERY_BROKER_URL": self.broker,
                    "DATABASE_URL": database_url(connection.settings_dict),
                    "FASTADMIN_TEST_MEILI_URL": self.fake.url, "FASTADMIN_TEST_MEILI_KEY": API_KEY,
                    **self.env}, beat)


@contextmanager
def publishing_to(broker: str, **conf: Any) -> Iterator[Celery]:
    """This process enqueues (on commit) through an app of its own on ``broker``: the shared tasks
    resolve to the current app, and in other threads (the live server's) to the default app, so the
    publisher is both. The previous current app is restored afterwards, and made the default."""
    previous = current_app._get_current_object()
    publisher = Celery("fastadmin_test_publisher", broker=broker, set_as_current=True)
    publisher.conf.update(conf)
    publisher.set_default()
    try:
        yield publisher
    finally:
        publisher.close()
        previous.set_current()
        previous.set_default()


@pytest.fixture
def worker(transactional_db, tmp_path) -> Iterator[tuple[Worker, FakeMeilisearch]]:
    broker = _redis_or_skip()
    broker.flushdb()  # this run's own database: stale messages of an earlier run
    fake = FakeMeilisearch(api_key=API_KEY).start()
    process = Worker(fake, tmp_path)
    with override_settings(FASTADMIN=sidecar_settings(fake.url, SWEEP_INTERVAL_S=1)), publishing_to(broker_url()):
        try:
            yield process, fake
        finally:
            process.kill()
            fake.stop()


def test_committed_save_reaches_meilisearch_through_the_worker(worker):
    process, fake = worker
    process.start()
    lead = Lead.objects.create(name="Through Celery", email="celery@example.com")  # autocommit: committed
    wait_for(lambda: str(lead.pk) in fake.docs(INDEX), what="the document")
    assert fake.docs(INDEX)[str(lead.pk)]["name"] == "Through Celery"
    wait_for(lambda: not SearchOutbox.objects.pending().exists(), what="the outbox to empty")


def test_rolled_back_save_never_reaches_meilisearch(worker):
    process, fake = worker
    process.start()
    with pytest.raises(RuntimeError), transaction.atomic():
        Lead.objects.create(name="Rolled back", email="rb@example.com")
        raise RuntimeError
    kept = Lead.objects.create(name="Committed after", email="after@example.com")
    wait_for(lambda: str(kept.pk) in fake.docs(INDEX), what="the later document")
    assert [d["name"] for d in fake.docs(INDEX).values()] == ["Committed after"]
    wait_for(lambda: not SearchOutbox.objects.pending().exists(), what="the outbox to empty")
    assert [d["name"] for d in fake.docs(INDEX).values()] == ["Committed after"]


def test_worker_killed_mid_drain_loses_nothing_once_the_sweep_runs(worker):
    process, fake = worker
    process.start()
    fake.hold = True  # Meilisearch never finishes the task: the worker sits in wait_for_task
    fake.polled.clear()
    lead = Lead.objects.create(name="Survivor", email="survivor@example.com")
    assert fake.polled.wait(30), process.log.read_text()
    process.kill(signal.SIGKILL)  # mid-batch: rows claimed, documents sent, task not yet succeeded
    assert list(SearchOutbox.objects.pending().values_list("object_pk", "attempts")) == [(str(lead.pk), 0)]
    lead.name = "Survivor, edited while no worker ran"
    # A raw update (no signal, no outbox row): the drain still sends it, since it re-reads the row.
    Lead.objects.filter(pk=lead.pk).update(name=lead.name)
    fake.hold = False
    fake.requests.clear()
    # A fresh worker with beat: the sweep (every SWEEP_INTERVAL_S=1) drains what the killed one held.
    process.start(beat=True)
    wait_for(lambda: not SearchOutbox.objects.pending().exists(), what="the sweep to drain the outbox")
    assert fake.docs(INDEX)[str(lead.pk)]["name"] == lead.name
    assert "Task fastadmin.tasks.sweep_search_outbox[" in process.log.read_text()  # beat scheduled it


def test_embedded_filesystem_broker_as_make_demo_runs_it(transactional_db, tmp_path):
    """No Redis: ``celery -A example_project worker -B`` on Kombu's filesystem transport, as ``make
    demo`` starts it, registers fastadmin's tasks and indexes a committed save."""
    from example_project.broker import filesystem_transport_options

    fake = FakeMeilisearch(api_key=API_KEY).start()
    folder = tmp_path / "broker"
    process = Worker(fake, tmp_path, broker="filesystem://", env={"CELERY_BROKER_DIR": str(folder)})
    with override_settings(FASTADMIN=sidecar_settings(fake.url, SWEEP_INTERVAL_S=1)), \
            publishing_to("filesystem://", broker_transport_options=filesystem_transport_options(folder)):
        try:
            process.start(beat=True)
            log = process.log.read_text()
            assert "transport:   filesystem://" in log
            for name in ("drain_search_outbox", "sweep_search_outbox", "search_reindex"):
                assert f"fastadmin.tasks.{name}" in log  # the banner's [tasks] list
            lead = Lead.objects.create(name="Embedded broker", email="embedded@example.com")
            wait_for(lambda: str(lead.pk) in fake.docs(INDEX), what="the document")
            wait_for(lambda: not SearchOutbox.objects.pending().exists(), what="the outbox to empty")
            wait_for(lambda: "Task fastadmin.tasks.sweep_search_outbox[" in process.log.read_text(), 20,
                     "beat to run the sweep")
        finally:
            process.kill()
            fake.stop()


@pytest.mark.parametrize("settings_db", [
    {"USER": "postgres", "PASSWORD": "", "HOST": "/tmp/x/.pgdata", "PORT": "5433", "NAME": "test_postgres"},
    {"USER": "postgres", "PASSWORD": "p@ss:w", "HOST": "127.0.0.1", "PORT": "5432", "NAME": "test_x"},
])
def test_the_worker_gets_this_runs_database(settings_db):
    """The worker must reach the embedded server's socket directory too (CI's first run)."""
    from example_project.devdb import parse_database_url

    parsed = parse_database_url(database_url(settings_db))
    assert {key: parsed[key] for key in settings_db} == settings_db
