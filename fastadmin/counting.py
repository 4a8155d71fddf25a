"""Counting without ``COUNT(*)`` over millions of rows.

Contract of a counter strategy (:class:`BaseCounter`; the default is :class:`EstimatedCounter`)::

    counter.count(queryset)  -> Count(value, exact, at_least)   # cheap: always answers in milliseconds
    counter.exact(queryset)  -> Count                           # the "count exactly" link: bounded in time

PostgreSQL knows roughly how big every table is (``pg_class.reltuples``) and how many rows a filter will
return (the planner's estimate in ``EXPLAIN``). Those cost nothing and are within a few percent after
ANALYZE. Only when the estimate is small is a count run, and then bounded by work as well as time: it
reads at most ``threshold + 1`` rows (``SELECT count(*) FROM (... LIMIT threshold + 1)``) under
``COUNT_TIMEOUT_MS``, because the planner's estimate of a ``LIKE '%term%'`` filter can be far below
the truth, and an unbounded ``COUNT(*)`` of a common term would run for the whole statement timeout.
A table whose statistics say it holds at most ``threshold`` rows is counted that way at once: the
count cannot read more than the table, so the estimate and the count's own budget would only add
round trips.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .conf import fa_settings
from .guards import is_query_canceled, statement_timeout


@dataclass(frozen=True)
class Count:
    """A number of rows: exact, an estimate, or a lower bound (``at_least``: "more than N")."""

    value: int
    exact: bool
    at_least: bool = False

    def __int__(self) -> int:
        return self.value

    def __str__(self) -> str:
        if self.exact:
            return f"{self.value:,}"
        if self.at_least:
            return _("more than %(n)s") % {"n": f"{self.value:,}"}
        return f"≈ {humanize(self.value)}"

    def describe(self, noun_singular: str, noun_plural: str) -> str:
        noun = ngettext(noun_singular, noun_plural, self.value)
        return f"{self} {noun}"


def humanize(n: int) -> str:
    """1234 -> '1,234'; 1_234_567 -> '1.2M': an estimate should not look more precise than it is.

    Rounding can reach 1000 of a unit (999_950 -> '1000k'), so the value rolls over to the next unit ('1M').
    """
    units = ((1_000, "k", 10_000), (1_000_000, "M", 1_000_000), (1_000_000_000, "B", 1_000_000_000))
    for index in range(len(units) - 1, -1, -1):
        size, suffix, from_n = units[index]
        if n >= from_n:
            value = round(n / size, 1)
            if value >= 1000 and index + 1 < len(units):
                size, suffix, _ = units[index + 1]
                value = round(n / size, 1)
            return f"{value:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{n:,}"


def is_unfiltered(queryset: QuerySet) -> bool:
    """True when the queryset reads the whole table, so the table's size is its count."""
    query = queryset.query
    return not (query.where or query.distinct or query.combinator or query.low_mark or query.high_mark
                or query.group_by)


#: The catalog sizes read during one changelist request (:func:`sizes_read_once`), by table.
_known_sizes: ContextVar[dict[tuple[str, str], list[tuple]] | None] = ContextVar("fastadmin_sizes", default=None)
#: The plans :func:`explain` read during one changelist request, by statement and parameters.
_known_plans: ContextVar[dict[tuple, dict] | None] = ContextVar("fastadmin_plans", default=None)


@contextmanager
def sizes_read_once() -> Iterator[None]:
    """Within the block (fastadmin's list view) each table's sizes are read from the catalog once,
    whoever asks: the search deciding whether to probe and the counter both need them; likewise each
    statement's plan (the search's share and the counter's estimate explain the same list: a search
    through a relation carries thousands of keys, which cost the planner 2 ms a time at 10M rows)."""
    sizes, plans = _known_sizes.set({}), _known_plans.set({})
    try:
        yield
    finally:
        _known_sizes.reset(sizes)
        _known_plans.reset(plans)


def known_leaf_sizes(using: str, table: str) -> list[tuple] | None:
    """What :func:`leaf_sizes` already read for ``table`` in this request; None (never a query) when
    nothing has."""
    memo = _known_sizes.get()
    return None if memo is None else memo.get((using, table))


def explain(using: str, sql: str, params) -> dict:
    """The planner's top plan node for ``sql`` (``EXPLAIN (FORMAT JSON)``; nothing is run); read once
    per list request (:func:`sizes_read_once`) for the same statement and parameters."""
    memo = _known_plans.get()
    key = None if memo is None else (using, sql, repr(params))
    if key is not None and key in memo:
        return memo[key]
    with connections[using].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    node = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    if key is not None:
        memo[key] = node
    return node


