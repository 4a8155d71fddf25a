"""Carrying out the index plan: the pg_trgm extension, concurrent builds, and migration files.

Kept apart from :mod:`.plan` (which only reads) so the system check never imports code that writes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import DatabaseError, connections, migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.writer import MigrationWriter

from . import partitions
from .catalog import Status
from .plan import IndexNeed


class PlanError(Exception):
    """Something the person running the command must fix (permissions, a name clash)."""


def ensure_trigram_extension(using: str = "default") -> bool:
    """Create pg_trgm unless present; True when created. Clear error when the role may not."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone():
            return False
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate == "42501":  # insufficient_privilege
                database = connection.settings_dict.get("NAME")
                reason = " ".join(str(exc).split())
                raise PlanError(
                    f"The database role may not create the pg_trgm extension in {database!r} ({reason}). "
                    f"Ask the database owner or a superuser to run:  CREATE EXTENSION pg_trgm;  in that "
                    "database (pg_trgm is a trusted extension: any role with CREATE on the database may), "
                    "then run this command again."
                ) from exc
            raise
    return True


PROGRESS_SQL = """
SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total
FROM pg_stat_progress_create_index WHERE pid = %s
"""


@contextlib.contextmanager
def _progress(using: str, pid: int, out: Callable[[str], None], every: float = 5.0) -> Iterator[None]:
    """Report ``pg_stat_progress_create_index`` for backend ``pid`` every ``every`` seconds, from a
    second connection (the first is busy building), until the block exits."""
    stop = threading.Event()

    def watch() -> None:
        connection = connections.create_connection(using)
        try:
            while not stop.wait(every):
                with connection.cursor() as cursor:
                    cursor.execute(PROGRESS_SQL, [pid])
                    row = cursor.fetchone()
                if row:
                    phase, blocks_done, blocks_total, tuples_done, tuples_total = row
                    done, total = (blocks_done, blocks_total) if blocks_total else (tuples_done, tuples_total)
                    share = f" {100 * done / total:.0f}%" if total else ""
                    out(f"{phase}{share}")
        except DatabaseError:
            pass  # progress is a courtesy; the build itself reports real errors
        finally:
            connection.close()

    thread = threading.Thread(target=watch, name="fastadmin-index-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)


def build(statuses: list[Status], using: str = "default", out: Callable[[str], None] = print) -> int:
    """CREATE INDEX CONCURRENTLY every missing index; rebuild invalid ones. Returns how many were built.
    A partitioned table's index is built per partition and attached (:mod:`.partitions`).

    Runs outside any transaction (CONCURRENTLY requires it) with no statement timeout; each index is
    one statement, so an interruption leaves at most one INVALID index, which the next run drops and
    rebuilds.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        raise PlanError("CREATE INDEX CONCURRENTLY cannot run inside a transaction.")
    todo = [s for s in statuses if s.missing]
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    for number, item in enumerate(todo, 1):
        _build_one(connection, number, len(todo), item, using, out)
    # ANALYZE gathers statistics on the new indexes' expressions (upper(name)): until it runs the
    # planner guesses how many rows `upper(name) LIKE 'AL%'` matches, and a guess far too low walks a
    # sort index through 10M rows to the statement timeout.
    for table in dict.fromkeys(item.need.table for item in todo):
        out(f"analyzing {table} (statistics for the new indexes' expressions)…")
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return len(todo)


def _build_one(connection, number: int, total: int, item: Status, using: str, out: Callable[[str], None]) -> None:
    """Build one missing index (or rebuild the INVALID one an interrupted build left)."""
    need = item.need
    prefix = f"[{number}/{total}] {need.index.name}: {need.describe()}"
    if partitions.is_partitioned(using, need.table):
        out(f"{prefix}: partitioned table: each partition concurrently, then attach")
        try:
            partitions.build(need, using, out=lambda line, p=prefix: out(f"{p}: {line}"))
        except partitions.BriefLockUnavailable as exc:
            raise PlanError(f"{prefix}: {exc}; run this command again later.") from exc
        return
    with connection.cursor() as cursor:
        for invalid in item.invalid:
            if invalid.name == need.index.name:
                out(f"{prefix}: dropping the INVALID index left by an interrupted build")
                quoted = connection.ops.quote_name(invalid.name)
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s", [need.index.name])
        if cursor.fetchone():
            raise PlanError(
                f"{need.index.name} already exists but does not serve {need.describe()}; "
                "drop or rename it, then run this command again."
            )
        out(f"{prefix}: building…")
        started = time.monotonic()
        cursor.execute("SELECT pg_backend_pid()")
        with _progress(using, cursor.fetchone()[0], lambda line, p=prefix: out(f"{p}: {line}")):
            cursor.execute(need.sql(using))
        out(f"{prefix}: done in {time.monotonic() - started:.1f}s")


def migration_for(app_label: str, needs: list[IndexNeed], name: str = "fastadmin_indexes",
                  using: str = "default") -> tuple[Path, str]:
    """The path and source of a migration creating ``needs`` concurrently (non-atomic).

    Indexes go to the database only (``SeparateDatabaseAndState``): they are fastadmin's, not the
    models' ``Meta.indexes``, so ``makemigrations`` must not try to remove them again.
    """
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    leaves = loader.graph.leaf_nodes(app_label)
    number = 1
    if leaves:
        try:
            number = int(leaves[0][1].split("_")[0]) + 1
        except ValueError:
            number = len(loader.graph.nodes) + 1
    operations = []
    if any(n.kind == "trigram" for n in needs):
        operations.append(TrigramExtension())
    database_operations: list = []
    for need in needs:
        if partitions.is_partitioned(using, need.table):  # refused concurrently: per partition, then attach
            database_operations += [migrations.RunSQL(step.sql, step.reverse or migrations.RunSQL.noop)
                                    for step in partitions.steps(need, using)]
        else:
            database_operations.append(AddIndexConcurrently(need.model._meta.model_name, need.index))
    operations.append(migrations.SeparateDatabaseAndState(database_operations=database_operations))
    migration = type("Migration", (migrations.Migration,), {
        "atomic": False,
        "dependencies": list(leaves),
        "operations": operations,
    })(f"{number:04d}_{name}", app_label)
    writer = MigrationWriter(migration)
    header = "class Migration(migrations.Migration):\n"
    atomic = "    # CREATE INDEX CONCURRENTLY cannot run in a transaction.\n    atomic = False\n"
    source = writer.as_string().replace(header, header + atomic, 1)
    return Path(writer.path), source
