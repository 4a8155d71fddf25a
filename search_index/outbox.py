"""The transactional outbox: changed rows are written down in the changing transaction.

Public API (the write paths call these; both are no-ops for models no index reads)::

    record(model, pks, op="upsert", using=None)   # rows of `model` changed (by pk)
    mark_dirty(queryset, op="upsert")             # every row of a queryset, one INSERT ... SELECT

``mark_dirty`` must run *before* a ``QuerySet.update()`` whose filter the update may falsify
(``filter(status="new").update(status="contacted")``) and before a ``QuerySet.delete()``; it also
marks the rows of other indexed models whose documents read these rows through a relation.

Each call registers ``transaction.on_commit(enqueue drain)`` on the same connection: a rollback
discards both the outbox rows and the enqueue. The drain (:mod:`fastadmin.search_index.drain`)
decides upsert or delete by re-reading the row, so ``op`` is informational.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model, QuerySet

from .documents import Dependency, registry, spec_for

logger = logging.getLogger("fastadmin.search_index")

UPSERT, DELETE = "upsert", "delete"


def _table() -> str:
    from fastadmin.models import SearchOutbox

    return SearchOutbox._meta.db_table


def _outbox_db(model: type[Model]) -> str:
    return router.db_for_write(model)


def record(model: type[Model], pks: Iterable[Any], op: str = UPSERT, using: str | None = None) -> int:
    """Outbox rows for ``pks`` of ``model`` (indexed models only); returns how many were written."""
    if spec_for(model) is None:
        return 0
    keys = [str(pk) for pk in pks if pk is not None]
    if not keys:
        return 0
    using = using or _outbox_db(model)
    table = connections[using].ops.quote_name(_table())
    cursor = _cursor(using)
    if len(keys) == 1:  # every save: the plainest statement
        cursor.execute(f"INSERT INTO {table} (model, object_pk, op) VALUES (%s, %s, %s)",
                       [model._meta.label_lower, keys[0], op])
    else:
        cursor.execute(f"INSERT INTO {table} (model, object_pk, op) SELECT %s, unnest(%s::text[]), %s",
                       [model._meta.label_lower, keys, op])
    _enqueue_on_commit(using)
    return len(keys)


#: Per thread (Django's connections are per thread too): alias -> (DB-API connection, its cursor).
_local = threading.local()


def _cursor(using: str) -> Any:
    """A cursor for the outbox INSERT of every save, reused while the database connection lives.

    ``connection.cursor()`` opens a new DB-API cursor per call, which costs more CPU than the
    one-row INSERT (measured: 0.18 ms against 0.07 ms wall, 3x the CPU; tests/test_meili_benchmark.py).
    The raw cursor is kept for the connection it belongs to and wrapped per call as ``cursor()``
    wraps it, so debug logging, captured queries and execute wrappers still see the statement.
    """
    connection = connections[using]
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursors = _local.__dict__.setdefault("cursors", {})
    cached = cursors.get(using)
    if cached is None or cached[0] is not connection.connection or cached[1].closed:
        cached = cursors[using] = (connection.connection, connection.create_cursor())
    return connection.make_debug_cursor(cached[1]) if connection.queries_logged else connection.make_cursor(cached[1])


def mark_dirty(queryset: QuerySet, op: str = UPSERT) -> None:
    """Outbox rows for every row of ``queryset`` and for the indexed rows whose documents read them.

    Runs ``INSERT ... SELECT`` statements only; the rows are never loaded into Python.
    """
    mark(queryset, op)


def mark(queryset: QuerySet, op: str = UPSERT, *, own: bool = True, event: str | None = None) -> None:
    """:func:`mark_dirty` with the parts chosen: ``own`` rows, and the dependents affected by
    ``event`` (see :func:`dependents_of`; by default "delete" for a delete, else "save")."""
    using = queryset.db
    if own and spec_for(queryset.model) is not None:
        _insert_select(queryset, op, using)
    for spec, dependency in dependents_of(queryset.model, event or ("delete" if op == DELETE else "save")):
        keys = queryset.order_by().values("pk")
        dependent = spec.model._base_manager.db_manager(using).filter(**{f"{dependency.path}__in": keys})
        _insert_select(dependent, UPSERT, using)


def dependents_of(model: type[Model], event: str = "save") -> list[tuple[Any, Dependency]]:
    """``(spec, dependency)`` of every index whose documents a change of ``model`` rows affects.

    ``event``: "delete" (every reader), "save" (readers of its values), "pre_save" (readers through
    a reverse relation, whose set of documents changes when the row moves).
    """
    out = []
    for spec in registry().values():
        for dependency in spec.dependencies:
            if dependency.related_model is not model:
                continue
            if event == "delete" or (not dependency.delete_only and (event == "save" or dependency.reverse)):
                out.append((spec, dependency))
    return out


def _insert_select(queryset: QuerySet, op: str, using: str) -> None:
    connection = connections[using]
    pk_column = queryset.order_by().values_list("pk", flat=True)
    sql, params = pk_column.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(_table())} (model, object_pk, op) "
            f"SELECT %s, sub.pk::text, %s FROM ({sql}) AS sub(pk)",
            [queryset.model._meta.label_lower, op, *params],
        )
        written = cursor.rowcount
    if written:
        _enqueue_on_commit(using)


def _enqueue_on_commit(using: str) -> None:
    """Enqueue the drain once the transaction commits (at once in autocommit mode).

    One message per call: drains are idempotent, and one that finds nothing pending costs a query.
    """
    transaction.on_commit(_enqueue_drain, using=using)


def _enqueue_drain() -> None:
    """A broker that is down must neither fail nor stall the user's (already committed) write: the rows
    stay in the outbox and the periodic sweep delivers them.

    ``retry=False`` alone does not make a publish fail fast: Kombu still retries opening the channel
    for ``broker_connection_timeout`` (seconds per save). One connection attempt is made here instead.
    """
    try:
        from fastadmin.tasks import drain_search_outbox

        with drain_search_outbox.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=0)
            drain_search_outbox.apply_async(retry=False, producer=producer)
    except Exception as exc:
        logger.warning("Could not enqueue the search outbox drain (the sweep will): %s", exc)
