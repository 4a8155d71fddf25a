"""Admin search backends, query parsing, the index plan and the Meilisearch sidecar, installed as
``fastadmin.search_index``.

``mark_dirty(queryset)`` and ``record(model, pks, op)`` are the outbox's public entry points for
writes that bypass model signals (``QuerySet.update()``, ``bulk_create``, raw SQL).
"""

from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy: importing fastadmin.search_index must not need the app registry.
    if name in ("mark_dirty", "record"):
        from . import outbox

        return getattr(outbox, name)
    raise AttributeError(name)
