"""Fast, server-side generation of realistic demo data (used by ``seed`` and ``benchmark``).

All rows are produced inside PostgreSQL by ``INSERT ... SELECT ... FROM generate_series`` in chunks,
so nothing but a few parameters crosses the wire. For a full reload (``truncate=True``, the
default) the whole load is one transaction:

1. ``TRUNCATE shop_order, shop_lead, shop_customer RESTART IDENTITY CASCADE``;
2. every secondary index of the three tables (whatever created it: our migration, fastadmin's
   index plan, ...) and every foreign key declared on them is dropped — their definitions are
   remembered — because building an index once at the end is several times faster than
   maintaining it row by row, and validating a foreign key in one join beats a deferred trigger
   per row;
3. customers (``rows // 10``), orders (``rows``) and leads (``rows``) are inserted in chunks;
4. the remembered indexes and foreign keys are re-created (same names, same definitions);

then, after the commit, ``VACUUM (ANALYZE)`` sets the visibility map (index-only scans), planner
statistics and an exact ``pg_class.reltuples``. If anything fails the transaction rolls back and
the tables and their indexes are exactly as before.

Tables, sequences and indexes are resolved through the connection's ``search_path`` (never a
hard-coded ``public``), so the benchmark can seed a small reference copy in its own schema.

Data shape: names drawn from small arrays (so sortable columns have many duplicates), unique
e-mails, ``placed_at``/``created`` spread over the last ~3 years at minute precision, ~40% of orders
with ``shipped_at`` NULL, ~25% of leads unscored, ~70% of leads without a customer.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from django.db import connections, transaction
from django.db.models import Max

from .models import Customer, Lead, Order, SeedRun
from .seed_data import (
    CITIES,
    COUNTRY_WEIGHTS,
    DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    LEAD_NOTES,
    LEAD_SOURCE_WEIGHTS,
    LEAD_STATUS_WEIGHTS,
    NOTES,
    ORDER_STATUS_WEIGHTS,
    SHIPPED_STATES,
)

TABLES = [Order._meta.db_table, Lead._meta.db_table, Customer._meta.db_table]


@dataclass
class SeedResult:
    customers: int
    orders: int
    leads: int
    seconds: float


def weighted_case(column: str, weights: Sequence[tuple[str, int]]) -> tuple[str, list]:
    """SQL ``CASE`` picking a value by cumulative weight of the uniform random ``column`` in [0, 1)."""
    parts, params, cumulative = [], [], 0
    total = sum(weight for _, weight in weights)
    for value, weight in weights[:-1]:
        cumulative += weight
        parts.append(f"WHEN {column} < %s THEN %s")
        params += [cumulative / total, str(value)]
    params.append(str(weights[-1][0]))
    return "CASE " + " ".join(parts) + " ELSE %s END", params


def pick(array_param: str, rnd: str) -> str:
    """SQL picking an element of the text[] parameter ``array_param`` with random column ``rnd``."""
    return f"(%({array_param})s::text[])[1 + floor({rnd} * cardinality(%({array_param})s::text[]))::int]"


class Progress:
    """A plain-text progress bar on stderr: ``[#####     ]  50% 500,000/1,000,000 rows (orders)``.

    On a terminal it redraws one line; otherwise (CI logs) it prints a line every 10%.
    """

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.done, self.width = max(total, 1), 0, width
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1
        self.started = time.monotonic()

    def advance(self, rows: int, label: str) -> None:
        self.done += rows
        fraction = min(self.done / self.total, 1.0)
        filled = round(self.width * fraction)
        line = (
            f"[{'#' * filled}{' ' * (self.width - filled)}] {fraction:4.0%} "
            f"{self.done:,}/{self.total:,} rows ({label}, {time.monotonic() - self.started:.1f}s)"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(100))
            if self.done >= self.total:
                self.stream.write("\n")
        elif int(fraction * 10) != self._last_decile or self.done >= self.total:
            self._last_decile = int(fraction * 10)
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        self.stream.write(f"{message} ({time.monotonic() - self.started:.1f}s)\n")
        self.stream.flush()


def _common_params() -> dict:
    return {
        "first": FIRST_NAMES,
        "last": LAST_NAMES,
        "cities": CITIES,
        "domains": DOMAINS,
        "notes": NOTES,
        "lead_notes": LEAD_NOTES,
    }


def _customer_sql() -> tuple[str, list]:
    country_case, country_params = weighted_case("r.r_country", COUNTRY_WEIGHTS)
    sql = f"""
        INSERT INTO shop_customer (id, name, email, phone, city, country, created, is_active)
        SELECT r.id,
               r.first || ' ' || r.last,
               lower(regexp_replace(r.first || '.' || r.last, '[^A-Za-z.]', '', 'g')) || '.' || r.id
                   || '@' || {pick("domains", "r.r_domain")},
               '+1 555 ' || lpad((floor(r.r_phone * 10000000))::int::text, 7, '0'),
               {pick("cities", "r.r_city")},
               {country_case},
               date_trunc('minute', now() - r.r_date * interval '3 years'),
               r.r_active < 0.9
        FROM (
            SELECT nextval(%(seq)s::regclass) AS id,
                   {pick("first", "random()")} AS first, {pick("last", "random()")} AS last,
                   random() AS r_domain, random() AS r_phone, random() AS r_city, random() AS r_country,
                   random() AS r_date, random() AS r_active
            FROM generate_series(1, %(n)s)
            OFFSET 0
        ) r
    """
    return sql, country_params


def _order_sql() -> tuple[str, list]:
    status_case, status_params = weighted_case("r.r_status", ORDER_STATUS_WEIGHTS)
    shipped = ", ".join(f"'{state}'" for state in sorted(SHIPPED_STATES))
    sql = f"""
        INSERT INTO shop_order (id, customer_id, number, status, total, placed_at, shipped_at, note)
        SELECT s.id, s.customer_id, s.number, s.status, s.total, s.placed_at,
               CASE WHEN s.status IN ({shipped}) OR (s.status = 'refunded' AND s.r_ship < 0.5)
                    THEN date_trunc('minute', s.placed_at + interval '1 hour' + s.r_ship * interval '10 days')
               END,
               s.note
        FROM (
            SELECT r.id,
                   %(cmin)s + floor(r.r_customer * %(ccount)s)::bigint AS customer_id,
                   'ORD-' || lpad(r.id::text, 8, '0') AS number,
                   {status_case} AS status,
                   round((5 + r.r_total * r.r_total * 995)::numeric, 2) AS total,
                   date_trunc('minute', now() - r.r_date * interval '3 years') AS placed_at,
                   r.r_ship,
                   CASE WHEN r.r_note < 0.1 THEN {pick("notes", "r.r_note * 10")} ELSE '' END AS note
            FROM (
                SELECT nextval(%(seq)s::regclass) AS id, random() AS r_customer, random() AS r_status,
                       random() AS r_total, random() AS r_date, random() AS r_ship, random() AS r_note
                FROM generate_series(1, %(n)s)
                OFFSET 0
            ) r
            OFFSET 0
        ) s
    """
    return sql, status_params


def _lead_sql() -> tuple[str, list]:
    status_case, status_params = weighted_case("r.r_status", LEAD_STATUS_WEIGHTS)
    source_case, source_params = weighted_case("r.r_source", LEAD_SOURCE_WEIGHTS)
    sql = f"""
        INSERT INTO shop_lead (id, name, email, phone, status, source, score, notes, created, customer_id)
        SELECT r.id,
               r.first || ' ' || r.last,
               lower(regexp_replace(r.first || '.' || r.last, '[^A-Za-z.]', '', 'g'))
                   || (r.id %% 5000)::text || '@' || {pick("domains", "r.r_domain")},
               CASE WHEN r.r_phone < 0.8
                    THEN '+44 20 ' || lpad((floor(r.r_phone * 100000000)::bigint %% 100000000)::text, 8, '0')
                    ELSE '' END,
               {status_case},
               {source_case},
               CASE WHEN r.r_score < 0.25 THEN NULL ELSE floor((r.r_score - 0.25) / 0.75 * 101)::int END,
               CASE WHEN r.r_note < 0.3 THEN {pick("lead_notes", "r.r_note / 0.3")} ELSE '' END,
               date_trunc('minute', now() - r.r_date * interval '3 years'),
               CASE WHEN r.r_customer < 0.3 THEN %(cmin)s + floor(r.r_customer / 0.3 * %(ccount)s)::bigint END
        FROM (
            SELECT nextval(%(seq)s::regclass) AS id,
                   {pick("first", "random()")} AS first, {pick("last", "random()")} AS last,
                   random() AS r_domain, random() AS r_phone, random() AS r_status, random() AS r_source,
                   random() AS r_score, random() AS r_note, random() AS r_date, random() AS r_customer
            FROM generate_series(1, %(n)s)
            OFFSET 0
        ) r
    """
    return sql, status_params + source_params


def _bind(sql: str, positional: list, named: dict) -> tuple[str, dict]:
    """Turn the ``%s`` placeholders of ``sql`` into named ones so they can be mixed with ``%(x)s``."""
    pieces = sql.split("%s")
    if len(pieces) - 1 != len(positional):
        raise ValueError("placeholder count mismatch")
    out, params = pieces[0], dict(named)
    for index, (value, piece) in enumerate(zip(positional, pieces[1:], strict=True)):
        params[f"p{index}"] = value
        out += f"%(p{index})s" + piece
    return out, params


def _secondary_indexes(cursor, tables: Sequence[str]) -> list[tuple[str, str]]:
    """``(qualified name, definition)`` of every index on ``tables`` (resolved through ``search_path``)
    that no constraint owns (PK, UNIQUE)."""
    cursor.execute(
        """
        SELECT quote_ident(n.nspname) || '.' || quote_ident(i.relname), pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = i.relnamespace
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.oid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
        ORDER BY t.relname, i.relname
        """,
        [list(tables)],
    )
    return list(cursor.fetchall())


def _foreign_keys(cursor, tables: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(qualified table, name, definition)`` of every foreign key declared on ``tables``."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
        ORDER BY 1, 2
        """,
        [list(tables)],
    )
    return list(cursor.fetchall())


