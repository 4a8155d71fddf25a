"""The changelist's date hierarchy (``date_hierarchy``): stock's on lists counted exactly; on large
ones, choices from the range of the column, never ``SELECT DISTINCT`` over the matching rows.

The range is two indexed ``ORDER BY … LIMIT 1`` reads in one statement, less what the first page
already shows (:func:`page_ends`). A list counted exactly answers stock's two questions (the
range, the distinct dates) from its distinct dates (:func:`from_rows`): read from its rows when the
first page holds them all, else from a ``SELECT DISTINCT`` of the level shown (:func:`distinct_dates`).
"""

from __future__ import annotations

import calendar
import datetime
from typing import Any

import django
from django.contrib.admin.templatetags.admin_list import date_hierarchy as stock_date_hierarchy
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import F
from django.db.models.constants import LOOKUP_SEP
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .walks import bounded_walk, hide

#: An end of the range that the page does not show (None is a range with no dates).
UNKNOWN = object()


def date_hierarchy(cl) -> dict[str, Any]:
    """Stock's drill-down on lists counted exactly (built from their days: :func:`from_rows`); on large
    ones the choices come from the range of the column (two indexed ``ORDER BY ... LIMIT 1`` reads)
    instead of ``SELECT DISTINCT`` date scans."""
    name = cl.date_hierarchy
    field = get_fields_from_path(cl.model, name)[-1]
    year, month, day = (cl.params.get(f"{name}__{part}") for part in ("year", "month", "day"))
    if year and month and day:
        return stock_date_hierarchy(cl)  # a single day: stock renders it without querying
    if cl.count.exact:
        values = all_values(cl, name, field)
        result = from_rows(cl, name, distinct_dates(cl, name, field) if values is None else values)
    else:
        result = from_range(cl, name, field, year, month)
    if result["show"] and django.VERSION >= (6, 0):
        result["field_name"] = field.verbose_name  # Django 6 labels the links "Filter by <field>"
    return result


def from_range(cl, name: str, field: models.Field, year: str | None, month: str | None) -> dict[str, Any]:
    """Every day, month or year between the list's first and last date: each may hold no row."""
    first, last = date_range(cl.queryset, name, field, *page_ends(cl, name, field))
    if first is None:
        return {"show": False}
    if year and month:
        y, m = int(year), int(month)
        days = (datetime.date(y, m, d) for d in range(1, calendar.monthrange(y, m)[1] + 1))
        dates = [d for d in days if first <= d <= last]
    elif year:
        y = int(year)
        dates = [datetime.date(y, m, 1) for m in range(1, 13)
                 if (first.year, first.month) <= (y, m) <= (last.year, last.month)]
    else:
        dates = [datetime.date(y, 1, 1) for y in range(first.year, last.year + 1)]
    return _levels(cl, name, year, month, dates)


def from_rows(cl, name: str, values: list[Any]) -> dict[str, Any]:
    """Stock's drill-down from the list's values (every row's, or its distinct dates): stock's ``MIN``/
    ``MAX`` and ``SELECT DISTINCT`` dates, without reading the rows again."""
    dates = sorted({v.date() for v in values} if values and isinstance(values[0], datetime.datetime) else set(values))
    year, month = cl.params.get(f"{name}__year"), cl.params.get(f"{name}__month")
    if not (year or month or cl.params.get(f"{name}__day")) and dates:  # stock's starting level
        if dates[0].year == dates[-1].year:
            year = dates[0].year
            if dates[0].month == dates[-1].month:
                month = dates[0].month
    return _levels(cl, name, year, month, dates)


def _levels(cl, name: str, year: Any, month: Any, dates: list[datetime.date]) -> dict[str, Any]:
    """Stock's links and titles: the days of ``dates`` within year and month, their months within
    year, or their years."""
    def link(filters):
        return cl.get_query_string(filters, [f"{name}__"])

    year_field, month_field = f"{name}__year", f"{name}__month"
    if year and month:
        return {
            "show": True, "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [{"link": link({year_field: year, month_field: month, f"{name}__day": d.day}),
                         "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT"))} for d in dates],
        }
    if year:
        return {
            "show": True, "back": {"link": link({}), "title": _("All dates")},
            "choices": [{"link": link({year_field: year, month_field: m.month}),
                         "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT"))}
                        for m in sorted({d.replace(day=1) for d in dates})],
        }
    return {"show": True, "back": None,
            "choices": [{"link": link({year_field: str(y)}), "title": str(y)} for y in sorted({d.year for d in dates})]}


