"""List filters that stay bounded on large tables.

Stock ``RelatedFieldListFilter`` loads every row of the related table and ``AllValuesFieldListFilter``
runs ``SELECT DISTINCT`` over the whole changelist table. On a table with millions of rows both are
full scans on every page view. The bounded versions list at most ``FILTER_MAX_CHOICES`` choices (the
related table's first rows, or the column's most common values from PostgreSQL's statistics) plus the
current selection, and offer a box to type any other value.

Facet counts ("Show counts") are estimated by the ModelAdmin's counter instead of aggregated, see
:func:`estimated_facets`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.filters import (
    AllValuesFieldListFilter,
    FacetsMixin,
    RelatedFieldListFilter,
)
from django.db import connections
from django.db.models import Count as CountAggregate

from .conf import fa_settings
from .guards import is_query_canceled, read_alias, statement_timeout


class BoundedChoicesMixin:
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

    def hidden_params(self) -> list[tuple[str, str]]:
        """The other active parameters, so typing a value keeps the rest of the filtering."""
        return other_params(self.changelist, self.expected_parameters())  # type: ignore[attr-defined]


class BoundedRelatedFieldListFilter(BoundedChoicesMixin, RelatedFieldListFilter):
    """Lists the first ``FILTER_MAX_CHOICES`` related objects (and the selected one), not all of them."""

    def field_choices(self, field, request, model_admin) -> list[tuple[Any, str]]:
        limit = fa_settings.FILTER_MAX_CHOICES
        related = field.remote_field.model
        ordering = self.field_admin_ordering(field, request, model_admin) or related._meta.ordering or ["pk"]
        target = field.target_field.attname if hasattr(field, "target_field") else "pk"
        queryset = related._default_manager.using(read_alias(related)).order_by(*ordering)
        rows = list(queryset[: limit + 1])
        self.truncated = len(rows) > limit
        choices = [(getattr(obj, target), str(obj)) for obj in rows[:limit]]
        selected = [v for v in (self.lookup_val or []) if v not in {str(c[0]) for c in choices}]
        if selected:
            try:
                extra = queryset.filter(**{f"{target}__in": selected})
                choices += [(getattr(obj, target), str(obj)) for obj in extra]
            except (ValueError, TypeError):
                pass
        return choices


class BoundedAllValuesFieldListFilter(BoundedChoicesMixin, AllValuesFieldListFilter):
    """Lists the column's most common values from ``pg_stats`` instead of ``SELECT DISTINCT`` over it."""

    def __init__(self, field, request, params, model, model_admin, field_path) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        values = self._common_values(model_admin.get_queryset(request).using(read_alias(model)), field)
        if values is not None:
            self.lookup_choices = values

    def _common_values(self, queryset, field) -> list[Any] | None:
        limit = fa_settings.FILTER_MAX_CHOICES
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        # For a path across a relation (customer__city) these are the related table's statistics:
        # its common values, which rows of this table may or may not reference; choosing one of
        # them filters correctly either way.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT most_common_vals::text::text[], n_distinct FROM pg_stats"
                " WHERE schemaname = current_schema() AND tablename = %s AND attname = %s",
                [field.model._meta.db_table, field.column],
            )
            row = cursor.fetchone()
        if row is None or row[0] is None:
            # Never analyzed: a bounded DISTINCT under a short timeout, else only the free-text box.
            try:
                with statement_timeout(200, queryset.db):
                    found = list(
                        queryset.order_by(field.name).values_list(field.name, flat=True).distinct()[: limit + 1]
                    )
            except Exception as exc:
                if not is_query_canceled(exc):
                    raise
                self.truncated = True
                return []
            self.truncated = len(found) > limit
            return [v for v in found[:limit] if v is not None]
        common, n_distinct = row
        values = sorted({field.to_python(v) for v in common[:limit]}, key=lambda v: (str(type(v)), v))
        self.truncated = not (0 < n_distinct <= len(values))
        return values


def other_params(changelist, own) -> list[tuple[str, str]]:
    """The changelist's query parameters except ``own``, as (name, value) pairs for hidden inputs."""
    return [
        (name, value)
        for name, values in changelist.filter_params.items()
        if name not in own
        for value in values
    ]


def bounded_filter_for(field) -> type | None:
    """The bounded filter class to use for a plain ``list_filter`` field name, or None for stock."""
    if field.is_relation and (field.many_to_one or field.many_to_many or field.one_to_one):
        return BoundedRelatedFieldListFilter
    if getattr(field, "flatchoices", None) or field.get_internal_type() in ("BooleanField", "NullBooleanField"):
        return None
    if field.get_internal_type() in ("DateField", "DateTimeField"):
        return None
    return BoundedAllValuesFieldListFilter


def estimated_facets(spec: FacetsMixin, changelist) -> dict[str, int]:
    """Facet counts for ``spec``: aggregated exactly on small results, else one planner estimate each.

    Stock admin computes all facets of a filter in one ``COUNT(*) FILTER (...)`` per choice over the
    filtered table: a full scan per filter on a large table.
    """
    filtered = changelist.get_queryset(spec.request, exclude_parameters=spec.expected_parameters())
    lookups = spec.get_facet_counts(changelist.pk_attname, filtered)
    counter = changelist.model_admin.get_counter(spec.request)
    if connections[filtered.db].vendor != "postgresql" or counter.estimate(filtered.order_by()) < counter.threshold:
        return filtered.aggregate(**lookups)
    result = {}
    for name, aggregate in lookups.items():
        condition = aggregate.filter if isinstance(aggregate, CountAggregate) else None
        condition = getattr(condition, "condition", condition)  # Django 6 wraps it in AggregateFilter
        queryset = filtered.filter(condition) if condition is not None else filtered
        result[name] = counter.estimate(queryset.order_by())
    return result