def leaf_sizes(using: str, table: str) -> list[tuple]:
    """``(reltuples, relpages, current pages)`` of ``table``, or of each leaf partition of a
    partitioned one, at any depth; no row when the table does not exist (an unanalyzed leaf has
    ``reltuples`` -1)."""
    known = known_leaf_sizes(using, table)
    if known is not None:
        return known
    memo = _known_sizes.get()
    connection = connections[using]
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        # The table itself unless it is partitioned, then its leaves below it (level > 0: a plain
        # table or a leaf is its own tree's root on some PostgreSQL versions, absent on others). Two
        # indexed branches: an OR of both scans all of pg_class (1 ms per thousand catalog rows).
        # to_regclass(): a table that does not exist (yet) has no size, not an error.
        size = "c.reltuples, c.relpages, pg_relation_size(c.oid) / current_setting('block_size')::int"
        cursor.execute(
            f"SELECT {size} FROM pg_class c WHERE c.oid = to_regclass(%s) AND c.relkind <> 'p'"
            f" UNION ALL SELECT {size} FROM pg_partition_tree(to_regclass(%s)) t"
            " JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf AND t.level > 0",
            [quoted, quoted],
        )
        rows = cursor.fetchall()
    if memo is not None:
        memo[(using, table)] = rows
    return rows


class BaseCounter:
    """The contract of a counter strategy (``counter_class`` / ``FASTADMIN["COUNTER"]``).

    Built with no arguments, once per request. Both methods take the changelist's filtered queryset
    and return a :class:`Count` that says whether it is exact; neither may run for long on a table of
    any size (the changelist shows the page whatever the count costs), and neither may raise for a
    query the paginator could page.
    """

    def count(self, queryset: QuerySet) -> Count:
        """The number shown on every changelist page: cheap (an estimate where counting would be slow)."""
        raise NotImplementedError("subclasses of BaseCounter must provide a count() method")

    def count_list(self, queryset: QuerySet, rows_if_few: Callable[[], int | None]) -> Count:
        """:meth:`count` of the list shown from its first page. ``rows_if_few()`` reads that page (the
        list reads it anyway, so asking costs no query) and returns how many rows it holds if it holds
        them all, else None: a counter may ask it before it counts."""
        return self.count(queryset)

    def exact(self, queryset: QuerySet) -> Count:
        """The "count exactly" link: as exact as a bounded amount of work allows (``at_least`` otherwise)."""
        raise NotImplementedError("subclasses of BaseCounter must provide an exact() method")

    def count_search(self, queryset: QuerySet, matches: Count) -> Count:
        """The count of a search whose backend counted its matches itself (``SearchResult.count``, e.g.
        Meilisearch's ``estimatedTotalHits``). ``queryset`` then holds only the hits near the page, so
        counting it would answer another question: the backend's number is the count (no exact link)."""
        return matches


