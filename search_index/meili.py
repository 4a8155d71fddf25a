"""The Meilisearch search backend (``search_backend = "meilisearch"``).

Meilisearch answers *which* rows match (typo-tolerant, ranked); PostgreSQL answers *what* they are:
the changelist's queryset (already permission-scoped and filtered by the admin) is narrowed to the
returned primary keys, so a stale index can never show a deleted row, a row the user may not see,
or an outdated value. Up to ``max_hits`` best matches are used, in Meilisearch's ranking unless
the user sorts by a column. Active ``list_filter`` values that map to filterable attributes are
sent as a Meilisearch filter, so the hits are spent on rows the page can show.

When Meilisearch is unreachable, slow (``TIMEOUT_S``) or answers an error, the search is served by
:class:`~fastadmin.search_index.backends.TrigramSearchBackend` with a notice saying so (status 200).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db.models import F, Func, IntegerField, QuerySet, TextField, Value
from django.db.models.functions import Cast
from django.http import HttpRequest

from . import sidecar
from .backends import AnyOfArray, SearchBackend, SearchResult, TrigramSearchBackend
from .documents import PRIMARY_KEY, IndexSpec, build_spec, spec_for

logger = logging.getLogger("fastadmin.search_index")

FALLBACK_NOTICE = (
    "The search service is unavailable right now, so these results come from the database search "
    "(exact text matches only, no typo tolerance)."
)


class MeilisearchBackend(SearchBackend):
    """Contract of :class:`~fastadmin.search_index.backends.SearchBackend`; never evaluates the queryset."""

    #: Most hits asked of Meilisearch per search (its default ``maxTotalHits`` is 1000).
    max_hits = 1000

    def spec(self) -> IndexSpec:
        return spec_for(self.model) or build_spec(self.model_admin)

    def search(self, request: HttpRequest, queryset: QuerySet, term: str) -> SearchResult:
        term = term.strip()
        if not term:
            return SearchResult(queryset)
        spec = self.spec()
        params: dict[str, Any] = {"limit": self.max_hits, "attributesToRetrieve": [PRIMARY_KEY]}
        filters = filter_expressions(spec, request.GET if request is not None else {})
        if filters:
            params["filter"] = filters
        try:
            index = sidecar.client().index(sidecar.index_uid(self.model))
            answer = index.search(term, params)
        except Exception as exc:
            logger.warning("Meilisearch search on %s failed, using the trigram backend: %s",
                           self.model._meta.label, sidecar.safe_error(exc))
            result = TrigramSearchBackend(self.model_admin).search(request, queryset, term)
            result.notice = " ".join(n for n in (FALLBACK_NOTICE, result.notice) if n)
            return result
        pk_field = self.model._meta.pk
        keys = [pk_field.to_python(hit[PRIMARY_KEY]) for hit in answer.get("hits", [])]
        narrowed = queryset.filter(AnyOfArray(F("pk"), keys))
        if keys and not (request is not None and request.GET.get("o")):
            narrowed = narrowed.order_by(HitRank(keys).asc(), *queryset.query.order_by)
        notice = None
        total = answer.get("estimatedTotalHits") or 0
        if total > len(keys):
            notice = (f"Showing the {len(keys):,} best of about {total:,} matches: add words to narrow "
                      "the search.")
        return SearchResult(narrowed, False, notice)


class HitRank(Func):
    """A row's position in Meilisearch's ranking: ``array_position(keys::text[], pk::text)``."""

    function = "array_position"
    arg_joiner = "::text[], "
    output_field = IntegerField()

    def __init__(self, keys: list[Any]) -> None:
        super().__init__(Value([str(k) for k in keys]), Cast(F("pk"), TextField()))


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
