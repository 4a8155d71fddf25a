"""The probe of a value of several words (an e-mail address, a URL, ``ORD-2024-17``) without the
words that are in most rows.

pg_trgm splits a ``LIKE '%value%'`` pattern into its words, and a GIN scan reads the posting lists of
every trigram of every word: a word that is in every row costs the most and narrows nothing. At 10M
leads, ``pierre.thompson0@mail.test`` read the lists of ``mail`` and ``test`` for 88 ms; ``pierre``
and ``thompson0`` alone take 30 ms. So the probe (the bounded read of matching keys,
``TrigramSearchBackend._narrow``) gives the index only the words the planner expects in under
:data:`COMMON_WORD_SHARE` of the table (its estimates come from the column's statistics, which the
index plan's ``ANALYZE`` keeps for the indexed expression), and tests the whole value on the rows
they find, in an expression the index does not match (else PostgreSQL would hand the index every
trigram again). The rows, and their number, are the same. Words that are each somewhat common
(``ashley.robinson``) stay together: their intersection is what makes the scan narrow.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import F, Q
from django.db.models.constants import LOOKUP_SEP
from django.db.models.lookups import IContains

from fastadmin.counting import explain

#: Words of fewer letters or digits are padded trigrams that most rows share: never the index's.
MIN_WORD = 3
#: A word the planner expects in at least this share of the table's rows is left to the recheck.
COMMON_WORD_SHARE = 0.1
_WORD = re.compile(r"[^\W_]+")  # pg_trgm's words: runs of letters and digits


class UnindexedIContains(IContains):
    """``icontains`` on ``(UPPER(col) || '')``: the same test, which no trigram index matches."""

    def process_lhs(self, compiler, connection, lhs=None):
        sql, params = super().process_lhs(compiler, connection, lhs)
        return f"({sql} || '')", params


def words(value: str) -> list[str]:
    """The distinct words of ``value`` that a trigram scan can be driven by, in order."""
    return list(dict.fromkeys(w for w in _WORD.findall(value) if len(w) >= MIN_WORD))


def driven(condition: Q, model: Any, using: str) -> Q:
    """``condition`` with each ``field__icontains`` of several words (on a column of ``model``)
    replaced by its uncommon words, indexed, and the whole value, unindexed; unchanged where every
    word is common or none is. One ``EXPLAIN`` sizes every word of every such field and the table; a
    condition with no such leaf is returned as it is, without a query."""
    leaves = {leaf: found for leaf in _icontains(condition) if len(found := words(leaf[1])) > 1}
    if not leaves:
        return condition
    candidates = list(dict.fromkeys((path, word) for (path, _value), found in leaves.items() for word in found))
    *estimates, table = _estimates(model, using, candidates)
    common = {c for c, rows in zip(candidates, estimates, strict=True) if rows >= COMMON_WORD_SHARE * table}

    def rewrite(node: Q) -> Q:
        children = []
        for child in node.children:
            if isinstance(child, Q):
                child = rewrite(child)
            elif isinstance(child, tuple) and (leaf := (child[0].removesuffix("__icontains"), child[1])) in leaves:
                path, value = leaf
                kept = [w for w in leaves[leaf] if (path, w) not in common]
                if kept and len(kept) < len(leaves[leaf]):
                    child = Q(*(Q(**{f"{path}__icontains": w}) for w in kept), UnindexedIContains(F(path), value))
            children.append(child)
        return Q(*children, _connector=node.connector, _negated=node.negated)

    return rewrite(condition)


def _icontains(condition: Q) -> list[tuple[str, str]]:
    """``(field, value)`` of every ``field__icontains`` leaf on a column of the model itself."""
    found = []
    for child in condition.children:
        if isinstance(child, Q):
            found.extend(_icontains(child))
        elif isinstance(child, tuple):
            lookup, value = child
            path = lookup.removesuffix("__icontains")
            if path != lookup and LOOKUP_SEP not in path and isinstance(value, str):
                found.append((path, value))
    return found


def _estimates(model: Any, using: str, candidates: list[tuple[str, str]]) -> list[float]:
    """The planner's row estimate of each ``field LIKE '%word%'``, then of the whole table, in one
    ``EXPLAIN`` of their ``UNION ALL`` (each branch is one child of the plan's Append, in order)."""
    manager = model._base_manager.using(using)
    branches = [manager.filter(**{f"{path}__icontains": word}) for path, word in candidates] + [manager.all()]
    parts = [branch.order_by().values("pk").query.get_compiler(using=using).as_sql() for branch in branches]
    sql = " UNION ALL ".join(f"({part_sql})" for part_sql, _params in parts)
    plan = explain(using, sql, [p for _sql, params in parts for p in params])
    while plan["Node Type"] != "Append":  # e.g. under a Gather when the plan is parallel
        plan = plan["Plans"][0]
    return [float(child["Plan Rows"]) for child in plan["Plans"]]
