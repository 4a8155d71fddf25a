"""The date hierarchy of large lists reads only the ends of the range that the first page does not show."""

from __future__ import annotations

import datetime
import decimal
import re

import django
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils.timezone import override as timezone_override
from shop.models import Customer, Order

START = datetime.datetime(2023, 11, 5, 12, 0, tzinfo=datetime.UTC)


def paid_orders(name: str, prefix: str, moments) -> None:
    """One customer's paid orders, one per moment: numbers ``<prefix>-0000``, ``<prefix>-0001``, …"""
    customer = Customer.objects.create(name=name, email=f"{name.lower()}@example.com", country="DE",
                                       city="Köln", is_active=True, created=START)
    Order.objects.bulk_create(
        Order(customer=customer, number=f"{prefix}-{i:04d}", status="paid", total=decimal.Decimal(i),
              placed_at=moment)
        for i, moment in enumerate(moments)
    )


@pytest.fixture
def orders(db):
    paid_orders("Ann", "N", (START + datetime.timedelta(days=3 * i) for i in range(300)))  # 2023-11 to 2026-06


def _bounds(url: str, client) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in captured.captured_queries
                                       if '"placed_at" IS NOT NULL' in q["sql"]]


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 10})
def test_the_first_page_ordered_by_the_date_gives_one_end(admin_client, orders):
    """Orders are listed newest first: the first row is the last date; only the first is read."""
    html, bounds = _bounds("/admin/shop/order/", admin_client)
    assert len(bounds) == 1 and bounds[0].count("LIMIT 1") == 1 and "ASC LIMIT 1" in bounds[0], bounds
    years = sorted({int(y) for y in re.findall(r"placed_at__year=(\d+)", html)})
    assert years == [2023, 2024, 2025, 2026]
    if django.VERSION >= (6, 0):  # Django 6 names the field in the links' label
        assert "Filter by placed at" in html

    # Sorted by another column (or on a later page) the page says nothing of the range: both ends.
    html, bounds = _bounds("/admin/shop/order/?o=4", admin_client)
    assert len(bounds) == 1 and bounds[0].count("LIMIT 1") == 2, bounds
    assert sorted({int(y) for y in re.findall(r"placed_at__year=(\d+)", html)}) == years


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 10})
def test_a_year_drill_down_uses_the_pages_last_date(admin_client, orders):
    """2024 holds more orders than a page: its months run from its first order's to its last's."""
    html, bounds = _bounds("/admin/shop/order/?placed_at__year=2024", admin_client)
    months = sorted({int(m) for m in re.findall(r"placed_at__month=(\d+)", html)})
    assert months == list(range(1, 13))
    assert len(bounds) == 1 and bounds[0].count("LIMIT 1") == 1, bounds


# ---------------------------------------------------------------- lists that one page holds
# Orders near year and month ends in UTC: in New York several fall on the day, month or year before.
EDGES = [datetime.datetime(*moment, tzinfo=datetime.UTC) for moment in [
    (2023, 12, 31, 23, 30), (2024, 1, 1, 2, 0), (2024, 1, 1, 6, 0), (2024, 1, 31, 22, 0), (2024, 2, 1, 3, 0),
    (2024, 2, 14, 12, 0), (2024, 3, 1, 4, 59), (2025, 6, 30, 23, 59),
]]


@pytest.fixture
def edge_orders(db):
    customer = Customer.objects.create(name="Bo", email="bo@example.com", country="US", city="NYC",
                                       is_active=True, created=START)
    Order.objects.bulk_create(
        Order(customer=customer, number=f"E-{i}", status="paid" if moment.year == 2024 else "shipped",
              total=decimal.Decimal(i), placed_at=moment)
        for i, moment in enumerate(EDGES)
    )
    # February 2024 alone, for stock's start at the days of the one month the rows span
    Order.objects.filter(number__in=["E-4", "E-5"]).update(status="refunded")


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
@pytest.mark.parametrize("query", [
    "", "?status__exact=paid", "?status__exact=refunded", "?q=E-5", "?q=nothing-like-it",
    "?placed_at__year=2024", "?placed_at__year=2024&placed_at__month=1", "?placed_at__month=1",
    "?placed_at__year=2024&placed_at__month=2&placed_at__day=14",
])
def test_a_list_on_one_page_drills_down_as_stock_without_queries(edge_orders, superuser, zone, query):
    """The page holds every row: the same levels, links and titles as stock's date_hierarchy, in any
    time zone, and neither of stock's two queries (MIN/MAX, SELECT DISTINCT)."""
    from django.contrib.admin.templatetags.admin_list import date_hierarchy as stock_date_hierarchy
    from django.test import RequestFactory

    import fastadmin
    from fastadmin.date_hierarchy import date_hierarchy

    with override_settings(TIME_ZONE=zone), timezone_override(zone):
        request = RequestFactory().get(f"/admin/shop/order/{query}")
        request.user = superuser
        cl = fastadmin.site.get_model_admin(Order).get_changelist_instance(request)
        assert cl.page.is_first and cl.page.is_last
        with CaptureQueriesContext(connection) as captured:
            ours = date_hierarchy(cl)
        assert not captured.captured_queries, [q["sql"] for q in captured.captured_queries]
        assert ours == stock_date_hierarchy(cl)