def _chunks(total: int, size: int):
    done = 0
    while done < total:
        step = min(size, total - done)
        yield step
        done += step


def seed(
    rows: int,
    *,
    chunk: int = 100_000,
    truncate: bool = True,
    using: str = "default",
    stream: TextIO | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Load ``rows`` orders, ``rows`` leads and ``max(1, rows // 10)`` customers. See the module doc."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    chunk = max(1, chunk)
    started = time.monotonic()
    customers = max(1, rows // 10)
    progress = Progress(customers + 2 * rows, stream=stream)
    connection = connections[using]
    common = _common_params()

    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET LOCAL statement_timeout = 0")
        indexes: list[tuple[str, str]] = []
        foreign_keys: list[tuple[str, str, str]] = []
        if truncate:
            cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            # Django's FKs are DEFERRABLE INITIALLY DEFERRED: checked row by row at commit, and their
            # pending trigger events forbid CREATE INDEX. Re-adding them validates in one join instead.
            foreign_keys = _foreign_keys(cursor, TABLES)
            for table, name, _ in foreign_keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            indexes = _secondary_indexes(cursor, TABLES)
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
            progress.note(
                f"truncated {', '.join(TABLES)}; dropped {len(indexes)} indexes and "
                f"{len(foreign_keys)} foreign keys for the load"
            )

        seqs = {}
        for table in TABLES:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            seqs[table] = cursor.fetchone()[0]
        cursor.execute(f"SELECT last_value + is_called::int FROM {seqs[Customer._meta.db_table]}")
        cmin = cursor.fetchone()[0]
        sql, positional = _customer_sql()
        for n in _chunks(customers, chunk):
            cursor.execute(*_bind(sql, positional, {**common, "n": n, "seq": seqs[Customer._meta.db_table]}))
            progress.advance(n, "customers")
        cursor.execute("SELECT count(*) FROM shop_customer WHERE id >= %s", [cmin])
        ccount = cursor.fetchone()[0]  # ids cmin .. cmin+ccount-1: one session, one sequence, no gaps

        loads = (("orders", Order, _order_sql()), ("leads", Lead, _lead_sql()))
        for label, model, (sql, positional) in loads:
            extra = {"cmin": cmin, "ccount": ccount, "seq": seqs[model._meta.db_table]}
            for n in _chunks(rows, chunk):
                cursor.execute(*_bind(sql, positional, {**common, **extra, "n": n}))
                progress.advance(n, label)

        if indexes:
            progress.note(f"re-creating {len(indexes)} indexes ...")
            for _, definition in indexes:
                cursor.execute(definition)
            progress.note(f"re-created {len(indexes)} indexes")
        for table, name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        if foreign_keys:
            progress.note(f"re-added and validated {len(foreign_keys)} foreign keys")

    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    progress.note("vacuumed and analyzed")
    return SeedResult(customers, rows, rows, time.monotonic() - started)


def estimated_rows(model=Order, using: str = "default") -> int:
    """``pg_class.reltuples`` of ``model``'s table: instant; exact right after :func:`seed` (VACUUM sets
    it); -1 when the table was never vacuumed or analyzed."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        row = cursor.fetchone()
    return int(row[0]) if row else -1


def record_seed(rows: int, using: str = "default") -> None:
    """Mark the shop tables as seeded with ``rows`` orders (the one record ``seed --if-needed`` trusts)."""
    with transaction.atomic(using=using):
        SeedRun.objects.using(using).all().delete()
        SeedRun.objects.using(using).create(rows=rows)


def seed_state(rows: int, using: str = "default") -> tuple[bool, str]:
    """For ``seed --if-needed``: ``(True, "")`` when seeding may run (the shop tables are empty), else
    ``(False, why)``. Never True for tables holding rows the seed did not put there or that staff
    may have edited since: a seeded database stays as it is, whatever was added to it."""
    marker = SeedRun.objects.using(using).order_by("-pk").first()
    if marker is not None:
        if marker.rows == rows:
            return False, f"Already seeded with {rows:,} orders; nothing to do."
        return False, (f"Keeping the existing data: this database was seeded with {marker.rows:,} orders (and "
                       f"may hold edits since). `manage.py seed --rows {rows}` replaces every shop row.")
    if not any(model.objects.using(using).exists() for model in (Order, Lead, Customer)):
        return True, ""
    if is_seeded(rows, using):  # seeded before the record existed: record it now
        record_seed(rows, using)
        return False, f"Already seeded with {rows:,} orders; nothing to do."
    return False, ("Keeping the existing data: the shop tables hold rows this command did not create. "
                   f"`manage.py seed --rows {rows}` replaces every shop row.")


def is_seeded(rows: int, using: str = "default") -> bool:
    """True when orders and leads already hold ``rows`` rows (by ``reltuples``, confirmed exactly when
    small) — lets ``make demo`` and ``benchmark`` skip reloading."""
    for model in (Order, Lead):
        # ANALYZE samples: on a large table reltuples may be off by a few rows, so allow 0.1%...
        if abs(estimated_rows(model, using) - rows) > rows // 1000:
            return False
        # ...and confirm exactly: seeded ids run 1..rows (RESTART IDENTITY), the max is one index read.
        if model.objects.using(using).aggregate(top=Max("id"))["top"] != rows:
            return False
    if rows <= 100_000:
        return Order.objects.using(using).count() == rows and Lead.objects.using(using).count() == rows
    return True
