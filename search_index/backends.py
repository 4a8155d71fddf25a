"""Search backends: how a ModelAdmin turns the search box into a filtered queryset.

Contract of a search backend (:class:`BaseSearchBackend`)::

    backend = BackendClass(model_admin)
    result = backend.search(request, queryset, term)  # SearchResult(queryset, may_have_duplicates, notice)
    backend.namespaces(request)                        # -> ["name", "email", ..., "id"]

``queryset`` arrives filtered and ordered by the changelist; the backend narrows it (and may put a
relevance key first in its ordering) and never evaluates it: paging and counting stay with the
paginator and the counter. Input that cannot be searched raises
:class:`~fastadmin.exceptions.BadParameter` with a message for the person who typed it.

* :class:`DjangoSearchBackend` — stock ``get_search_results``, unchanged (any database).
* :class:`TrigramSearchBackend` — PostgreSQL: SQL shaped for the index plan
  (:mod:`fastadmin.search_index.plan`), namespaces, guarded short terms; falls back to Django's own
  search on other databases.

A Meilisearch sidecar implements the same two methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, Field, Q, QuerySet, Subquery, Value
from django.db.models.constants import LOOKUP_SEP
from django.db.models.functions import Greatest
from django.http import HttpRequest

from fastadmin.conf import fa_settings
from fastadmin.exceptions import BadParameter
from fastadmin.guards import is_postgresql, stage

from . import fields as search_fields_module
from . import fulltext
from .catalog import has_trigram_extension
from .fields import LOOKUP, SearchField
from .query import CONTAINS, EXACT, FULLTEXT, SEARCH_PARAM, STARTSWITH, Term, longest_word, parse
from .relations import multi_valued, through_relations
from .sql import COMMON_SHARE, INVALID, AnyOfSubquery, found_keys, planner_share, read_keys, table_rows, to_python
from .words import driven

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    from fastadmin.counting import Count

#: pg_trgm indexes runs of letters and digits in threes: shorter values cannot use a trigram index.
TRIGRAM_MIN = 3
#: Lookups whose value is one of the field's own values: parsed with ``to_python`` (and skipped for a
#: word that is not one), as stock does for a non-text field; the comparison stays typed and indexed.
TYPED_LOOKUPS = frozenset({"exact", "gt", "gte", "lt", "lte"})


@dataclass
class SearchResult:
    """What a search did: the narrowed queryset, whether rows may repeat, a note for the user, and the
    number of matches when the backend counts them itself (Meilisearch's ``estimatedTotalHits``: its
    queryset holds only the hits near the page, so the changelist's counter shows this number instead,
    see :meth:`fastadmin.counting.BaseCounter.count_search`)."""

    queryset: QuerySet
    may_have_duplicates: bool = False
    notice: str | None = None
    count: Count | None = None


@dataclass
class _Compiled:
    condition: Q | None  # None: the term can match no row
    served: bool  # every branch of the OR can be answered from an index
    notice: str | None = None


class BaseSearchBackend:
    """The contract of a search backend (``ModelAdmin.search_backend`` / ``FASTADMIN["SEARCH_BACKEND"]``).

    Built with the ModelAdmin, once per search. It is called from the admin's
    ``get_search_results`` (never instead of it, so a project's override always runs) with the
    queryset the caller built and the raw search text, and returns the narrowed queryset unevaluated:
    for the same ``search_fields`` and text the rows must be the rows stock Django's search finds.
    """

    def __init__(self, model_admin: ModelAdmin) -> None:
        self.model_admin = model_admin
        self.model = model_admin.model

    def search(self, request: HttpRequest, queryset: QuerySet, term: str) -> SearchResult:
        """``queryset`` narrowed to the rows matching ``term`` (:class:`SearchResult`); input that cannot
        be searched raises :class:`~fastadmin.exceptions.BadParameter` with a message for the user."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide a search() method")

    def namespaces(self, request: HttpRequest | None = None) -> list[str]:
        """The ``field:`` prefixes this backend understands, in the order to show them."""
        return []

    def namespace_labels(self, request: HttpRequest | None = None) -> list[tuple[str, str]]:
        """``(label, namespace)`` per namespace, for the help line ("Customer name", "customer__name")."""
        return [(search_fields_module.label(self.model, name), name) for name in self.namespaces(request)]

    def search_field_specs(self, request: HttpRequest | None) -> list[str]:
        if request is None:
            return [str(spec) for spec in self.model_admin.search_fields or ()]
        return [str(spec) for spec in self.model_admin.get_search_fields(request) or ()]


#: The name this base class had before it was the documented contract.
SearchBackend = BaseSearchBackend


