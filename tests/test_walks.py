"""A filtered list's ordered reads (the page, the date range) give up walking the sort index after
``WALK_TIMEOUT_MS`` and read the matches, then sort them (:mod:`fastadmin.walks`).

The data: 30,000 orders, of which the oldest 3,000 carry a note the filter asks for. Listed newest
first, a walk along ``placed_at`` meets its first match after 27,000 rows; the planner, told one row
in ten matches, expects a page within 1,000. A walk timeout of 1 ms cancels any read of that table.
"""

from io import StringIO

import pytest
from django.db import connection, transaction
from django.db.utils import DataError
from django.test.utils import CaptureQueriesContext
from shop import seeding
from shop.models import Order

from fastadmin.date_hierarchy import date_range
from fastadmin.pagination import KeysetPaginator
from fastadmin.walks import bounded_walk, hide

pytestmark = pytest.mark.django_db(transaction=True)

OLD = "archived long ago"


@pytest.fixture
def orders():
    seeding.seed(30_000, chunk=30_000, stream=StringIO())
    oldest = list(Order.objects.order_by("placed_at", "pk").values_list("pk", flat=True)[:3_000])
    Order.objects.filter(pk__in=oldest).update(note=OLD)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_order")
    return Order.objects.filter(note=OLD)


def sorted_again(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "ORDER BY COALESCE(" in q["sql"]]


def test_a_page_that_walks_too_long_is_read_by_sorting_the_matches(orders, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "WALK_TIMEOUT_MS": 1}
    expected = list(orders.order_by("-placed_at", "-pk")[:101])
    paginator = KeysetPaginator(orders.order_by("-placed_at", "-pk"), 100)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():  # as in the changelist view
        page = paginator.page()
        following = paginator.page(cursor=page.next_cursor)
    assert page.rows == expected[:100] and following.rows[:1] == expected[100:]
    # The first page's walk passes 27,000 rows: always cancelled. The next page's walk starts among the
    # matches and may finish within the millisecond; either way its rows are the ones that follow.
    first = sorted_again(captured)[0]
    assert 'COALESCE("shop_order"."placed_at", "shop_order"."placed_at") DESC' in first


def test_the_date_range_too(orders, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "WALK_TIMEOUT_MS": 1}
    field = Order._meta.get_field("placed_at")
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        first, last = date_range(orders, "placed_at", field)
    dates = sorted(orders.values_list("placed_at", flat=True))
    assert (first, last) == (dates[0].date(), dates[-1].date())
    assert len(sorted_again(captured)) == 1


def test_a_walk_within_the_timeout_is_read_once(orders, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "WALK_TIMEOUT_MS": 4_000}
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        rows = KeysetPaginator(orders.order_by("-placed_at", "-pk"), 100).page().rows
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"  # restored after the guarded read
    assert len(rows) == 100 and not sorted_again(captured)
    logged = [q["sql"][:19] for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert logged == ['SELECT "shop_order"', "SHOW statement_time"]  # the guard's own statements are not logged


@pytest.fixture
def slow_read(settings):
    """A read that always outlasts a 1 ms walk timeout; ``slow_read.calls`` records its ``hidden``."""
    settings.FASTADMIN = {**settings.FASTADMIN, "WALK_TIMEOUT_MS": 1}

    def read(hidden):
        read.calls.append(hidden)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.05)")
        return hidden

    read.calls = []
    return read


def test_only_filtered_reads_are_guarded_and_other_errors_pass(db, slow_read):
    read, calls = slow_read, slow_read.calls
    filtered = Order.objects.filter(note=OLD)
    assert bounded_walk(read, filtered) is False and calls == [False]  # outside a transaction: not guarded
    with transaction.atomic():
        calls.clear()
        assert bounded_walk(read, Order.objects.all()) is False and calls == [False]  # no WHERE: no guard
        calls.clear()
        assert bounded_walk(read, filtered) is True and calls == [False, True]

    def broken(hidden):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1/0")

    with pytest.raises(DataError), transaction.atomic():
        bounded_walk(broken, filtered)


def test_a_stricter_timeout_in_force_is_kept(db, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "WALK_TIMEOUT_MS": 400}
    seen = []

    def read(hidden):
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen.append(cursor.fetchone()[0])

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', '150ms', true)")
        bounded_walk(read, Order.objects.filter(note=OLD))
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '3s'")
        bounded_walk(read, Order.objects.filter(note=OLD))
        read(False)
    assert seen == ["150ms", "400ms", "3s"]


