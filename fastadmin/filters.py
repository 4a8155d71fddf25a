"""List filters that stay bounded on large tables and obey the ModelAdmin's queryset.

Stock ``RelatedFieldListFilter`` loads every row of the related table and ``AllValuesFieldListFilter``
runs ``SELECT DISTINCT`` over the whole changelist table. On a table with millions of rows both are
full scans on every page view. The bounded versions list at most ``FILTER_MAX_CHOICES`` choices (the
related table's first rows, or the column's most common values from PostgreSQL's statistics) plus the
current selection, and offer a box to type any other value.

Like stock's, they never show a value the admin hides: related choices obey the field's
``limit_choices_to``, and common values proposed by ``pg_stats`` (which describe the whole table) are
checked against ``ModelAdmin.get_queryset`` in one bounded query unless that queryset is the table's
own rows.

``ModelAdmin.get_list_filter`` keeps returning what the project declared; the ChangeList converts it
with :func:`changelist_filters` when it builds the sidebar.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.admin.filters import (
    AllValuesFieldListFilter,
    BooleanFieldListFilter,
    ChoicesFieldListFilter,
    DateFieldListFilter,
    RelatedFieldListFilter,
)
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections, models
from django.db.models.constants import LOOKUP_SEP

from .conf import fa_settings
from .facets import EstimatedFacetsMixin, estimated_facets, with_estimated_facets
from .filter_other import autocomplete_params
from .guards import is_query_canceled, read_alias, statement_timeout

#: Budget of the one query a filter may run for its choices (DISTINCT on a never-analyzed table, or the
#: check of the statistics' candidates); past it the filter offers only its free-text box.
CHOICES_TIMEOUT_MS = 200

__all__ = [
    "BoundedAllValuesFieldListFilter",
    "BoundedRelatedFieldListFilter",
    "changelist_filters",
    "estimated_facets",
    "filter_class_for",
    "other_params",
]


class BoundedChoicesMixin(EstimatedFacetsMixin):
    """Marks a filter whose choices were cut short; its template then shows a free-text box."""

    template = "fastadmin/filter_bounded.html"
    truncated = False

    def free_text_param(self) -> str:
        return self.lookup_kwarg  # type: ignore[attr-defined]

    def free_text_value(self) -> str:
        value = self.lookup_val  # type: ignore[attr-defined]
        if isinstance(value, list):
            return value[0] if value else ""
        return value or ""

    def choices(self, changelist):
        self.changelist = changelist
        yield from super().choices(changelist)  # type: ignore[misc]

    @property
    def max_choices(self) -> int:
        return fa_settings.FILTER_MAX_CHOICES

    def hidden_params(self) -> list[tuple[str, str]]:
        """The other active parameters, so typing a value keeps the rest of the filtering."""
        return other_params(self.changelist, self.expected_parameters())  # type: ignore[attr-defined]


class BoundedRelatedFieldListFilter(BoundedChoicesMixin, RelatedFieldListFilter):
    """Lists the first ``FILTER_MAX_CHOICES`` related objects (and the selected ones), not all of them.

    Works for forward (FK, one-to-one, many-to-many), reverse and generic relations. Choices and the
    selected values are read through one queryset: the related model's default manager narrowed by the
    field's ``limit_choices_to``, as stock's ``field.get_choices`` does. A selected value that queryset
    doesn't hold is shown as typed, never as another object's ``str()``.
    """

    unresolved: list[str] = []
    autocomplete: dict[str, str] | None = None

    def field_choices(self, field, request, model_admin) -> list[tuple[Any, str]]:
        limit = fa_settings.FILTER_MAX_CHOICES
        related = field.remote_field.model
        target = field.target_field.attname
        self.autocomplete = autocomplete_params(model_admin, field, request)
        ordering = self.field_admin_ordering(field, request, model_admin) or related._meta.ordering or [target]
        queryset = related_choices(field).using(read_alias(related)).order_by(*ordering)
        rows = list(queryset[: limit + 1])
        self.truncated = len(rows) > limit
        choices = [(getattr(obj, target), str(obj)) for obj in rows[:limit]]
        listed = {str(value) for value, _label in choices}
        selected = [value for value in (self.lookup_val or []) if value not in listed]
        found: dict[str, str] = {}
        if selected:
            try:
                found = {str(getattr(obj, target)): str(obj) for obj in queryset.filter(**{f"{target}__in": selected})}
            except (ValueError, TypeError, ValidationError):
                pass  # not a value of the target's type: shown as typed
        # Like stock, a value no choice holds doesn't make the filter appear; it is shown as typed.
        self.unresolved = [value for value in selected if value not in found]
        return choices + [(value, found[value]) for value in selected if value in found]

    def choices(self, changelist):
        yield from super().choices(changelist)
        for value in self.unresolved:
            yield {
                "selected": True,
                "query_string": changelist.get_query_string({self.lookup_kwarg: value}, [self.lookup_kwarg_isnull]),
                "display": value,
            }


def related_choices(field) -> models.QuerySet:
    """The objects a relation filter may offer: what stock's ``field.get_choices`` reads, unbounded.

    ``limit_choices_to`` restricts the targets of a forward field. For a reverse relation Django would
    apply the forward field's condition to the other model, where it names fields that may not exist,
    so it is left out there.
    """
    related = field.remote_field.model
    queryset = related._default_manager.all()
    if isinstance(field, models.ForeignObjectRel):
        return queryset
    return queryset.complex_filter(field.get_limit_choices_to())


class BoundedAllValuesFieldListFilter(BoundedChoicesMixin, AllValuesFieldListFilter):
    """Lists the column's most common values from ``pg_stats`` instead of ``SELECT DISTINCT`` over it.

    The statistics describe the whole table (every tenant, soft-deleted rows, and for a path across a
    relation, rows no listed row refers to). They are used as they are only when the admin's queryset
    is the table's own rows; otherwise they are candidates, and one query keeps those the admin's
    queryset holds: ``UNION ALL`` of one ``LIMIT 1`` lookup per candidate.
    """

    def __init__(self, field, request, params, model, model_admin, field_path) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        queryset = model_admin.get_queryset(request).using(read_alias(model))
        if connections[queryset.db].vendor == "postgresql":
            self.lookup_choices = self.bounded_values(queryset, field, field_path)

    def bounded_values(self, queryset: models.QuerySet, field, field_path: str) -> list[Any]:
        """Up to ``FILTER_MAX_CHOICES`` values of ``field_path`` in ``queryset``, sorted, None last."""
        stats = column_statistics(queryset.db, field)
        if stats is None:
            return self.distinct_values(queryset, field_path)
        common, n_distinct, null_frac = stats
        limit = fa_settings.FILTER_MAX_CHOICES
        candidates = sorted({field.to_python(v) for v in common[:limit]}, key=lambda v: (str(type(v)), v))
        self.truncated = not (0 < n_distinct <= len(candidates))
        own_rows = LOOKUP_SEP not in field_path and field.model is queryset.model._meta.concrete_model
        if own_rows and is_whole_table(queryset):
            return [*candidates, None] if null_frac else candidates
        if null_frac or LOOKUP_SEP in field_path:
            candidates.append(None)  # a path across a relation is empty where the relation is
        try:
            with statement_timeout(CHOICES_TIMEOUT_MS, queryset.db):
                present = values_present(queryset, field_path, candidates)
        except Exception as exc:
            if not is_query_canceled(exc):
                raise
            self.truncated = True
            return []
        return [v for v in candidates if v in present]

    def distinct_values(self, queryset: models.QuerySet, field_path: str) -> list[Any]:
        """A never-analyzed table: a bounded DISTINCT under a short timeout, else only the free-text box."""
        limit = fa_settings.FILTER_MAX_CHOICES
        try:
            with statement_timeout(CHOICES_TIMEOUT_MS, queryset.db):
                found = list(
                    queryset.order_by(field_path).values_list(field_path, flat=True).distinct()[: limit + 1]
                )
        except Exception as exc:
            if not is_query_canceled(exc):
                raise
            self.truncated = True
            return []
        self.truncated = len(found) > limit
        return found[:limit]


def column_statistics(using: str, field) -> tuple[list[str], float, float] | None:
    """``(most common values as text, n_distinct, null_frac)`` of the field's column, None if unanalyzed."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text::text[], n_distinct, null_frac FROM pg_stats"
            " WHERE schemaname = current_schema() AND tablename = %s AND attname = %s",
            [field.model._meta.db_table, field.column],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    return row


