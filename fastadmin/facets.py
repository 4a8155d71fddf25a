"""Estimated facet counts ("Show counts", ``?_facets=1``) for every list filter fastadmin builds.

Stock admin computes a filter's facets in one ``COUNT(*) FILTER (WHERE ...)`` per choice over the
filtered table: a full scan per filter on a large table. :class:`EstimatedFacetsMixin` overrides the
documented hook ``FacetsMixin.get_facet_queryset``: exact aggregates while the filtered rows are
estimated under ``EXACT_COUNT_THRESHOLD``, else the ModelAdmin's counter per choice. A count that is
not exact reaches the sidebar as its label ("≈ 72k", "more than 10,000"), never as a bare number
that reads as exact; a choice the planner puts under the threshold is counted exactly (capped, under
``COUNT_TIMEOUT_MS``), as the changelist's own count is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

from django.contrib.admin.filters import FacetsMixin
from django.db import OperationalError, connections, transaction
from django.db.models import Count as CountAggregate
from django.utils.translation import gettext as _

from .budget import BudgetExhausted, remaining_ms
from .conf import fa_settings
from .counting import Count
from .guards import DEFAULT_STAGE, is_query_canceled, stage

#: The allowance's clock (a test advances its own).
clock = time.monotonic


class EstimatedFacetsMixin:
    """Put before a ``FacetsMixin`` filter class: its facet counts come from the ModelAdmin's counter."""

    def get_facet_queryset(self, changelist) -> dict[str, int]:
        return estimated_facets(self, changelist)


def estimated_facets(spec: FacetsMixin, changelist) -> dict[str, int | str]:
    """Facet counts for ``spec``: aggregated exactly on small results, else one planner estimate each.

    Under a request budget (:mod:`fastadmin.budget`) what the budget cannot pay for is
    :func:`not_counted` instead of one statement per choice: a request whose estimates are slow (a
    pathological regular expression makes every EXPLAIN slow) still answers within the budget.
    """
    with stage("counting the filter choices"):
        try:
            return _facets(spec, changelist)
        except BudgetExhausted:  # raised before a statement was sent: the list's transaction is intact
            return dict.fromkeys(spec.get_facet_counts(changelist.pk_attname, changelist.queryset), not_counted())


def _facets(spec: FacetsMixin, changelist) -> dict[str, int | str]:
    if not budget_left():
        raise BudgetExhausted(DEFAULT_STAGE)
    filtered = changelist.get_queryset(spec.request, exclude_parameters=spec.expected_parameters())
    lookups = spec.get_facet_counts(changelist.pk_attname, filtered)
    counter = changelist.model_admin.get_counter(spec.request)
    if connections[filtered.db].vendor != "postgresql":
        return filtered.aggregate(**lookups)
    if counter.estimate(filtered.order_by()) < counter.threshold:
        counts = budgeted(lambda: filtered.aggregate(**lookups), filtered.db)
        return counts if isinstance(counts, dict) else dict.fromkeys(lookups, counts)
    result: dict[str, int | str] = {}
    # One COUNT_TIMEOUT_MS for the whole filter, not one per choice: past it the remaining choices
    # are estimated only (a sidebar of 100 customers must not cost 100 capped counts).
    deadline = clock() + fa_settings.COUNT_TIMEOUT_MS / 1000
    for name, aggregate in lookups.items():
        condition = aggregate.filter if isinstance(aggregate, CountAggregate) else None
        condition = getattr(condition, "condition", condition)  # Django 6 wraps it in AggregateFilter
        queryset = filtered.filter(condition) if condition is not None else filtered
        count = counter.count if clock() < deadline else lambda q: Count(counter.estimate(q), exact=False)
        result[name] = budgeted(lambda q=queryset, count=count: facet_value(count(q.order_by())), filtered.db)
    return result


def facet_value(count: Count) -> int | str:
    """What Django's filter prints in "Name (…)": the number when exact, else the count's label."""
    return count.value if count.exact else str(count)


def not_counted() -> str:
    return _("not counted")


def budget_left() -> bool:
    """False once the request's budget is spent (True without a budget)."""
    left = remaining_ms()
    return left is None or left > 0


def budgeted(estimate: Callable[[], Any], using: str) -> Any:
    """``estimate()``, or :func:`not_counted` when the budget is spent before or during it. Near the end
    of the budget the statement runs in a savepoint: the lowered timeout may cancel it, and the list's
    own transaction must survive that."""
    left = remaining_ms()
    if left is None:
        return estimate()
    if left <= 0:
        return not_counted()
    if left >= fa_settings.STATEMENT_TIMEOUT_MS:
        return estimate()
    try:
        with transaction.atomic(using=using):
            return estimate()
    except (BudgetExhausted, OperationalError) as exc:
        if isinstance(exc, OperationalError) and not is_query_canceled(exc):
            raise
        return not_counted()


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
