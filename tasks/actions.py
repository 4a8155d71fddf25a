"""Celery tasks of background actions (:mod:`fastadmin.jobs`): one job run, and the periodic sweep.

Delivery does not rely on the broker: a worker SIGKILLed mid-job leaves its message unacknowledged
(Redis hands it out again only after the visibility timeout, an hour by default) or acknowledged
(``acks_late`` off). Either way the job's heartbeat goes stale and :func:`sweep_jobs`, which fastadmin
adds to beat (every ``JOB_SWEEP_INTERVAL_S``), enqueues it again; a late duplicate claims nothing.
"""

from __future__ import annotations

from typing import Any

from celery import current_app, shared_task

SWEEP_TASK = "fastadmin.tasks.sweep_jobs"


@shared_task(name="fastadmin.tasks.run_job", ignore_result=True)
def run_job(job_id: int) -> str:
    from fastadmin.jobs.runner import run

    return run(job_id)


@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep_jobs() -> list[int]:
    from fastadmin.jobs.runner import sweep

    return sweep()


def add_job_sweep_to_beat(app: Any = None) -> bool:
    """Schedule :func:`sweep_jobs` on ``app`` (the current app by default) unless the project did."""
    from fastadmin.conf import fa_settings

    app = app or current_app
    schedule = app.conf.beat_schedule
    if any(entry.get("task") == SWEEP_TASK for entry in schedule.values()):
        return False
    schedule[SWEEP_TASK] = {"task": SWEEP_TASK, "schedule": float(fa_settings.JOB_SWEEP_INTERVAL_S)}
    app.conf.beat_schedule = schedule
    return True


try:  # when autodiscover_tasks() imports this package, before beat reads beat_schedule
    add_job_sweep_to_beat()
except Exception:  # settings not configured (a bare import): the project schedules it itself
    pass
