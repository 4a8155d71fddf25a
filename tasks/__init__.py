"""Celery tasks of fastadmin, installed as ``fastadmin.tasks``.

The project's own Celery app finds them with ``app.autodiscover_tasks()`` (fastadmin is an installed
app). Task names are part of the public interface: ``fastadmin.tasks.drain_search_outbox``,
``fastadmin.tasks.sweep_search_outbox``, ``fastadmin.tasks.search_reindex``, ``fastadmin.tasks.run_job``
and ``fastadmin.tasks.sweep_jobs``. Without Celery
installed (no ``[meilisearch]`` / ``[celery]`` extra) the package is empty.
"""

from importlib.util import find_spec

if find_spec("celery") is not None:
    from .actions import add_job_sweep_to_beat, run_job, sweep_jobs
    from .search import add_sweep_to_beat, drain_search_outbox, search_reindex, sweep_search_outbox

    __all__ = ["add_job_sweep_to_beat", "add_sweep_to_beat", "drain_search_outbox", "run_job", "search_reindex",
               "sweep_jobs", "sweep_search_outbox"]
else:  # pragma: no cover - exercised by tests/test_packaging.py's clean venv
    __all__ = []
