"""Search conditions on related rows: the related table is searched first, then joined by its key.

Through a foreign key (``customer__name``) the related rows are read first, bounded and index-served
(``SELECT id FROM customer WHERE UPPER(name) LIKE '%SMITH%' LIMIT n + 1``). When at most
``SEARCH_RELATED_LIMIT`` rows match, the condition on this table is ``customer_id = ANY('{…}')``: a
constant array, which the planner sizes exactly, a BitmapOr combines with the other fields' index
scans (through the foreign key's index), and a filter on a sort-index walk hashes (PostgreSQL 14+).
``customer_id = ANY(ARRAY(subquery))``, the shape before, is compared element by element for every
row the walk reads: 16,000 customers named Smith on 10M orders ran past the statement timeout.

More matching related rows than the limit mean the term is common (each matches its orders too), and
a walk along the sort index meets a page of matches soon with the keys as a hashed filter. Up to
``HASHED_KEYS_FACTOR`` times the limit they are read once and hashed from the array, ``customer_id IN
(SELECT unnest('{…}'))``: the page and the date range each hash them in about 7 ms, where a subquery
reran the customers' trigram search in each (16,705 Smiths of 1M customers: 58 ms a statement; a
constant array that long costs the planner 38 ms to size). Past that, and when the planner already
expects more (its trigram estimates tell "smith", 49,628, from a rare name, 199), the keys stay a
subquery, ``customer_id IN (subquery)``, and are not read first. Reverse and many-to-many paths
collect this model's keys instead (``pk = ANY(ARRAY(subquery))``), so no row is repeated and no
DISTINCT is needed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Q, Subquery
from django.db.models.constants import LOOKUP_SEP

from fastadmin.conf import fa_settings
from fastadmin.guards import stage

from .fields import SearchField, forward_relation
from .sql import AnyOfArray, AnyOfSubquery, InUnnestedArray, planner_rows, read_keys
from .words import driven

#: Up to this many times ``SEARCH_RELATED_LIMIT`` related keys are read once and hashed from the array
#: (:class:`~.sql.InUnnestedArray`); more stay a subquery, which each statement of the page reruns.
HASHED_KEYS_FACTOR = 10


def through_relation(model: Any, field: SearchField, condition: Q, inner_condition: Q | None, *,
                     using: str | None, probe: bool) -> Q:
    """``condition`` (on ``field.path`` from ``model``) as a condition on ``model``'s own columns.

    ``inner_condition`` is the same test on the related model (the path after the foreign key), or
    None; ``probe`` says whether an index serves it, so reading the matching related keys is cheap
    (otherwise they stay a subquery, as they would be read whole)."""
    first, _, _rest = field.path.partition(LOOKUP_SEP)
    relation = forward_relation(model, first)
    if relation is None or inner_condition is None:
        inner = model._base_manager.filter(condition).order_by().values("pk")
        return Q(AnyOfSubquery(F("pk"), Subquery(inner)))
    related = relation.related_model._base_manager.filter(inner_condition).order_by()
    keys = related.values_list(relation.target_field.attname, flat=True)
    limit = fa_settings.SEARCH_RELATED_LIMIT
    if using is None or not probe or not limit:
        return Q(AnyOfSubquery(F(relation.name), Subquery(keys)))
    most = limit * HASHED_KEYS_FACTOR
    if planner_rows(keys.using(using)) > most:
        return Q(**{f"{relation.name}__in": keys})  # a very common term: its keys would overflow
    with stage("searching the related rows"):  # a value of several words: without its common ones
        related_model = relation.related_model
        searched = related_model._base_manager.using(using).filter(driven(inner_condition, related_model, using))
        found = read_keys(searched.order_by().values_list(relation.target_field.attname, flat=True), most + 1)
    if len(found) <= limit:
        return Q(AnyOfArray(F(relation.name), found))
    if len(found) <= most:
        return Q(InUnnestedArray(F(relation.name), found))
    return Q(**{f"{relation.name}__in": keys})


def through_relations(model: Any, group: list[tuple[SearchField, Q, Q | None, bool]], *,
                      using: str | None) -> Q:
    """:func:`through_relation` for the search fields behind one relation (``customer__name``,
    ``customer__email``), each ``(field, condition, condition on the related model, indexed)``:
    OR-ed on the related side, the related table is read once (a BitmapOr of its indexes), not once
    per field."""
    field = group[0][0]
    if len(group) == 1:
        _field, condition, inner, indexed = group[0]
    else:
        condition = Q.create([g[1] for g in group], connector=Q.OR)
        inners = [g[2] for g in group]
        inner = None if None in inners else Q.create(inners, connector=Q.OR)
        indexed = all(g[3] for g in group)
    return through_relation(model, field, condition, inner, using=using, probe=indexed)


def multi_valued(model: Any, path: str) -> bool:
    """Whether ``path`` crosses a relation with many rows per row of ``model`` (reverse FK, m2m)."""
    opts = model._meta
    for part in path.split(LOOKUP_SEP):
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            return False
        if field.many_to_many or field.one_to_many:
            return True
        if not field.is_relation or field.related_model is None:
            return False
        opts = field.related_model._meta
    return False
