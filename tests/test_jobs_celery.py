"""Background actions through a real Celery worker process and a real Redis broker (``REDIS_URL``).

The worker (``celery -A example_project worker``, solo pool, with ``-B`` where the sweep matters) runs
``tests.settings_jobs`` against this run's database; the test process posts the action over HTTP and
publishes on commit to the same broker. A worker SIGKILLed mid-job is replaced, and the sweep hands
the job to the new one: every row ends ``price + 1`` exactly once. Skipped, saying why, without Redis.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from fastadmin.models import Job
from tests.celery_worker import CeleryWorker, wait_for
from tests.locking_helpers import make, person
from tests.test_jobs import GADGETS, job_of, start
from tests.test_meili_celery import broker_url, database_url, publishing_to
from tests.testapp.models import Gadget

ROWS = 240


class Worker(CeleryWorker):
    def start(self, jobs: str, beat: bool = False) -> None:
        """``jobs``: the worker's ``chunk,pause_s,heartbeat_s,sweep_s`` (see tests/settings_jobs.py)."""
        self.spawn({"DJANGO_SETTINGS_MODULE": "tests.settings_jobs", "FASTADMIN_TEST_JOBS": jobs,
                    "DATABASE_URL": database_url(connection.settings_dict), "CELERY_BROKER_URL": broker_url()},
                   beat)


@pytest.fixture
def worker(transactional_db, tmp_path) -> Iterator[Worker]:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(broker_url(), socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis broker at {broker_url()} ({exc}); CI runs one at 127.0.0.1:6379")
    process = Worker(tmp_path, "jobs-test")
    # The test process publishes (on commit) to the worker's broker, through a current app of its own.
    with override_settings(FASTADMIN={"BACKGROUND_ACTION_THRESHOLD": 10}), publishing_to(broker_url()):
        try:
            yield process
        finally:
            process.kill()


def job_state() -> tuple[str, int]:
    job = Job.objects.get()
    return job.status, job.done


def prices() -> dict[Decimal, int]:
    out: dict[Decimal, int] = {}
    for price in Gadget.objects.values_list("price", flat=True):
        out[price] = out.get(price, 0) + 1
    return out


def test_select_across_update_runs_in_the_worker_and_updates_each_row_once(worker):
    for i in range(ROWS):
        make(Gadget, name=f"g{i:03d}", price="1.00", status="won" if i % 4 == 0 else "new")
    worker.start("25,0,30,15")
    alice = person("alice")
    job = job_of(start(alice, GADGETS + "?status__exact=new", "update_raise_price", [Gadget.objects.last().pk]))
    wait_for(lambda: job_state()[0] == Job.DONE, 60, "the job to finish")
    assert Job.objects.get().done == ROWS * 3 // 4
    assert dict(Gadget.objects.filter(status="new").values_list("price", "status").distinct()) == {
        Decimal("2.00"): "new"}
    assert set(Gadget.objects.filter(status="won").values_list("price", flat=True)) == {Decimal("1.00")}
    data = alice.get(f"/admin/fastadmin/job/{job.pk}/change/?format=json").json()
    assert (data["status"], data["done"], data["total"], data["errors"]) == ("done", 180, 180, [])
    assert "fastadmin.tasks.run_job" in worker.log.read_text()


def slow_job(worker: Worker, jobs: str, done: int):
    """ROWS gadgets and a select-across "Raise price" job, ``done`` rows into it."""
    for i in range(ROWS):
        make(Gadget, name=f"g{i:03d}", price="1.00")
    worker.start(jobs)
    alice = person("alice")
    job = job_of(start(alice, GADGETS, "update_raise_price", [Gadget.objects.first().pk]))
    wait_for(lambda: job_state()[1] >= done, 60, f"{done} rows to commit")
    return alice, job


def test_worker_killed_mid_job_resumes_after_restart_and_applies_each_row_exactly_once(worker):
    # Chunks of 10 rows, 0.3 s apart: the job takes ~7 s, long enough to be killed in the middle.
    slow_job(worker, "10,0.3,2,1", 50)
    worker.kill(signal.SIGKILL)
    status, done = job_state()
    assert status == Job.RUNNING and 50 <= done < ROWS, (status, done)
    assert prices() == {Decimal("2.00"): done, Decimal("1.00"): ROWS - done}  # committed chunks exactly
    # A new worker with beat: the sweep (every 1 s) finds the heartbeat older than 2 s and re-enqueues.
    worker.start("10,0,2,1", beat=True)
    wait_for(lambda: job_state()[0] == Job.DONE, 60, "the resumed job to finish")
    assert prices() == {Decimal("2.00"): ROWS}  # every row once: none lost, none twice
    final = Job.objects.get()
    assert (final.done, final.skipped, final.error_count) == (ROWS, 0, 0)
    assert "fastadmin.tasks.sweep_jobs" in worker.log.read_text()


def test_cancel_stops_the_running_job_between_chunks(worker):
    alice, job = slow_job(worker, "10,0.3,30,15", 20)
    response = alice.post(f"/admin/fastadmin/job/{job.pk}/cancel/")
    assert response.status_code == 302
    wait_for(lambda: "stopped: cancelled" in worker.log.read_text(), 30, "the run to notice")
    status, done = job_state()
    assert status == Job.CANCELLED and done < ROWS
    assert prices() == {Decimal("2.00"): done, Decimal("1.00"): ROWS - done}
