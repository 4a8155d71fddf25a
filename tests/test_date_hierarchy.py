"""The date hierarchy of large lists reads only the ends of the range that the first page does not show."""

from __future__ import annotations

import datetime
import decimal
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from shop.models import Customer, Order

START = datetime.datetime(2023, 11, 5, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def orders(db):
    customer = Customer.objects.create(name="Ann", email="ann@example.com", country="DE", city="Köln",
                                       is_active=True, created=START)
    Order.objects.bulk_create(
        Order(customer=customer, number=f"N-{i:04d}", status="paid", total=decimal.Decimal(i),
              placed_at=START + datetime.timedelta(days=3 * i))
        for i in range(300)  # 2023-11 to 2026-06
    )


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
