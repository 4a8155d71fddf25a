"""Sync benchmark: sustained writes through a real Celery worker into the fake Meilisearch server.

    FASTADMIN_SYNC_BENCH=1 [FASTADMIN_SYNC_BENCH_SECONDS=20] DATABASE_URL=... REDIS_URL=... \\
        .venv/bin/python -m pytest -q -s -p no:cacheprovider tests/test_meili_benchmark.py

Reports, as one JSON line: index lag from commit to the Meilisearch task that carried the row's
latest state succeeding (p50/p95/max), outbox throughput (rows/s from first commit to empty
outbox under the write load, and a 5,000-row backlog drained in 500-row batches), the time a save
spends writing its outbox row (p50/p95/max wall time of ``record()`` inside the save's transaction,
and its mean CPU time from ``time.process_time``, whose resolution is coarse per call) and the
time the on-commit enqueue of the drain takes (after the commit).
Skipped unless ``FASTADMIN_SYNC_BENCH`` is set (it runs for a while and needs Redis).
"""

from __future__ import annotations

import json
import os
import statistics
import time

import pytest
from django.db import transaction
from fastadmin.search_index import outbox, signals
from fastadmin.search_index.drain import drain
from shop.models import Lead

from fastadmin.models import SearchOutbox
from tests import test_meili_celery
from tests.test_meili_celery import INDEX, wait_for

worker = test_meili_celery.worker  # the real-worker fixture

pytestmark = pytest.mark.skipif(not os.environ.get("FASTADMIN_SYNC_BENCH"),
                                reason="a benchmark: set FASTADMIN_SYNC_BENCH=1 to run it")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_sync_benchmark(worker, monkeypatch):
    process, fake = worker
    process.start(beat=True)
    record_ms: list[float] = []
    record_cpu_ms: list[float] = []
    real_record = signals.record

    def timed_record(*args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return real_record(*args, **kwargs)
        finally:
            record_cpu_ms.append((time.process_time() - cpu) * 1000)
            record_ms.append((time.perf_counter() - start) * 1000)

    monkeypatch.setattr(signals, "record", timed_record)
    enqueue_ms: list[float] = []
    real_enqueue = outbox._enqueue_drain

    def timed_enqueue():
        start = time.perf_counter()
        try:
            real_enqueue()
        finally:
            enqueue_ms.append((time.perf_counter() - start) * 1000)

    monkeypatch.setattr(outbox, "_enqueue_drain", timed_enqueue)
    seconds = float(os.environ.get("FASTADMIN_SYNC_BENCH_SECONDS", "10"))
    last_commit: dict[str, float] = {}
    leads: list[Lead] = []
    first = time.monotonic()
    deadline = first + seconds
    i = 0
    while time.monotonic() < deadline:
        with transaction.atomic():  # as the admin's views save: the enqueue runs at commit
            if i % 3 == 0 or not leads:
                lead = Lead.objects.create(name=f"Bench {i}", email=f"bench{i}@example.com")
                leads.append(lead)
            else:
                lead = leads[i % len(leads)]
                lead.name = f"Bench {i} edited"
                lead.save(update_fields=["name"])
        last_commit[str(lead.pk)] = time.monotonic()
        i += 1
    wait_for(lambda: not SearchOutbox.objects.pending().exists(), timeout=300, what="the outbox to drain")
    drained_at = time.monotonic()
    documents = fake.docs(INDEX)
    lags = [(fake.applied_at[(INDEX, pk)] - committed) * 1000 for pk, committed in last_commit.items()]
    for lead in Lead.objects.all():
        assert documents[str(lead.pk)]["name"] == lead.name  # every committed write, in its latest state
    # Drain throughput alone: a backlog of rows (as after an outage) drained in 500-row batches.
    process.kill()
    backlog = int(os.environ.get("FASTADMIN_SYNC_BENCH_BACKLOG", "5000"))
    created = Lead.objects.bulk_create([Lead(name=f"Backlog {n}", email=f"b{n}@example.com") for n in range(backlog)])
    outbox.mark_dirty(Lead.objects.filter(pk__in=[lead.pk for lead in created]))
    start = time.monotonic()
    sent = drain(batch_size=500).sent
    drain_rate = sent / (time.monotonic() - start)
    assert sent == backlog and len(fake.docs(INDEX)) == Lead.objects.count()
    report = {
        "writes": i, "rows": len(last_commit), "seconds": round(seconds, 1),
        "lag_ms": {"p50": round(statistics.median(lags), 1), "p95": round(percentile(lags, 0.95), 1),
                   "max": round(max(lags), 1)},
        "outbox_rows_per_s_under_load": round(i / (drained_at - first), 1),
        "backlog_drain_rows_per_s": round(drain_rate, 1),
        "outbox_write_ms": {"p50": round(statistics.median(record_ms), 3),
                            "p95": round(percentile(record_ms, 0.95), 3), "max": round(max(record_ms), 3),
                            "cpu_mean": round(statistics.fmean(record_cpu_ms), 3)},
        "enqueue_after_commit_ms": {"p50": round(statistics.median(enqueue_ms), 3),
                                    "p95": round(percentile(enqueue_ms, 0.95), 3)},
    }
    print("\nSYNC BENCHMARK", json.dumps(report))
    assert min(lags) >= 0
