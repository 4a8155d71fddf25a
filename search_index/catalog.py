"""Reading the catalog: which indexes a table has, and whether they serve the plan's needs.

Kept apart from :mod:`.plan` (which decides what is needed, without a database) so each reads as one
concern; :mod:`.operations` carries the plan out.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections

from .fulltext import FULLTEXT_GIN
from .plan import PATTERN, PATTERN_OPCLASSES, TRIGRAM, TRIGRAM_OPCLASSES, IndexNeed, Key, Plan, normalise


@dataclass
class ExistingIndex:
    name: str
    method: str
    valid: bool
    unique: bool
    partial: bool
    keys: tuple[Key, ...]
    opclasses: tuple[str, ...]


INDEXES_SQL = """
SELECT c.relname, am.amname, i.indisvalid, i.indisunique, i.indpred IS NOT NULL,
       array(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
       array(SELECT (i.indoption[k - 1] & 1) = 1 FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
       array(SELECT o.opcname FROM generate_series(1, i.indnkeyatts) k
             JOIN pg_opclass o ON o.oid = i.indclass[k - 1] ORDER BY k)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_am am ON am.oid = c.relam
WHERE t.oid = to_regclass(%s)
"""


def existing_indexes(table: str, using: str = "default") -> list[ExistingIndex]:
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(INDEXES_SQL, [connection.ops.quote_name(table)])
        rows = cursor.fetchall()
    out = []
    for name, method, valid, unique, partial, exprs, descs, opclasses in rows:
        if any(e is None for e in exprs or ()) or None in (method, valid):
            continue  # dropped (or being re-created) by another session between the join and the read
        keys = tuple(Key(normalise(e), bool(d)) for e, d in zip(exprs, descs, strict=True))
        out.append(ExistingIndex(name, method, valid, unique, partial, keys, tuple(opclasses)))
    return out


def serves(index: ExistingIndex, need: IndexNeed) -> bool:
    """Whether a valid ``index`` answers the queries ``need`` stands for (validity checked apart)."""
    if index.partial:
        return False
    if need.kind == FULLTEXT_GIN:
        return index.method == "gin" and any(k.expression == need.keys[0].expression for k in index.keys)
    if need.kind == TRIGRAM:
        if index.method not in ("gin", "gist"):
            return False
        wanted = need.keys[0].expression
        return any(k.expression == wanted and op in TRIGRAM_OPCLASSES
                   for k, op in zip(index.keys, index.opclasses, strict=True))
    if index.method != "btree":
        return False
    patterns = [op in PATTERN_OPCLASSES for op in index.opclasses]
    if need.kind == PATTERN:
        return bool(patterns) and patterns[0] and index.keys[0].expression == need.keys[0].expression
    if any(patterns[: len(need.keys)]) and len(need.keys) > 1:
        return False  # pattern operator classes answer = and LIKE 'x%', not <, > or ORDER BY
    wanted_keys = need.keys
    have = index.keys[: len(wanted_keys)]
    if len(have) < len(wanted_keys):
        # A unique index on a prefix already orders rows completely (the rest are tie-breakers).
        if not index.unique or not have:
            return False
        wanted_keys = wanted_keys[: len(have)]
    if [k.expression for k in have] != [k.expression for k in wanted_keys]:
        return False
    same = all(a.descending == b.descending for a, b in zip(have, wanted_keys, strict=True))
    flipped = all(a.descending != b.descending for a, b in zip(have, wanted_keys, strict=True))
    return same or flipped or len(wanted_keys) == 1


@dataclass
class Status:
    need: IndexNeed
    present: ExistingIndex | None  # a valid index serving the need
    invalid: list[ExistingIndex]  # invalid indexes that would serve it (interrupted builds)

    @property
    def missing(self) -> bool:
        return self.present is None


def status(plan: Plan, using: str = "default") -> list[Status]:
    cache: dict[str, list[ExistingIndex]] = {}
    out = []
    for need in plan.needs:
        if need.table not in cache:
            cache[need.table] = existing_indexes(need.table, using)
        indexes = cache[need.table]
        present = next((i for i in indexes if i.valid and serves(i, need)), None)
        invalid = [i for i in indexes if not i.valid and (serves(i, need) or i.name == need.index.name)]
        out.append(Status(need, present, invalid))
    return out


def has_trigram_extension(using: str = "default") -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None
