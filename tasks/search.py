"""Celery tasks of the Meilisearch sidecar: the outbox drain and its periodic sweep.

Delivery does not rely on the broker: Celery acknowledges a message whose worker process was
killed (unless ``task_reject_on_worker_lost``), and a broker may be down when a write commits. The
outbox rows survive both, and :func:`sweep_search_outbox`, run by beat every ``SWEEP_INTERVAL_S``,
drains whatever is left. Both tasks are the same idempotent drain; concurrent runs are safe.
"""

from __future__ import annotations

from typing import Any

from celery import current_app, shared_task
from fastadmin.search_index import sidecar

SWEEP_TASK = "fastadmin.tasks.sweep_search_outbox"


@shared_task(name="fastadmin.tasks.drain_search_outbox", ignore_result=True)
def drain_search_outbox() -> dict[str, Any]:
    """Enqueued on commit of every write that touched an indexed row."""
    from fastadmin.search_index.drain import drain

    return _summary(drain())


@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep_search_outbox() -> dict[str, Any]:
    """Periodic: rows left by killed workers, a down broker or a down Meilisearch (failed batches
    wait out their backoff, see ``fastadmin.search_index.drain``)."""
    from fastadmin.search_index.drain import drain, purge_done

    summary = _summary(drain())
    summary["purged"] = purge_done()
    return summary


def _summary(result: Any) -> dict[str, Any]:
    return {"sent": result.sent, "upserts": result.upserts, "deletes": result.deletes, "failed": result.failed}


def add_sweep_to_beat(app: Any = None) -> bool:
    """Schedule the sweep every ``SWEEP_INTERVAL_S`` on ``app`` (the current app by default) when
    the sidecar is configured and the project has not scheduled it itself; returns True if added.

    Runs when ``autodiscover_tasks()`` imports this package, which Celery does before beat (or
    ``worker -B``) reads ``beat_schedule``.
    """
    app = app or current_app
    conf = sidecar.config()
    if conf is None:
        return False
    schedule = app.conf.beat_schedule
    if any(entry.get("task") == SWEEP_TASK for entry in schedule.values()):
        return False
    schedule[SWEEP_TASK] = {"task": SWEEP_TASK, "schedule": float(conf["SWEEP_INTERVAL_S"])}
    app.conf.beat_schedule = schedule
    return True


def _add_on_import() -> None:
    try:
        add_sweep_to_beat()
    except Exception:
        pass


_add_on_import()


@shared_task(name="fastadmin.tasks.search_reindex", ignore_result=True)
def search_reindex(label: str, batch_size: int = 1000) -> dict[str, Any]:
    """``manage.py search_reindex <label>`` in a worker (refused while another one runs)."""
    from django.apps import apps
    from fastadmin.search_index.reindex import reindex

    result = reindex(apps.get_model(label), batch_size=batch_size)
    return {"label": result.label, "indexed": result.indexed, "replayed": result.replayed}