def test_a_date_field_drills_down_as_stock_without_queries(superuser, db):
    """A DateField (stock's ``dates()``, not ``datetimes()``), NULLs among the values."""
    from django.contrib.admin.templatetags.admin_list import date_hierarchy as stock_date_hierarchy
    from django.test import RequestFactory

    import fastadmin
    from fastadmin.date_hierarchy import date_hierarchy
    from tests.renderapp.models import Specimen

    days = [datetime.date(2024, 5, 2), datetime.date(2024, 5, 30), None, datetime.date(2024, 5, 2)]
    Specimen.objects.bulk_create(Specimen(name=f"s{i}", day=day) for i, day in enumerate(days))
    model_admin = type("DayAdmin", (fastadmin.ModelAdmin,), {"date_hierarchy": "day"})(Specimen, fastadmin.site)
    for query in ["", "?day__year=2024", "?name=s9"]:
        request = RequestFactory().get(f"/x/{query}")
        request.user = superuser
        cl = model_admin.get_changelist_instance(request)
        assert cl.page.is_first and cl.page.is_last  # read here, as the list reads it
        with CaptureQueriesContext(connection) as captured:
            ours = date_hierarchy(cl)
        assert not captured.captured_queries
        assert ours == stock_date_hierarchy(cl), query


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
@pytest.mark.parametrize("query", ["", "?placed_at__year=2024", "?placed_at__year=2025&placed_at__month=3",
                                   "?status__exact=paid", "?placed_at__month=2", "?q=N-01"])
def test_a_list_counted_exactly_drills_down_as_stock_in_one_query(orders, superuser, zone, query):
    """Several pages, counted exactly: stock's output from one SELECT DISTINCT of the days, not
    stock's MIN/MAX and SELECT DISTINCT."""
    from django.contrib.admin.templatetags.admin_list import date_hierarchy as stock_date_hierarchy
    from django.test import RequestFactory

    import fastadmin
    from fastadmin.date_hierarchy import date_hierarchy

    with override_settings(TIME_ZONE=zone), timezone_override(zone):
        request = RequestFactory().get(f"/admin/shop/order/{query}")
        request.user = superuser
        cl = fastadmin.site.get_model_admin(Order).get_changelist_instance(request)
        assert cl.count.exact
        cl.page  # noqa: B018 - read here, as the list reads it
        with CaptureQueriesContext(connection) as captured:
            ours = date_hierarchy(cl)
        sql = [q["sql"] for q in captured.captured_queries]
        assert len(sql) <= 1 and all("SELECT DISTINCT" in s for s in sql), sql
        assert ours == stock_date_hierarchy(cl)


def test_a_list_over_years_reads_its_months_not_its_days(admin_client, orders):
    """300 orders over three years: the SELECT DISTINCT truncates to months (dozens of values)."""
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get("/admin/shop/order/?status__exact=paid").status_code == 200
    distinct = [q["sql"] for q in captured.captured_queries if "SELECT DISTINCT" in q["sql"]]
    assert len(distinct) == 1 and "'month'" in distinct[0], distinct


@pytest.fixture
def one_month(db):
    paid_orders("Cy", "M", (datetime.datetime(2024, 2, 1 + i % 29, 12, i % 60, tzinfo=datetime.UTC)
                            for i in range(250)))  # more than a page, all in February 2024


@pytest.mark.parametrize("query", ["", "?placed_at__year=2024", "?placed_at__month=2",
                                   "?placed_at__year=2024&placed_at__month=2"])
def test_a_list_in_one_month_starts_at_its_days_as_stock(one_month, superuser, query):
    """Stock starts at the days of the one month a list spans: the months, then that month's days
    (two SELECT DISTINCT at most, stock's MIN/MAX and SELECT DISTINCT being two as well)."""
    from django.contrib.admin.templatetags.admin_list import date_hierarchy as stock_date_hierarchy
    from django.test import RequestFactory

    import fastadmin
    from fastadmin.date_hierarchy import date_hierarchy

    request = RequestFactory().get(f"/admin/shop/order/{query}")
    request.user = superuser
    cl = fastadmin.site.get_model_admin(Order).get_changelist_instance(request)
    assert cl.count.exact and not cl.page.is_last
    with CaptureQueriesContext(connection) as captured:
        ours = date_hierarchy(cl)
    sql = [q["sql"] for q in captured.captured_queries]
    assert 1 <= len(sql) <= (1 if query else 2) and all("SELECT DISTINCT" in s for s in sql), sql
    assert ours == stock_date_hierarchy(cl)
    if not query or ("month" in query and "year" in query):
        assert len(ours["choices"]) == 29 and "'day'" in sql[-1]  # February 2024's days
    else:
        assert "'month'" in sql[0]
