"""Guard rails for admin reads: a statement timeout on every read, an optional read replica, and a
readable page (not a 500) when PostgreSQL cancels a query that ran too long."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, router, transaction
from django.db.models import Model

from .conf import fa_settings
from .replica import current_route

#: What the current request was doing, so the too-slow page can say what to narrow.
DEFAULT_STAGE = "loading the list"
current_stage: contextvars.ContextVar[str] = contextvars.ContextVar("fastadmin_stage", default=DEFAULT_STAGE)


@contextlib.contextmanager
def stage(description: str) -> Iterator[None]:
    """Name what the block does. Reset only when the block succeeds: when it raises (a statement
    timeout), the stage stays set for the handler that names it, until :func:`stage_scope` ends."""
    token = current_stage.set(description)
    yield
    current_stage.reset(token)


@contextlib.contextmanager
def stage_scope() -> Iterator[None]:
    """One request's stages: starts at :data:`DEFAULT_STAGE`; whatever a failed stage left is dropped
    at the end, so the next request on this thread starts clean."""
    token = current_stage.set(DEFAULT_STAGE)
    try:
        yield
    finally:
        current_stage.reset(token)


def read_alias(model: type[Model]) -> str:
    """The database that serves changelist reads and counts for ``model``: the read replica, or the
    database the current request's :class:`~fastadmin.replica.ReadRoute` chose instead of it."""
    alias = fa_settings.READ_DATABASE or router.db_for_read(model) or DEFAULT_DB_ALIAS
    route = current_route.get()
    return route.alias if route is not None and route.replica == alias else alias


def is_postgresql(alias: str) -> bool:
    return connections[alias].vendor == "postgresql"


#: The settings a guarded read sets, each to its value, transaction-local; one statement reads the
#: previous values and sets the new ones, one statement restores them.
_TIMEOUT = "statement_timeout"
_SERIAL = "max_parallel_workers_per_gather"


def _set_sql(names: list[str], read_previous: bool) -> str:
    """``SELECT [current_setting(…), …] set_config(…, %s, true), …`` for ``names``."""
    reads = [f"current_setting('{name}')" for name in names] if read_previous else []
    return "SELECT " + ", ".join(reads + [f"set_config('{name}', %s, true)" for name in names])


@contextlib.contextmanager
def statement_timeout(milliseconds: int, using: str, serial: bool = False) -> Iterator[None]:
    """Run the block in a transaction (a savepoint when nested) whose statements PostgreSQL cancels
    after ``milliseconds``; the previous settings are restored afterwards. ``serial`` also turns off
    parallel plans (``max_parallel_workers_per_gather = 0``) in the same statement: a changelist read
    is a short indexed walk, and under load a Gather plan costs seconds where the serial one costs
    milliseconds. A no-op on other databases."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    names, values = [_TIMEOUT], [f"{int(milliseconds)}ms"]
    if serial:
        names.append(_SERIAL)
        values.append("0")
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute(_set_sql(names, read_previous=True), values)
            previous = list(cursor.fetchone()[: len(names)])
        yield
        # Reached only on success: after an error the savepoint rollback restores the settings itself,
        # and the outermost block's COMMIT ends them (set_config(..., true) is transaction-local).
        if not outermost:
            with connection.cursor() as cursor:
                cursor.execute(_set_sql(names, read_previous=False), previous)


def is_query_canceled(exc: BaseException) -> bool:
    """True when ``exc`` is PostgreSQL's ``query_canceled`` (SQLSTATE 57014), e.g. a statement timeout:
    Django's ``OperationalError`` around the driver's error, or the driver's own (psycopg's
    ``sqlstate``, psycopg2's ``pgcode``) from a cursor below Django's, as :mod:`fastadmin.walks` uses."""
    error = exc.__cause__ if isinstance(exc, OperationalError) else exc
    return (getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)) == "57014"