def distinct_dates(cl, name: str, field: models.Field) -> list[Any]:
    """The list's distinct dates at the finest level shown (in the current time zone): its days
    within a month drilled into, else its months (what the year and month levels show), and its days
    only when all its rows fall in one month (stock's starting level is then that month's days).
    Stock's ``MIN``/``MAX`` and ``SELECT DISTINCT`` in one statement mostly, two at most; months, not
    days, so a list over years reads dozens of values, not a thousand."""
    year, month = cl.params.get(f"{name}__year"), cl.params.get(f"{name}__month")
    if year and month:
        return distinct(cl.queryset, name, field, "day")
    months = distinct(cl.queryset, name, field, "month")
    if year or month or len(months) != 1:
        return months
    return distinct(cl.queryset, name, field, "day")


def distinct(queryset, name: str, field: models.Field, kind: str) -> list[Any]:
    """``queryset``'s distinct values of ``name`` truncated to ``kind`` (``day``, ``month``), one
    ``SELECT DISTINCT``."""
    method = "datetimes" if isinstance(field, models.DateTimeField) else "dates"
    return list(getattr(queryset, method)(name, kind))


def all_values(cl, name: str, field: models.Field) -> list[Any] | None:
    """Every non-null value of ``name`` in the list (datetimes in the current time zone, as stock's
    ``datetimes()`` truncates them) when the first keyset page holds every row; else None."""
    page, values = _page_values(cl, name, field)
    if page is None or not page.is_last:
        return None
    if isinstance(field, models.DateTimeField):
        values = [_local(v) for v in values]
    return values


def page_ends(cl, name: str, field: models.Field) -> tuple[Any, Any]:
    """The first and last values of ``name`` that the first keyset page already shows (``UNKNOWN``
    where it does not): both when it holds every row; the extreme its leading sort key puts first
    when the list is ordered by ``name`` (the first non-null value in that order, NULLs being skipped
    by the range). A common search term through a relation then builds its hashed subquery once
    less: at 10M orders each build costs about 40 ms."""
    page, values = _page_values(cl, name, field)
    if page is None or not page.rows:
        return UNKNOWN, UNKNOWN
    if page.is_last:
        return (min(values), max(values)) if values else (None, None)
    keys = getattr(cl.keyset_paginator, "keys", None)
    if not keys or keys[0].name != name or not values:
        return UNKNOWN, UNKNOWN
    return (UNKNOWN, values[0]) if keys[0].descending else (values[0], UNKNOWN)


def _page_values(cl, name: str, field: models.Field) -> tuple[Any, list[Any]]:
    """The first keyset page and its rows' non-null values of ``name`` in row order, or
    ``(None, [])`` where the page cannot say: a later or numbered page, a date across a relation, a
    deferred column (reading it would cost a query per row)."""
    page = None if cl.numbered else cl.page
    if page is None or not page.is_first or LOOKUP_SEP in name:
        return None, []
    if page.rows and field.attname in page.rows[0].get_deferred_fields():
        return None, []
    return page, [v for v in (getattr(row, field.attname) for row in page.rows) if v is not None]


def date_range(queryset, name: str, field: models.Field, first: Any = UNKNOWN, last: Any = UNKNOWN):
    """First and last date of ``name`` in ``queryset``: two indexed ``ORDER BY … LIMIT 1`` reads, sent
    as one statement on PostgreSQL (``SELECT (first), (last)``; the driver's values are the ORM's
    there, unless the field converts them itself with ``from_db_value``)."""
    known = {"first": first, "last": last}
    wanted = [end for end, value in known.items() if value is UNKNOWN]
    if wanted:
        found = bounded_walk(lambda hidden: _read_ends(queryset, name, field, wanted, hidden), queryset)
        if found is None:
            return None, None
        known.update(zip(wanted, found, strict=True))
    first, last = known["first"], known["last"]
    if first is None or last is None:
        return None, None
    if isinstance(field, models.DateTimeField):
        first, last = _local(first), _local(last)
        return first.date(), last.date()
    return first, last


def _read_ends(queryset, name: str, field: models.Field, wanted: list[str], hidden: bool) -> list[Any] | None:
    """The ``wanted`` ends ("first", "last") of ``name``, None when the query can match nothing;
    ``hidden``: sorted without the column's index (see :mod:`fastadmin.walks`)."""
    values = queryset.filter(**{f"{name}__isnull": False}).values_list(name, flat=True)
    orders = {"first": F(name).asc(), "last": F(name).desc()}
    ends = {end: values.order_by(hide(order) if hidden else order)[:1] for end, order in orders.items()}
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or hasattr(field, "from_db_value"):
        return [ends[end].first() for end in wanted]
    try:
        compiled = [ends[end].query.get_compiler(using=queryset.db).as_sql() for end in wanted]
    except EmptyResultSet:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"({sql})" for sql, _params in compiled),
                       [p for _sql, params in compiled for p in params])
        return list(cursor.fetchone())


def _local(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in the current time zone, as stock's date hierarchy shows it (naive: as it is)."""
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment
