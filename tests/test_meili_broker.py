"""A broker stopped for a while loses nothing once it is back.

A private ``redis-server`` on a free port is the broker of a real Celery worker (with beat) and of
this test process; it is killed (SIGKILL: its queued messages are lost with it) while rows are
written, then started again on the same port. The saves made meanwhile succeed (the on-commit
enqueue fails quietly), their outbox rows wait, and the beat-scheduled sweep drains them: the index
ends equal to the database. The shared Redis of the machine is never touched.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test.utils import override_settings
from fastadmin.search_index.documents import spec_for
from shop.models import Lead

from fastadmin.models import SearchOutbox
from tests.meili_fake import FakeMeilisearch
from tests.meili_helpers import API_KEY, sidecar_settings
from tests.test_meili_celery import INDEX, Worker, publishing_to, wait_for

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A throw-away ``redis-server`` without persistence: killing it loses every queued message."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.tmp, self.proc = free_port(), tmp, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)],
            stdout=(self.tmp / "redis.log").open("a"), stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False
        wait_for(answers, 20, f"redis-server on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def outage(transactional_db, tmp_path) -> Iterator[tuple[Worker, FakeMeilisearch, PrivateRedis]]:
    if REDIS_SERVER is None:
        pytest.skip("the redis-server binary is not installed (apt install redis-server); it runs the private broker")
    broker = PrivateRedis(tmp_path)
    broker.start()
    fake = FakeMeilisearch(api_key=API_KEY).start()
    process = Worker(fake, tmp_path, broker=broker.url)
    with override_settings(FASTADMIN=sidecar_settings(fake.url, SWEEP_INTERVAL_S=1)), publishing_to(broker.url):
        try:
            yield process, fake, broker
        finally:
            process.kill()
            broker.kill()
            fake.stop()


def index_equals_database(fake: FakeMeilisearch) -> bool:
    spec = spec_for(Lead)
    expected = {str(doc["pk"]): json.loads(json.dumps(doc))
                for doc in spec.documents(list(Lead.objects.values_list("pk", flat=True)))}
    return fake.docs(INDEX) == expected


def test_broker_killed_while_rows_are_written_loses_nothing_once_it_is_back(outage, caplog, monkeypatch):
    process, fake, broker = outage
    process.start(beat=True)
    before = [Lead.objects.create(name=f"Before {n}", email=f"before{n}@example.com") for n in range(3)]
    # Indexed and marked done: the worker marks its outbox rows after Meilisearch's task succeeded.
    wait_for(lambda: len(fake.docs(INDEX)) == 3 and not SearchOutbox.objects.pending().exists(),
             what="the worker to index the first rows")

    broker.kill()
    caplog.set_level(logging.WARNING, "fastadmin.search_index")
    slept: list[float] = []
    started = time.monotonic()
    with monkeypatch.context() as patch:
        # Kombu's connection retries sleep here (2 s, 4 s, ... per publish by default).
        patch.setattr("kombu.utils.functional.sleep", slept.append)
        during = [Lead.objects.create(name=f"During {n}", email=f"during{n}@example.com") for n in range(5)]
        before[0].name = "Before 0, renamed while the broker was down"
        before[0].save()
        deleted = str(before[1].pk)
        before[1].delete()
    seconds = time.monotonic() - started
    assert slept == []  # no save waited for the broker: one connection attempt, then the sweep's turn
    # Every save committed; each enqueue failed quietly and said so.
    assert Lead.objects.filter(pk__in=[lead.pk for lead in during]).count() == 5
    assert caplog.text.count("Could not enqueue the search outbox drain") == 7, caplog.text
    pending = set(SearchOutbox.objects.pending().values_list("object_pk", flat=True))
    assert pending == {str(lead.pk) for lead in [*during, before[0]]} | {deleted}
    assert not index_equals_database(fake)

    broker.start()  # same port, empty: the messages queued before the kill are gone
    wait_for(lambda: not SearchOutbox.objects.pending().exists(), 90, "the sweep to drain the outbox")
    assert index_equals_database(fake)
    docs = fake.docs(INDEX)
    assert deleted not in docs and docs[str(before[0].pk)]["name"] == before[0].name
    assert "Task fastadmin.tasks.sweep_search_outbox[" in process.log.read_text()
    print(f"\n8 writes with the broker down took {seconds * 1000:.0f} ms in all")