def test_the_changelist_answers_from_the_sorted_read(admin_client, orders, settings, monkeypatch):
    """Through the view (its reads run in a transaction): the page and the date hierarchy come back
    from the sorted reads, with the rows the walk would have shown. The 30,000 orders stand for a big
    table (the view reads their size: under SMALL_TABLE_PAGES, it would not guard them)."""
    from fastadmin import walks

    monkeypatch.setattr(walks, "SMALL_TABLE_PAGES", 0)
    settings.FASTADMIN = {**settings.FASTADMIN, "WALK_TIMEOUT_MS": 1, "SEARCH_PROBE_LIMIT": 0}
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_order SET number = 'ZQXJW-' || id WHERE note = %s; ANALYZE shop_order", [OLD])
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/admin/shop/order/", {"q": "zqxjw"})
    assert response.status_code == 200
    expected = list(orders.order_by("-placed_at", "-pk").values_list("pk", flat=True)[:100])
    assert [row.pk for row in response.context["cl"].result_list] == expected
    assert sorted_again(captured), [q["sql"][:120] for q in captured.captured_queries]


@pytest.mark.parametrize("ordering", [("shipped_at", "pk"), ("-shipped_at", "-pk")])
def test_sorted_reads_page_a_nullable_column_like_the_walk(orders, settings, ordering):
    """Reads fall back (1 ms) or not, page by page: paging forwards through a nullable sort column (its
    NULL segment included) still gives every match once, in the order the walk would have."""
    settings.FASTADMIN = {**settings.FASTADMIN, "WALK_TIMEOUT_MS": 1}
    queryset = orders.order_by(*ordering)
    assert queryset.filter(shipped_at__isnull=True).exists() and queryset.filter(shipped_at__isnull=False).exists()
    paginator = KeysetPaginator(queryset, 250)
    seen, cursor, fallbacks = [], None, 0
    with transaction.atomic():
        while True:
            with CaptureQueriesContext(connection) as captured:
                page = paginator.page(cursor=cursor)
            fallbacks += len(sorted_again(captured))
            seen += [row.pk for row in page.rows]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
    assert seen == list(queryset.values_list("pk", flat=True))
    assert fallbacks >= 1  # pages read by sorting (7-10 of 12 here), and their cursors led on


def test_sorted_reads_of_distinct_and_related_orderings(orders):
    """``COALESCE`` keys where PostgreSQL is strict about ORDER BY: a DISTINCT list (its ORDER BY must
    be selected) and a sort through a join (the related model's column) give the walk's rows."""
    for queryset in (orders.distinct().order_by("-placed_at", "-pk"), orders.order_by("customer__name", "pk")):
        paginator = KeysetPaginator(queryset, 100)
        hidden = paginator.queryset.order_by(*(hide(key.order_by()) for key in paginator.keys))
        assert "ORDER BY COALESCE(" in str(hidden.query)
        assert list(hidden[:100]) == list(queryset[:100])


def test_a_search_s_found_keys_need_no_guard(db, slow_read):
    """Filtered by the keys a search found (looked up by primary key, never walked): no savepoint, no
    timeout, even next to other filters; the same keys from elsewhere are an ordinary filter."""
    from django.db.models import F
    from fastadmin.search_index.sql import PLANNED_KEYS, AnyOfArray, found_keys

    read, calls = slow_read, slow_read.calls
    for keys in ([1, 2, 3], list(range(1, PLANNED_KEYS + 2))):  # a constant and a fenced array
        with transaction.atomic():
            calls.clear()
            bounded_walk(read, Order.objects.filter(found_keys(keys)).filter(note=OLD))
            assert calls == [False]
            calls.clear()
            bounded_walk(read, Order.objects.filter(AnyOfArray(F("pk"), keys)))
            assert calls == [False, True]


def test_a_table_known_to_be_small_is_not_guarded(db, slow_read, monkeypatch):
    """Once the request has read the table's size from the catalog (the search and the counter do),
    a table under SMALL_TABLE_PAGES is walked as it is; an unknown size is guarded."""
    from fastadmin import walks
    from fastadmin.counting import leaf_sizes, sizes_read_once

    read, calls = slow_read, slow_read.calls
    filtered = Order.objects.filter(note=OLD)
    with sizes_read_once(), transaction.atomic():
        bounded_walk(read, filtered)
        assert calls == [False, True]  # size not read yet: guarded
        leaf_sizes(filtered.db, Order._meta.db_table)
        calls.clear()
        bounded_walk(read, filtered)
        assert calls == [False]  # an empty test table
        monkeypatch.setattr(walks, "SMALL_TABLE_PAGES", 0)
        calls.clear()
        bounded_walk(read, filtered)
        assert calls == [False, True]
