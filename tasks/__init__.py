"""Celery tasks of fastadmin, installed as ``fastadmin.tasks``.

The project's own Celery app finds them with ``app.autodiscover_tasks()`` (fastadmin is an installed
app). Task names are part of the public interface: ``fastadmin.tasks.drain_search_outbox`` and
``fastadmin.tasks.sweep_search_outbox``.
"""

from .search import add_sweep_to_beat, drain_search_outbox, sweep_search_outbox

__all__ = ["add_sweep_to_beat", "drain_search_outbox", "sweep_search_outbox"]