def is_whole_table(queryset: models.QuerySet) -> bool:
    """True when ``queryset`` selects every row of its table (no condition, slice or set operation)."""
    query = queryset.query
    return not query.where and not query.is_sliced and not query.combinator


def values_present(queryset: models.QuerySet, field_path: str, candidates: Sequence[Any]) -> set[Any]:
    """Which ``candidates`` occur at ``field_path`` in ``queryset``: one statement, one row per hit."""
    base = queryset.order_by().values_list(field_path, flat=True)
    parts = [
        base.filter(**({f"{field_path}__isnull": True} if value is None else {field_path: value}))[:1]
        for value in candidates
    ]
    if not parts:
        return set()
    # order_by(): Django 6 would order the union by the model's Meta.ordering, which it doesn't select.
    return set(parts[0].union(*parts[1:], all=True).order_by()) if len(parts) > 1 else set(parts[0])


def other_params(changelist, own) -> list[tuple[str, str]]:
    """The changelist's query parameters except ``own``, as (name, value) pairs for hidden inputs."""
    return [
        (name, value)
        for name, values in changelist.filter_params.items()
        if name not in own
        for value in values
    ]


class FacetedBooleanFieldListFilter(EstimatedFacetsMixin, BooleanFieldListFilter):
    """Stock's filter for booleans (two or three fixed choices, no query), with estimated facets."""


