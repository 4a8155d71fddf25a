"""Ordered reads of a filtered list that cannot run away: ``ORDER BY key LIMIT n`` with a ``WHERE``.

PostgreSQL answers such a read in one of two ways: walk the index on the sort key and test each row
until ``n`` match (fast when the matches are spread over the sort order), or read the matches and
sort them (fast when they are few). It picks by its estimate of how many rows match, assuming they
are spread evenly. When they all sit at the far end of the order (a customer's orders from years ago,
a term only old rows contain, listed newest first), the walk reads the whole table: at 10M orders,
past the statement timeout.

:func:`bounded_walk` gives the walk ``WALK_TIMEOUT_MS``; a walk that has not met its page by then is
cancelled and the read runs again with its sort keys hidden from the indexes (:func:`hide`:
``COALESCE(key, key)``, the same values and the same NULLs), so the plan can only be "read the
matches, then sort them", bounded by the number of matches rather than by where they lie.
Contract of a read passed in: ``read(hidden)`` returns the same rows, in the same order, for
``hidden=False`` and ``hidden=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connections
from django.db.models import OrderBy, QuerySet
from django.db.models.functions import Coalesce

from .conf import fa_settings
from .counting import known_leaf_sizes
from .guards import is_query_canceled, stage

T = TypeVar("T")
#: 8 kB pages under which a table is walked whole well within any walk timeout (8 MB; a few
#: milliseconds from shared buffers).
SMALL_TABLE_PAGES = 1_000


def hide(order: OrderBy) -> OrderBy:
    """``order`` over ``COALESCE(x, x)``: the same order, which no index on ``x`` can serve."""
    return OrderBy(
        Coalesce(order.expression, order.expression),
        descending=order.descending,
        nulls_first=order.nulls_first,
        nulls_last=order.nulls_last,
    )


def is_small(queryset: QuerySet) -> bool:
    """Whether ``queryset``'s table is known (from the catalog read this request already made, never
    a query of its own) to hold under ``SMALL_TABLE_PAGES`` pages: any walk over it ends in time."""
    sizes = known_leaf_sizes(queryset.db, queryset.model._meta.db_table)
    return bool(sizes) and sum(pages for _reltuples, _relpages, pages in sizes) < SMALL_TABLE_PAGES


def may_walk(queryset: QuerySet) -> bool:
    """Whether an ordered read of ``queryset`` may walk past non-matching rows: it is filtered, and
    not by a condition that names its rows outright (one whose ``bounds_rows`` is True: a search's
    found keys, looked up by primary key, see :mod:`fastadmin.search_index.backends`)."""
    where = queryset.query.where
    if not where:
        return False
    return where.negated or where.connector != "AND" or not any(
        getattr(child, "bounds_rows", False) for child in where.children
    )


def bounded_walk(read: Callable[[bool], T], queryset: QuerySet) -> T:
    """``read(False)``, each of its statements cancelled after ``WALK_TIMEOUT_MS``; then ``read(True)``.

    Guarded: a filtered ``queryset`` read inside a transaction on PostgreSQL (a changelist view's
    reads are), when the walk's timeout is below the statement timeout and the table is not known to
    be small. An unfiltered walk meets a row at every step."""
    limit = fa_settings.WALK_TIMEOUT_MS
    ceiling = fa_settings.STATEMENT_TIMEOUT_MS
    connection = connections[queryset.db]
    if (not limit or (ceiling and limit >= ceiling) or not may_walk(queryset)
            or connection.vendor != "postgresql" or not connection.in_atomic_block or is_small(queryset)):
        return read(False)
    try:
        with connection.execute_wrapper(WalkTimeout(limit)):
            return read(False)
    except OperationalError as exc:
        if not is_query_canceled(exc):
            raise
    with stage("sorting the matching rows"):
        return read(True)


class WalkTimeout:
    """``execute_wrapper`` running each statement in a savepoint of its own, under a statement timeout
    of ``milliseconds`` (never above a stricter one in force, e.g. the request budget's). Its own
    statements go through a driver cursor, below Django's query log (as :mod:`fastadmin.budget`'s
    do): query-count tests, Django's own among them, see only the read.

    The savepoint is rolled back after the read whether it succeeded or not: that restores the
    timeout in force before (a ``set_config`` run instead would itself run under the short timeout,
    and could be cancelled), and undoes nothing a read did (its rows are already on the client).
    """

    savepoint = "fastadmin_walk"
    #: Attempts at leaving the savepoint: a cancel left pending by the short timer can still hit the
    #: first (PostgreSQL times each statement of a multi-statement string on its own since v13).
    leave_attempts = 3

    def __init__(self, milliseconds: int) -> None:
        limit = f"'{int(milliseconds)}ms'"
        current = "current_setting('statement_timeout')"
        self.begin = (
            f"SAVEPOINT {self.savepoint}; SELECT set_config('statement_timeout', CASE WHEN {current}"
            f" <> '0' AND {current}::interval <= {limit}::interval THEN {current} ELSE {limit} END, true)"
        )
        self.leave = f"ROLLBACK TO SAVEPOINT {self.savepoint}; RELEASE SAVEPOINT {self.savepoint}"

    def __call__(self, execute, sql, params, many, context):
        # A cursor of its own on the driver's connection: the read's cursor holds the read's rows.
        with context["connection"].connection.cursor() as raw:
            raw.execute(self.begin)  # two statements, no parameters: one round trip
            try:
                return execute(sql, params, many, context)
            finally:
                self._leave(raw)

    def _leave(self, raw) -> None:
        for attempt in range(self.leave_attempts):
            try:
                raw.execute(self.leave)
                return
            except Exception as exc:  # the driver's own error class: this cursor is below Django's
                if attempt + 1 == self.leave_attempts or not is_query_canceled(exc):
                    raise