class EstimatedCounter(BaseCounter):
    """Estimates from PostgreSQL's statistics; under ``threshold`` an exact count capped at
    ``threshold + 1`` rows ("more than N" beyond it), on every database. On PostgreSQL the capped count
    runs under ``timeout_ms`` (``COUNT_TIMEOUT_MS``) and the estimate is shown if it runs out."""

    batch_size = 100_000

    def __init__(self, threshold: int | None = None, timeout_ms: int | None = None,
                 exact_timeout_ms: int | None = None) -> None:
        self.threshold = fa_settings.EXACT_COUNT_THRESHOLD if threshold is None else threshold
        self.timeout_ms = fa_settings.COUNT_TIMEOUT_MS if timeout_ms is None else timeout_ms
        self.exact_timeout_ms = fa_settings.EXACT_COUNT_TIMEOUT_MS if exact_timeout_ms is None else exact_timeout_ms
        self._sizes: dict[tuple[str, str], int | None] = {}
        self._rows_if_few: Callable[[], int | None] | None = None  # see count_list()

    # ------------------------------------------------------------------ public API
    def count_list(self, queryset: QuerySet, rows_if_few: Callable[[], int | None]) -> Count:
        # Through count(), so a subclass that overrides count() is still the one that counts the list.
        self._rows_if_few = rows_if_few
        try:
            return self.count(queryset)
        finally:
            self._rows_if_few = None

    def count(self, queryset: QuerySet) -> Count:
        queryset = queryset.order_by()
        if connections[queryset.db].vendor != "postgresql":
            return self._capped(queryset)
        size = self._table_size(queryset)
        if size is not None and size <= self.threshold:
            # The whole table holds fewer rows than the cap: the capped count reads at most the table,
            # so neither the planner's estimate nor a budget of its own is worth two round trips and a
            # savepoint (the request's statement timeout still bounds it).
            if (page_count := self._page_count()) is not None:
                return page_count
            return self._capped(queryset)
        estimate = self.estimate(queryset)  # the table's size, read above, when nothing filters it
        if estimate >= self.threshold:
            return Count(estimate, exact=False)
        if (page_count := self._page_count()) is not None:
            return page_count
        try:
            with statement_timeout(self.timeout_ms, queryset.db):
                return self._capped(queryset)
        except Exception as exc:
            if is_query_canceled(exc):
                return Count(estimate, exact=False)
            raise

    def _page_count(self) -> Count | None:
        """The shown list's first page, when it holds every row: their number is exact, no COUNT."""
        rows = self._rows_if_few() if self._rows_if_few is not None else None
        return None if rows is None else Count(rows, exact=True)

    def exact(self, queryset: QuerySet) -> Count:
        """Count every row, in primary-key batches, until ``exact_timeout_ms`` runs out."""
        queryset = queryset.order_by()
        if connections[queryset.db].vendor != "postgresql":
            return self._capped(queryset)
        deadline = time.monotonic() + self.exact_timeout_ms / 1000
        total, last = 0, None
        pk = queryset.model._meta.pk
        while True:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                return Count(total, exact=False, at_least=True)
            batch = queryset if last is None else queryset.filter(pk__gt=last)
            try:
                with statement_timeout(remaining_ms, queryset.db):
                    n, last_pk = self._batch(batch, pk.attname)
            except Exception as exc:
                if is_query_canceled(exc):
                    return Count(total, exact=False, at_least=True)
                raise
            total += n
            if n < self.batch_size:
                return Count(total, exact=True)
            last = last_pk

    def estimate(self, queryset: QuerySet) -> int:
        """The planner's idea of how many rows ``queryset`` returns (table size when unfiltered)."""
        if is_unfiltered(queryset):
            size = self._table_size(queryset)
            if size is not None:
                return size
        return self._explain_rows(queryset)

    # ------------------------------------------------------------------ helpers
    def _capped(self, queryset: QuerySet) -> Count:
        """At most ``threshold + 1`` rows read: ``SELECT COUNT(*) FROM (SELECT ... LIMIT n + 1)``."""
        n = queryset[: self.threshold + 1].count()
        if n > self.threshold:
            return Count(self.threshold, exact=False, at_least=True)
        return Count(n, exact=True)

    def _table_size(self, queryset: QuerySet) -> int | None:
        """``reltuples`` scaled to the table's current size, or None when a table was never analyzed.

        A partitioned table's own ``reltuples`` is -1 or 0 (its rows live in the partitions): the
        estimate is the sum over its leaf partitions, at any depth (``pg_partition_tree``).
        """
        key = (queryset.db, queryset.model._meta.db_table)
        if key not in self._sizes:  # one counter serves one request: its tables' sizes are read once
            self._sizes[key] = self._sum_leaves(leaf_sizes(*key))
        return self._sizes[key]

    @staticmethod
    def _sum_leaves(rows: list[tuple]) -> int | None:
        if not rows:
            return None
        total = 0.0
        for reltuples, relpages, current_pages in rows:
            if reltuples is None or reltuples < 0 or relpages <= 0:
                if current_pages == 0 and reltuples is not None and reltuples >= 0:
                    continue  # an empty partition that was analyzed empty
                return None  # never analyzed (reltuples = -1) or empty when last analyzed: ask the planner
            total += reltuples / relpages * current_pages
        return int(total)

    def _explain_rows(self, queryset: QuerySet) -> int:
        try:
            sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
        except EmptyResultSet:  # .none(), pk__in=[]: Django knows without asking the database
            return 0
        return int(explain(queryset.db, sql, params)["Plan Rows"])

    def _batch(self, queryset: QuerySet, pk_attname: str) -> tuple[int, object]:
        connection = connections[queryset.db]
        inner = queryset.order_by(pk_attname).values_list(pk_attname)[: self.batch_size]
        sql, params = inner.query.get_compiler(using=queryset.db).as_sql()
        column = connection.ops.quote_name(queryset.model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), max(s.{column}) FROM ({sql}) s", params)
            n, last = cursor.fetchone()
        return int(n), last
