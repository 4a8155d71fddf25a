"""The Meilisearch search backend (``search_backend = "meilisearch"``).

Meilisearch answers *which* rows match (typo-tolerant, ranked); PostgreSQL answers *what* they are:
the changelist's queryset (already permission-scoped and filtered by the admin) is narrowed to the
returned primary keys, so a stale index can never show a deleted row, a row the user may not see,
or an outdated value. Active ``list_filter`` values that map to filterable attributes are sent as a
Meilisearch filter, and a column sort that maps to sortable attributes as its ``sort``.

Paging follows Meilisearch's order (its ranking, or the sort it was given) with the changelist's
usual cursor: the rows are ordered by :class:`HitRank`, their position in Meilisearch's answer, and a
cursor tells the next request where to ask Meilisearch from (``offset``/``limit``), up to the index's
``pagination.maxTotalHits`` (``FASTADMIN["MEILISEARCH"]["MAX_TOTAL_HITS"]``). The count shown is
Meilisearch's ``estimatedTotalHits`` (:attr:`SearchResult.count`). An ordering Meilisearch cannot
reproduce (a related model's ordering, an expression) is left to PostgreSQL over the best
``max_hits`` matches.

When Meilisearch is unreachable, slow (``TIMEOUT_S``) or answers an error, the search is served by
:class:`~fastadmin.search_index.backends.TrigramSearchBackend` with a notice saying so (status 200).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib.admin.views.main import ORDER_VAR
from django.db.models import F, Func, IntegerField, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest

from fastadmin.changelist import CURSOR_VAR
from fastadmin.counting import Count
from fastadmin.exceptions import InvalidCursor
from fastadmin.pagination import AFTER
from fastadmin.sort_keys import ordering_items

from . import sidecar
from .backends import SearchBackend, SearchResult, TrigramSearchBackend
from .documents import PRIMARY_KEY, IndexSpec, build_spec, spec_for
from .fields import resolve
from .sql import AnyOfArray

logger = logging.getLogger("fastadmin.search_index")

FALLBACK_NOTICE = (
    "The search service is unavailable right now, so these results come from the database search "
    "(exact text matches only, no typo tolerance)."
)


class MeilisearchBackend(SearchBackend):
    """Contract of :class:`~fastadmin.search_index.backends.SearchBackend`. Never evaluates the
    changelist's queryset; when hits are spread thin over it (a permission-scoped ``get_queryset``)
    one ``count`` of at most a page of rows says whether the window of hits needs widening."""

    #: Hits asked of Meilisearch per request when paging by its order (at least a page and one).
    window = 500
    #: Windows read at most for one page when the admin's queryset hides most hits.
    max_windows = 4
    #: Best hits used when the ordering cannot be sent to Meilisearch (PostgreSQL sorts them).
    max_hits = 1000

    def spec(self) -> IndexSpec:
        return spec_for(self.model) or build_spec(self.model_admin)

    def search(self, request: HttpRequest, queryset: QuerySet, term: str) -> SearchResult:
        term = term.strip()
        if not term:
            return SearchResult(queryset)
        spec = self.spec()
        get = request.GET if request is not None else {}
        params: dict[str, Any] = {"attributesToRetrieve": [PRIMARY_KEY]}
        filters = filter_expressions(spec, get)
        if filters:
            params["filter"] = filters
        sort = meili_sort(spec, queryset.query.order_by) if get.get(ORDER_VAR) else []
        if sort:
            params["sort"] = sort
        window = Window(self, term, params, queryset)
        if sort is not None:  # Meilisearch's order is the page order: page through it by cursor
            window.position = self._position(request, window.ordered(queryset, [], 0))
        try:
            index = sidecar.client().index(sidecar.index_uid(self.model))
            if sort is None:
                return self._best(index, term, params, queryset)
            return window.read(index)
        except Exception as exc:
            logger.warning("Meilisearch search on %s failed, using the trigram backend: %s",
                           self.model._meta.label, sidecar.safe_error(exc))
            result = TrigramSearchBackend(self.model_admin).search(request, queryset, term)
            result.notice = " ".join(n for n in (FALLBACK_NOTICE, result.notice) if n)
            return result

    def _position(self, request: HttpRequest | None, ordered: QuerySet) -> tuple[str, int | None] | None:
        """``(direction, rank)`` of the changelist's cursor over ``ordered``, None on the first page
        (or with a paginator of the project's own, whose cursors only it reads: first window only)."""
        cursor = request.GET.get(CURSOR_VAR) if request is not None else None
        if not cursor:
            return None
        paginator = self.model_admin.get_keyset_paginator(request, ordered, self.model_admin.list_per_page)
        decode = getattr(paginator, "decode", None)
        if decode is None:
            return None
        direction, values = decode(cursor)  # InvalidCursor (400) for an altered or another search's cursor
        rank = None if values is None else values[0]
        if rank is not None and (not isinstance(rank, int) or isinstance(rank, bool) or rank < 0):
            raise InvalidCursor("This page link is malformed. Go back to the first page.", param=CURSOR_VAR)
        return direction, rank

    def _best(self, index: Any, term: str, params: dict[str, Any], queryset: QuerySet) -> SearchResult:
        """The best ``max_hits`` matches, in the changelist's own ordering (one PostgreSQL can sort)."""
        answer = index.search(term, {**params, "limit": self.max_hits})
        keys = hit_keys(self.model, answer)
        total = int(answer.get("estimatedTotalHits") or 0)
        notice = None
        if total > len(keys):
            notice = (f"Sorted by this column, only the {len(keys):,} best of about {total:,} matches are "
                      "shown: add words to narrow the search.")
        return SearchResult(queryset.filter(AnyOfArray(F("pk"), keys)), False, notice, Count(total, exact=False))


class Window:
    """The hits around the changelist's cursor, read from Meilisearch with ``offset``/``limit``.

    Ranks are 1-based positions in Meilisearch's answer: the rows after rank ``r`` start at offset
    ``r``, the rows before it end at offset ``r - 1``, and the last page ends at the last reachable
    hit (``min(estimatedTotalHits, maxTotalHits)``). A window is widened (up to ``max_windows``) while
    fewer rows of the changelist's queryset than a page and one are among its hits.
    """

    def __init__(self, backend: MeilisearchBackend, term: str, params: dict[str, Any], queryset: QuerySet) -> None:
        self.backend, self.term, self.params, self.queryset = backend, term, params, queryset
        self.search_id = json.dumps([term, params.get("filter"), params.get("sort")])
        self.per_page = backend.model_admin.list_per_page
        self.size = max(backend.window, self.per_page + 1)
        self.position: tuple[str, int | None] | None = None
        self.total = 0

    def ordered(self, queryset: QuerySet, keys: list[Any], offset: int) -> QuerySet:
        return queryset.order_by(HitRank(keys, offset, search=self.search_id).asc())

    def read(self, index: Any) -> SearchResult:
        direction, rank = self.position or (AFTER, 0)
        if direction == AFTER:
            offset, keys = self._forward(index, rank)
        else:
            offset, keys = self._backward(index, rank)
        cap = sidecar.max_total_hits()
        notice = None
        if self.total > cap:
            notice = (f"Only the first {cap:,} of about {self.total:,} matches can be paged through: add words "
                      "to narrow the search.")
        narrowed = self.queryset.filter(AnyOfArray(F("pk"), keys))
        return SearchResult(self.ordered(narrowed, keys, offset), False, notice, Count(self.total, exact=False))

    def _search(self, index: Any, offset: int, limit: int) -> list[Any]:
        answer = index.search(self.term, {**self.params, "offset": offset, "limit": limit})
        self.total = int(answer.get("estimatedTotalHits") or 0)
        return hit_keys(self.backend.model, answer)

    def _forward(self, index: Any, start: int) -> tuple[int, list[Any]]:
        keys: list[Any] = []
        for _ in range(self.backend.max_windows):
            hits = self._search(index, start + len(keys), self.size)
            keys += hits
            if len(hits) < self.size or self._enough(keys):
                break
        return start, keys

    def _backward(self, index: Any, rank: int | None) -> tuple[int, list[Any]]:
        if rank is None:  # the last page: where the reachable hits end
            self._search(index, 0, 0)
            end = min(self.total, sidecar.max_total_hits())
        else:
            end = max(0, rank - 1)
        start, keys = end, []
        for _ in range(self.backend.max_windows):
            if start == 0:
                break
            first = max(0, start - self.size)
            keys = self._search(index, first, start - first) + keys
            start = first
            if self._enough(keys):
                break
        return start, keys

    def _enough(self, keys: list[Any]) -> bool:
        """Whether a page and one of the changelist's rows are among ``keys`` (one bounded count)."""
        visible = self.queryset.filter(AnyOfArray(F("pk"), keys)).order_by().values("pk")[: self.per_page + 1]
        return visible.count() > self.per_page


class HitRank(Func):
    """A row's rank in Meilisearch's answer: ``offset + array_position(keys::text[], pk::text)``.

    The keys and the offset are SQL parameters, not source expressions, so every window of one search
    renders alike: the cursor's ordering signature names the search (``search``: term, filter, sort),
    not the page, and a cursor from page 3 is valid for the window page 4 reads.
    """

    output_field = IntegerField()

    def __init__(self, keys: list[Any], offset: int = 0, *, search: str = "") -> None:
        super().__init__(Cast(F("pk"), TextField()))
        self.keys, self.offset, self.search = [str(k) for k in keys], int(offset), search

    def as_sql(self, compiler, connection, **extra_context):
        pk_sql, pk_params = compiler.compile(self.get_source_expressions()[0])
        return f"(%s + array_position(%s::text[], {pk_sql}))", (self.offset, self.keys, *pk_params)


def hit_keys(model: Any, answer: dict[str, Any]) -> list[Any]:
    pk_field = model._meta.pk
    return [pk_field.to_python(hit[PRIMARY_KEY]) for hit in answer.get("hits", [])]


def meili_sort(spec: IndexSpec, order_by: Any) -> list[str] | None:
    """The changelist's ordering as Meilisearch ``sort`` (``["status:asc", "pk:desc"]``), or None when
    a key is not a sortable attribute, or a nullable one sorted where PostgreSQL puts NULLs first
    (Meilisearch puts documents without the value last)."""
    pk = spec.model._meta.pk
    out: list[str] = []
    for path, _expression, descending, nulls_largest in ordering_items(spec.model, order_by):
        direction = "desc" if descending else "asc"
        if path in ("pk", pk.name, pk.attname):
            return [*out, f"{PRIMARY_KEY}:{direction}"]
        if not path or path not in spec.sortable:
            return None
        field = resolve(spec.model, path).field
        if getattr(field, "null", True) and descending == nulls_largest:
            return None
        out.append(f"{path}:{direction}")
    return out


def filter_expressions(spec: IndexSpec, params: Any) -> list[str]:
    """The changelist's active ``list_filter`` parameters that name filterable attributes, as
    Meilisearch filter expressions (ANDed). Parameters that do not map are left to PostgreSQL."""
    out = []
    for attribute in spec.filterable:
        for suffix, template in (("", "{a} = {v}"), ("__exact", "{a} = {v}"), ("__id__exact", "{a} = {v}"),
                                 ("__pk__exact", "{a} = {v}")):
            value = params.get(attribute + suffix)
            if value not in (None, ""):
                out.append(template.format(a=attribute, v=_literal(spec, attribute, value)))
        isnull = params.get(attribute + "__isnull")
        if isnull in ("True", "true", "1"):
            out.append(f"{attribute} IS NULL")
        elif isnull in ("False", "false", "0"):
            out.append(f"{attribute} IS NOT NULL")
    return out


def _literal(spec: IndexSpec, attribute: str, value: str) -> str:
    from .fields import resolve

    field = resolve(spec.model, attribute).field
    internal = field.get_internal_type() if field is not None else ""
    if internal == "BooleanField":
        return "true" if value in ("1", "True", "true") else "false"
    if internal.endswith(("IntegerField", "AutoField")) or getattr(field, "many_to_one", False):
        target = getattr(field, "target_field", field)
        if target.get_internal_type().endswith(("IntegerField", "AutoField")) and value.lstrip("-").isdigit():
            return value
    return json.dumps(value)