class FacetedChoicesFieldListFilter(EstimatedFacetsMixin, ChoicesFieldListFilter):
    """Stock's filter for fields with ``choices`` (listed from the field, no query), with estimated facets."""


class FacetedDateFieldListFilter(EstimatedFacetsMixin, DateFieldListFilter):
    """Stock's filter for dates (fixed ranges, no query), with estimated facets."""


def filter_class_for(field) -> type:
    """The filter class for a ``list_filter`` field name, chosen by field type in the order stock's
    ``FieldListFilter.create`` tries its registered filters."""
    if field.remote_field:
        return BoundedRelatedFieldListFilter
    if isinstance(field, models.BooleanField):
        return FacetedBooleanFieldListFilter
    if field.choices:
        return FacetedChoicesFieldListFilter
    if isinstance(field, models.DateField):
        return FacetedDateFieldListFilter
    return BoundedAllValuesFieldListFilter


def changelist_filters(list_filter: Sequence[Any], model_admin) -> list[Any]:
    """``list_filter`` (as ``get_list_filter`` returned it) with fastadmin's classes substituted.

    Field names get :func:`filter_class_for`'s class; classes the project names (alone or paired with a
    field) get estimated facets unless they compute facets themselves; a ``filterset_class`` is appended.
    """
    converted: list[Any] = []
    for item in list_filter:
        if isinstance(item, str):
            try:
                field = get_fields_from_path(model_admin.model, item)[-1]
            except (FieldDoesNotExist, NotRelationField):  # stock reports it (admin checks, or a 500 as stock)
                converted.append(item)
                continue
            converted.append((item, filter_class_for(field)))
        elif isinstance(item, (tuple, list)) and isinstance(item[1], type):
            converted.append((item[0], with_estimated_facets(item[1])))
        elif isinstance(item, type):
            converted.append(with_estimated_facets(item))
        else:
            converted.append(item)
    filterset_class = getattr(model_admin, "filterset_class", None)
    if filterset_class is not None:
        from .filtersets import filterset_list_filter

        converted.append(filterset_list_filter(filterset_class))
    return converted
