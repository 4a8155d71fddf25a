"""Estimated facet counts ("Show counts", ``?_facets=1``) for every list filter fastadmin builds.

Stock admin computes a filter's facets in one ``COUNT(*) FILTER (WHERE ...)`` per choice over the
filtered table: a full scan per filter on a large table. :class:`EstimatedFacetsMixin` overrides the
documented hook ``FacetsMixin.get_facet_queryset``: exact aggregates while the filtered rows are
estimated under ``EXACT_COUNT_THRESHOLD``, else one planner estimate per choice.
"""

from __future__ import annotations

from functools import cache

from django.contrib.admin.filters import FacetsMixin
from django.db import connections
from django.db.models import Count as CountAggregate


class EstimatedFacetsMixin:
    """Put before a ``FacetsMixin`` filter class: its facet counts come from the ModelAdmin's counter."""

    def get_facet_queryset(self, changelist) -> dict[str, int]:
        return estimated_facets(self, changelist)


def estimated_facets(spec: FacetsMixin, changelist) -> dict[str, int]:
    """Facet counts for ``spec``: aggregated exactly on small results, else one planner estimate each."""
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


@cache
def with_estimated_facets(filter_class: type) -> type:
    """``filter_class`` with :class:`EstimatedFacetsMixin` mixed in, created once per class.

    Returned unchanged when it has no facets, already estimates them, or the project overrides
    ``get_facet_queryset`` itself. The subclass keeps the name, module and docstring, so ``isinstance``
    checks and templates that name the project's class keep working.
    """
    if (
        not issubclass(filter_class, FacetsMixin)
        or issubclass(filter_class, EstimatedFacetsMixin)
        or filter_class.get_facet_queryset is not FacetsMixin.get_facet_queryset
    ):
        return filter_class
    attrs = {
        "__module__": filter_class.__module__,
        "__qualname__": filter_class.__qualname__,
        "__doc__": filter_class.__doc__,
    }
    return type(filter_class.__name__, (EstimatedFacetsMixin, filter_class), attrs)