class DjangoSearchBackend(BaseSearchBackend):
    """Django's own admin search, exactly (every database; no namespaces, no index awareness)."""

    def search(self, request: HttpRequest, queryset: QuerySet, term: str) -> SearchResult:
        from .admin import next_get_search_results

        queryset, duplicates = next_get_search_results(self.model_admin)(request, queryset, term)
        return SearchResult(queryset, duplicates)


class TrigramSearchBackend(BaseSearchBackend):
    """PostgreSQL search served by trigram GIN indexes on ``UPPER(column::text)``.

    Each term becomes Django's own lookup for the field's mode, which compiles on PostgreSQL to the
    expression the index plan indexes:

    =============  ==========================================  =====================================
    mode           SQL                                         index (plan)
    =============  ==========================================  =====================================
    contains       ``UPPER(col::text) LIKE UPPER('%t%')``      GIN ``(UPPER(col::text) gin_trgm_ops)``
    ``^`` prefix   ``UPPER(col::text) LIKE UPPER('t%')``       the same trigram index
    ``=`` text     ``UPPER(col::text) = UPPER('t')``           btree ``(UPPER(col::text))``
    ``=`` other    ``col = 123`` (typed, no cast)              btree on ``col`` (pk, unique, FK)
    ``@``          ``to_tsvector(cfg, col) @@ plainto_tsquery``  GIN on the same expression (:mod:`.fulltext`)
    =============  ==========================================  =====================================

    ``%``, ``_`` and ``\\`` in terms are escaped by Django's lookups. A contains-term without a run of
    three letters or digits has no trigram and would read the whole index, so it is matched as a
    prefix instead (and the user is told), which the plan's ``text_pattern_ops`` btree serves. A path
    through a foreign key reads the matching related keys first (``customer_id = ANY('{…}')``, see
    :mod:`.relations`), so rows are never duplicated and the OR over fields stays index-served.
    Rare terms are resolved to their primary keys first (see :meth:`_narrow`). With
    ``relevance=True`` (or ``ModelAdmin.search_relevance``) results are ordered by trigram similarity
    unless the user sorts by a column.
    """

    def __init__(self, model_admin: ModelAdmin, relevance: bool | None = None) -> None:
        super().__init__(model_admin)
        self.using: str | None = None  # the database searched, once search() is called
        if relevance is None:
            relevance = bool(getattr(model_admin, "search_relevance", False))
        self.relevance = relevance

    # ------------------------------------------------------------------ namespaces
    def fields(self, request: HttpRequest | None) -> list[SearchField]:
        return [search_fields_module.resolve(self.model, spec) for spec in self.search_field_specs(request)]

    def pk_namespaces(self) -> list[str]:
        pk = self.model._meta.pk
        return list(dict.fromkeys([pk.name, pk.attname, "pk"]))

    def namespaces(self, request: HttpRequest | None = None) -> list[str]:
        names = []
        for spec in self.search_field_specs(request):
            try:
                names.append(search_fields_module.resolve(self.model, spec).namespace)
            except FieldDoesNotExist:
                continue  # fastadmin.E103; the help line must not break the changelist over it
        return list(dict.fromkeys([*names, self.model._meta.pk.name]))

    # ------------------------------------------------------------------ search
    def search(self, request: HttpRequest, queryset: QuerySet, term: str) -> SearchResult:
        if not is_postgresql(queryset.db):
            return DjangoSearchBackend(self.model_admin).search(request, queryset, term)
        fields = self.fields(request)
        self.using = queryset.db
        terms = parse(term, max_length=fa_settings.SEARCH_MAX_LENGTH, max_terms=fa_settings.SEARCH_MAX_TERMS)
        if not terms:
            return SearchResult(queryset)
        # Stock semantics whenever one term can drive an index scan (the others are then cheap filters
        # on its few rows) or the table is small enough to read whole. Otherwise short terms are
        # matched as prefixes, which the index serves.
        prefix_short = False
        compiled = [self._compile(item, fields, prefix_short=False) for item in terms]
        if not any(c.served for c in compiled) and not self._small(queryset):
            prefix_short = True
            compiled = [self._compile(item, fields, prefix_short=True) for item in terms]
            if not any(c.served for c in compiled):
                shortest = min(terms, key=lambda t: longest_word(t.value))
                raise BadParameter(
                    f"“{shortest.value}” is too short to search for: a search needs a word with at least "
                    f"one letter or digit ({TRIGRAM_MIN} in a row to match inside a value), or an exact "
                    f"search such as {self.namespaces()[0]}:=value.",
                    param=SEARCH_PARAM,
                )
        notices = [c.notice for c in compiled if c.notice]
        notice = " ".join(notices) or None
        if any(c.condition is None for c in compiled):
            # e.g. "abc" against integer "=" fields only. WHERE false, not .none(): the counter and
            # paginator compile the query, and an EmptyResultSet would escape from them.
            return SearchResult(queryset.filter(Value(False)), False, notice)
        conditions = [c.condition for c in compiled]
        if len(terms) > 1 and any(multi_valued(self.model, f.path) for f in fields):
            conditions = [self._same_related_row(terms, fields, prefix_short)]
        queryset, found = self._narrow(queryset, conditions)
        if self.relevance and not request.GET.get("o") and has_trigram_extension(queryset.db):
            queryset = self._by_relevance(queryset, terms, fields)
        if found is None:
            return SearchResult(queryset, False, notice)
        from fastadmin.counting import Count  # fastadmin imports this module

        return SearchResult(queryset, False, notice, Count(found, exact=True))

    def _small(self, queryset: QuerySet) -> bool:
        """Whether the table holds fewer than ``SEARCH_SCAN_ROWS`` rows (PostgreSQL's estimate), so
        reading all of it for a word no index can serve costs no more than a page does."""
        limit = fa_settings.SEARCH_SCAN_ROWS
        if not limit:
            return False
        from fastadmin.counting import EstimatedCounter

        table = self.model._base_manager.using(queryset.db).all()
        return EstimatedCounter(threshold=limit).estimate(table) < limit

    def _same_related_row(self, terms: list[Term], fields: list[SearchField], prefix_short: bool) -> Q:
        """Every word at once, in one subquery: stock filters all words in one ``filter()`` call, so
        words matched through a multi-valued relation (reverse FK, m2m) must match the same related
        row ("danielle 19" finds no parent whose Danielle is 18 and whose Daniel is 19)."""
        plain = [self._compile(t, fields, prefix_short=prefix_short, through=False).condition for t in terms]
        inner = self.model._base_manager.filter(Q.create(plain)).order_by().values("pk")
        return Q(AnyOfSubquery(F("pk"), Subquery(inner)))

    def _narrow(self, queryset: QuerySet, conditions: list[Q]) -> tuple[QuerySet, int | None]:
        """The search filter, or — for a term matching at most ``SEARCH_PROBE_LIMIT`` rows — the
        matching primary keys themselves, and then their number (the list's exact count, so the
        changelist need not count them again).

        The planner estimates ``LIKE '%term%'`` poorly (18,000 of 10M rows for a term matching none):
        with ``ORDER BY key LIMIT n`` it walks the sort index to meet n matches soon, reading it all.
        An unordered ``SELECT pk ... LIMIT probe + 1`` has no sort index to walk: it reads the trigram
        indexes (rare terms) or stops after a short scan (common ones). When it finds at most
        ``probe`` rows the page filters on ``pk = ANY(those keys)``, which the planner sizes exactly;
        otherwise the term is common and the sort-index walk that the filter gets is the fast plan.
        Past :data:`~.sql.PLANNED_KEYS` found keys the page looks them up and sorts them, always. A
        value of several words is probed without its common words (:mod:`.words`)."""
        limit = fa_settings.SEARCH_PROBE_LIMIT
        narrowed = queryset.filter(*conditions)
        if not limit:
            return narrowed, None
        reltuples, rows = table_rows(narrowed)
        if 0 <= rows < fa_settings.SEARCH_SCAN_ROWS:
            return narrowed, None  # a small table: the filter reads it as fast as a probe would (stock's SQL)
        if planner_share(narrowed, reltuples) >= COMMON_SHARE:
            # The planner expects a large share of the table: walking the sort index meets a page of
            # matches soon, and a probe would only scan rows to learn what the estimate already says.
            return narrowed, None
        with stage("searching"):
            probe = queryset.filter(*(driven(c, self.model, queryset.db) for c in conditions))
            keys = read_keys(probe.order_by().values_list("pk", flat=True), limit + 1)
        if len(keys) > limit:
            return narrowed, None
        return queryset.filter(found_keys(keys)), len(keys)

    def _compile(self, term: Term, fields: list[SearchField], *, prefix_short: bool,
                 through: bool = True) -> _Compiled:
        """One term as an OR over its fields; ``served`` when every branch can use an index.

        ``through=False`` leaves related paths as plain joins (for :meth:`_same_related_row`)."""
        if term.namespace is not None:
            chosen = [f for f in fields if f.namespace == term.namespace]
            is_pk = not chosen and term.namespace in self.pk_namespaces()
            if not chosen and not is_pk:
                # Not a field here ("http://x", "note: ..."): the word as typed, as stock searches it.
                return self._compile(Term(str(term)), fields, prefix_short=prefix_short, through=through)
            if not term.value:
                raise BadParameter(
                    f"“{term.namespace}:” needs a value after the colon, e.g. {term.namespace}:something.",
                    param=SEARCH_PARAM,
                )
            if is_pk:
                return _Compiled(self._pk(term), served=True)
        else:
            chosen = fields
        run = longest_word(term.value)
        parts: list[Q | None] = []
        prefixed: list[str] = []
        served = True
        # Fields behind one relation (customer__name, customer__email): one probe, one subquery, in
        # the place of the first of them in the OR.
        hops: dict[str, int] = {}
        groups: dict[int, list[tuple[SearchField, Q, Q | None, bool]]] = {}
        for field in chosen:
            mode = term.mode or field.mode
            indexed = True
            if mode == CONTAINS and run < TRIGRAM_MIN:
                if prefix_short and run > 0:
                    mode = STARTSWITH
                    prefixed.append(field.namespace)
                else:
                    indexed = False
            elif mode == STARTSWITH and run == 0:
                indexed = False
            condition = self._condition(field, mode, term.value)
            if condition is None:
                continue  # the value cannot be one of this field's (a word for an integer): no match here
            served = served and indexed
            if through and field.related:
                hop, _, rest = field.path.partition(LOOKUP_SEP)
                if hop not in hops:
                    hops[hop] = len(parts)
                    parts.append(None)
                inner = self._condition(field, mode, term.value, path=rest)
                groups.setdefault(hops[hop], []).append((field, condition, inner, indexed))
            else:
                parts.append(condition)
        for index, group in groups.items():
            parts[index] = through_relations(self.model, group, using=self.using)
        notice = None
        if prefixed:
            notice = (
                f"“{term.value}” has fewer than {TRIGRAM_MIN} letters or digits in a row, so it was matched "
                f"at the start of {', '.join(prefixed)} only; type {TRIGRAM_MIN} or more to find it anywhere."
            )
        if not parts:
            if term.namespace is not None:
                raise BadParameter(
                    f"“{term.value}” is not a valid {self._describe(chosen[0].field)} for {term.namespace}:.",
                    param=SEARCH_PARAM,
                )
            return _Compiled(None, served=True)
        return _Compiled(Q.create(parts, connector=Q.OR), served=served, notice=notice)

    def _condition(self, field: SearchField, mode: str, value: str, path: str | None = None) -> Q | None:
        """The condition for one field, or None when ``value`` cannot be one of its values (stock skips
        such a field for that word: "abc" for ``id__exact``)."""
        if field.mode == LOOKUP and mode == LOOKUP:
            return self._lookup(field, value, path)
        path = path or field.path
        if mode == EXACT:
            if field.is_text or field.field is None:
                return Q(**{f"{path}__iexact": value})
            parsed = to_python(field.field, value)
            return None if parsed is INVALID else Q(**{f"{path}__exact": parsed})
        if mode == STARTSWITH:
            return Q(**{f"{path}__istartswith": value})
        if mode == FULLTEXT:
            return fulltext.condition(path, value, self.using or "default")
        return Q(**{f"{path}__icontains": value})

    def _lookup(self, field: SearchField, value: str, path: str | None) -> Q | None:
        """A lookup spelled out in ``search_fields`` (``id__exact``, ``name__istartswith``)."""
        target = field.field
        if target is not None and not field.is_text and field.lookup in TYPED_LOOKUPS:
            parsed = to_python(target, value)
            return None if parsed is INVALID else Q(**{f"{path or field.path}__{field.lookup}": parsed})
        condition = Q(**{f"{path or field.path}__{field.lookup}": value})
        if path is None:  # the full path, on this model: build (not run) the filter to check the value
            try:
                self.model._base_manager.filter(condition)
            except (ValidationError, ValueError, TypeError, OverflowError):
                return None
        return condition

    def _pk(self, term: Term) -> Q:
        pk = self.model._meta.pk
        value = to_python(pk, term.value)
        if value is INVALID or value is None:
            raise BadParameter(
                f"“{term.value}” is not a valid {self._describe(pk)} for {term.namespace}:; "
                f"{term.namespace}: takes one {self._describe(pk)} exactly, e.g. {term.namespace}:123.",
                param=SEARCH_PARAM,
            )
        return Q(pk=value)

    @staticmethod
    def _describe(field: Field | None) -> str:
        if field is None:
            return "value"
        if field.primary_key:
            return "ID" if field.get_internal_type() != "UUIDField" else "UUID"
        return str(field.description % field.__dict__).lower() if field.description else "value"

    def _by_relevance(self, queryset: QuerySet, terms: list[Term], fields: list[SearchField]) -> QuerySet:
        from django.contrib.postgres.search import TrigramSimilarity

        scores: list[Any] = []
        for term in terms:
            for field in fields:
                if field.related or not field.is_text or field.mode in (EXACT, FULLTEXT, LOOKUP):
                    continue
                if term.namespace in (None, field.namespace):
                    scores.append(TrigramSimilarity(field.path, term.value))
        if not scores:
            return queryset
        score = scores[0] if len(scores) == 1 else Greatest(*scores)
        return queryset.order_by(score.desc(), *queryset.query.order_by)

