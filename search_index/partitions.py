"""Indexes on declaratively partitioned tables, built the way PostgreSQL allows without blocking writes.

``CREATE INDEX CONCURRENTLY`` is refused on a partitioned table, and a plain ``CREATE INDEX`` on it
locks every partition against writes for the whole build. PostgreSQL's documented procedure instead:

1. ``CREATE INDEX CONCURRENTLY`` on every leaf partition: the long part (it reads the rows), under
   ``SHARE UPDATE EXCLUSIVE`` only, which writers never wait for;
2. ``CREATE INDEX … ON ONLY parent``: catalog only, an index marked invalid that holds no data;
3. ``ALTER INDEX parent_index ATTACH PARTITION leaf_index`` for each partition; once every partition's
   index is attached, PostgreSQL marks the parent's valid.

Steps 2 and 3 take strong locks (``SHARE`` on the parent table, ``ACCESS EXCLUSIVE`` on the index
being attached) but read no rows, so they last milliseconds. They run under a short ``lock_timeout``
(:data:`BRIEF_LOCK_TIMEOUT_MS`) and are retried, so a writer never queues behind them longer than that,
even while a long transaction delays them. Sub-partitioned partitions get the same treatment, bottom-up.
Every step is idempotent: a re-run after an interruption reuses what exists and rebuilds invalid leaves.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import OperationalError, connections, transaction

from .plan import IndexNeed

BRIEF_LOCK_TIMEOUT_MS = 200
BRIEF_ATTEMPTS = 50


class BriefLockUnavailable(Exception):
    """A catalog-only step could not get its lock within BRIEF_ATTEMPTS tries."""


def is_partitioned(using: str, table: str) -> bool:
    return _fetchone(using, "SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)",
                     [connections[using].ops.quote_name(table)]) == (True,)


def leaf_index_name(index_name: str, table: str) -> str:
    """A partition's index name: unique per (index, partition), within PostgreSQL's 63 bytes."""
    digest = hashlib.md5(f"{index_name}:{table}".encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{table[:50]}_{digest}_ix"


@dataclass(frozen=True)
class Step:
    """One statement of a partitioned build; ``brief``: catalog-only, run under a short lock_timeout."""

    sql: str
    brief: bool = False
    reverse: str | None = None


def steps(need: IndexNeed, using: str = "default") -> list[Step]:
    """The statements still needed to build ``need`` on its partitioned table, bottom-up (see the
    module doc). Read from the catalog: what exists and is valid is skipped, an invalid leaf is rebuilt."""
    return _tree_steps(need, using, need.table, need.index.name)


def build(need: IndexNeed, using: str = "default", out: Callable[[str], None] = print) -> None:
    """Build ``need`` on its partitioned table (recursively) without blocking writes."""
    for step in steps(need, using):
        started = time.monotonic()
        if step.brief:
            _brief(using, step.sql)
        else:
            _execute(using, step.sql)
        out(f"{step.sql.split(' (')[0]}: {time.monotonic() - started:.1f}s")


def _tree_steps(need: IndexNeed, using: str, table: str, name: str) -> list[Step]:
    quote = connections[using].ops.quote_name
    valid = _index_valid(using, name)
    if not is_partitioned(using, table):
        out: list[Step] = []
        if valid is False:
            out.append(Step(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(name)}"))
        if valid is not True:
            out.append(Step(_statement(need, using, table, name, concurrently=True),
                            reverse=f"DROP INDEX CONCURRENTLY IF EXISTS {quote(name)}"))
        return out
    children = [row[0] for row in _fetchall(
        using, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
               "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname", [quote(table)])]
    child_names = {child: leaf_index_name(need.index.name, child) for child in children}
    out = [step for child, child_name in child_names.items() for step in _tree_steps(need, using, child, child_name)]
    if valid is None:
        out.append(Step(_statement(need, using, table, name, concurrently=False, only=True), brief=True,
                        reverse=f"DROP INDEX IF EXISTS {quote(name)}"))
    attached = {row[0] for row in _fetchall(
        using, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
               "WHERE i.inhparent = to_regclass(%s)", [quote(name)])} if valid is not None else set()
    out += [Step(f"ALTER INDEX {quote(name)} ATTACH PARTITION {quote(child_name)}", brief=True)
            for child_name in child_names.values() if child_name not in attached]
    return out


def _statement(need: IndexNeed, using: str, table: str, name: str, concurrently: bool, only: bool = False) -> str:
    """The plan's CREATE INDEX for ``table`` (a partition or ``ONLY`` a parent) named ``name``."""
    editor = connections[using].schema_editor(collect_sql=True, atomic=False)
    statement = need.index.create_sql(need.model, editor, concurrently=concurrently)
    statement.rename_table_references(need.table, table)
    statement.parts["name"] = editor.quote_name(name)
    if only:
        statement.parts["table"] = "ONLY " + editor.quote_name(table)
    return str(statement)


def _brief(using: str, sql: str) -> None:
    """Run a catalog-only step under a short lock_timeout, retrying while another session holds the lock."""
    for attempt in range(BRIEF_ATTEMPTS):
        try:
            with transaction.atomic(using=using), connections[using].cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{BRIEF_LOCK_TIMEOUT_MS}ms"])
                cursor.execute(sql)
            return
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            time.sleep(min(0.05 * (attempt + 1), 1.0))
    raise BriefLockUnavailable(f"could not lock for {sql!r} in {BRIEF_ATTEMPTS} tries of "
                               f"{BRIEF_LOCK_TIMEOUT_MS} ms: a long transaction writes to the table")


def _index_valid(using: str, name: str) -> bool | None:
    """True/False for a valid/invalid index called ``name``; None when there is none."""
    row = _fetchone(using, "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)",
                    [connections[using].ops.quote_name(name)])
    return None if row is None else row[0]


def _execute(using: str, sql: str) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(sql)


def _fetchone(using: str, sql: str, params: list) -> tuple | None:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _fetchall(using: str, sql: str, params: list) -> list[tuple]:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
