"""Counts come from PostgreSQL's statistics; exact counts only when cheap, and always bounded."""

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps, override_settings

from fastadmin.counting import Count, EstimatedCounter, humanize
from tests.conftest import fresh_items, make_items
from tests.testapp.models import Item


@pytest.fixture
def many(db):
    fresh_items(5_000, null_every=4)


def test_unfiltered_estimate_uses_table_statistics(many):
    counter = EstimatedCounter(threshold=100)
    count = counter.count(Item.objects.all())
    assert not count.exact
    assert abs(count.value - 5_000) / 5_000 < 0.2


def test_estimate_scales_with_growth_since_analyze(many):
    make_items(5_000, seed=9)  # doubles the table without ANALYZE
    estimate = EstimatedCounter(threshold=100).estimate(Item.objects.all())
    assert abs(estimate - 10_000) / 10_000 < 0.2


@isolate_apps("tests.testapp")
def test_never_analyzed_table_still_estimates(db):
    # A table created inside this test's transaction: no other test and no autovacuum can have
    # analyzed it (testapp_item may have been, depending on test order).
    class Fresh(models.Model):
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "testapp"
            db_table = "testapp_never_analyzed"

        def __str__(self) -> str:
            return self.name

    with connection.schema_editor() as editor:
        editor.create_model(Fresh)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO testapp_never_analyzed (name) SELECT 'n' || g FROM generate_series(1, 3000) g")
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'testapp_never_analyzed'::regclass")
        assert cursor.fetchone()[0] < 1  # -1 on PostgreSQL 14+, 0 before: never analyzed
    estimate = EstimatedCounter(threshold=100).estimate(Fresh.objects.all())
    assert estimate > 0


@pytest.mark.parametrize(
    "lookup",
    [{"kind": "a"}, {"rank__isnull": True}, {"rank__gte": 4}, {"active": False}, {"label": "zz"}],
    ids=str,
)
def test_filtered_estimate_within_20_percent(many, lookup):
    queryset = Item.objects.filter(**lookup)
    truth = queryset.count()
    estimate = EstimatedCounter(threshold=10).estimate(queryset)
    assert abs(estimate - truth) / truth < 0.2, (estimate, truth)


def test_small_estimate_is_counted_exactly(many):
    count = EstimatedCounter(threshold=10_000).count(Item.objects.filter(kind="a"))
    assert count.exact and count.value == Item.objects.filter(kind="a").count()


def test_exact_counts_in_batches_and_reports_lower_bound_on_timeout(many):
    counter = EstimatedCounter(threshold=10)
    counter.batch_size = 1_000
    assert counter.exact(Item.objects.all()) == Count(5_000, exact=True)
    impatient = EstimatedCounter(threshold=10, exact_timeout_ms=1)
    impatient.batch_size = 1_000
    result = impatient.exact(Item.objects.all())
    assert result.at_least and not result.exact and result.value < 5_000
    assert str(result).startswith("more than")


def test_humanize_and_display():
    assert humanize(1_234_567) == "1.2M"
    assert humanize(12_000) == "12k"
    assert humanize(999) == "999"
    assert str(Count(1_234_567, exact=False)) == "≈ 1.2M"
    assert str(Count(1_234, exact=True)) == "1,234"


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 100})
def test_changelist_above_threshold_sends_no_count_and_no_offset(admin_client, many):
    from django.test.utils import CaptureQueriesContext

    for url in ["/admin/testapp/item/", "/admin/testapp/item/?kind__exact=a", "/admin/testapp/item/?o=-3",
                "/admin/testapp/item/?created__year=2024",
                "/admin/testapp/item/?_facets=1"]:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url)
        assert response.status_code == 200, url
        sql = [q["sql"].upper() for q in captured.captured_queries]
        # no uncapped count (a facet choice estimated under the threshold is counted, LIMIT 101)
        assert not [s for s in sql if "COUNT(" in s and "TESTAPP_ITEM" in s and "LIMIT 101)" not in s], url
        assert not [s for s in sql if " OFFSET " in s], url
        assert not [s for s in sql if "SELECT DISTINCT" in s and "TESTAPP_ITEM" in s], url
        assert "≈" in response.content.decode(), url
    # And the next page too.
    from tests.helpers import rel_links

    nxt = rel_links(admin_client.get("/admin/testapp/item/"))["next"]
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get("/admin/testapp/item/" + nxt).status_code == 200
    assert not [q for q in captured.captured_queries if "OFFSET" in q["sql"].upper()]


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 100})
def test_count_exactly_link(admin_client, many):
    response = admin_client.get("/admin/testapp/item/")
    assert b"count exactly" in response.content
    response = admin_client.get("/admin/testapp/item/?_count=exact")
    assert response.status_code == 200
    assert "5,000 items" in response.content.decode()


@pytest.mark.parametrize("queryset", [Item.objects.none, lambda: Item.objects.filter(pk__in=[])])
def test_empty_querysets_count_zero(db, queryset):
    assert EstimatedCounter(threshold=0).count(queryset()) == Count(0, exact=False)
    assert EstimatedCounter().count(queryset()) == Count(0, exact=True)


class UnderEstimatingCounter(EstimatedCounter):
    """The planner's estimate of ``LIKE '%common%'`` can be far below the truth: say so here."""

    def estimate(self, queryset):
        return 1


def test_small_estimate_counts_at_most_threshold_plus_one_rows(many):
    from django.test.utils import CaptureQueriesContext

    counter = UnderEstimatingCounter(threshold=100)
    with CaptureQueriesContext(connection) as captured:
        count = counter.count(Item.objects.all())
    assert count == Count(100, exact=False, at_least=True)
    assert str(count) == "more than 100"
    counting = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"].upper()]
    assert len(counting) == 1 and counting[0].rstrip().endswith("LIMIT 101) subquery"), counting
    few = Item.objects.filter(kind="a", rank=1, label="zz")
    assert counter.count(few) == Count(few.count(), exact=True) and few.count() <= 100  # under the cap


def test_capped_count_past_its_budget_shows_the_estimate(many):
    slow = Item.objects.extra(where=["pg_sleep(0.01) IS NOT NULL"])  # 10 ms a row: never done in 5 ms
    count = UnderEstimatingCounter(threshold=100, timeout_ms=5).count(slow)
    assert count == Count(1, exact=False)


def _delete_unseen(**lookup):
    """Delete rows behind the planner's back (no ANALYZE): its estimate still counts them."""
    ids = list(Item.objects.filter(**lookup).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM testapp_item WHERE id = ANY(%s)", [ids])


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 100})
def test_a_page_holding_every_row_shows_the_exact_count(admin_client, many):
    """A filter emptied by a large delete: the estimate still says ~1.7k; the empty page knows it is 0."""
    keep = list(Item.objects.filter(kind="a").order_by("pk").values_list("pk", flat=True)[:3])
    _delete_unseen(kind="a", pk__gt=keep[-1])
    _delete_unseen(kind="a", pk__lt=keep[0])
    assert EstimatedCounter(threshold=100).estimate(Item.objects.filter(kind="a")) > 1_000
    page = admin_client.get("/admin/testapp/item/?kind__exact=a").content.decode()
    assert "≈" not in page.split('class="fa-count"')[1].split("</span>")[0]
    assert "3 items" in page  # the page footer
    assert "3 results" in page  # the search form's filtered count
    assert "count exactly" not in page
    # the action bar: stock's own counter (the count is exact), no "Select all ≈ 1.7k" label
    assert "0 of 3 selected" in page and "Select all 3" not in page and "All ≈" not in page

    _delete_unseen(kind="a")
    page = admin_client.get("/admin/testapp/item/?kind__exact=a").content.decode()
    assert "0 items" in page and "0 results" in page and "≈ 1" not in page.split("#changelist")[-1]


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 100})
def test_unfiltered_total_follows_a_page_holding_every_row(admin_client, many):
    _delete_unseen(pk__gt=Item.objects.order_by("pk").values_list("pk", flat=True)[4])
    page = admin_client.get("/admin/testapp/item/").content.decode()
    assert "5 items" in page and "≈" not in page.split('class="fa-count"')[1].split("</span>")[0]


def test_humanize_rolls_over_to_the_next_unit_instead_of_printing_1000k():
    assert humanize(999_949) == "999.9k"
    assert humanize(999_950) == "1M"
    assert humanize(999_999_999) == "1B"
    assert humanize(1_234_567) == "1.2M"
    assert humanize(12_345) == "12.3k"


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 100})
def test_an_exact_count_asked_for_is_kept_by_the_page_links_without_counting_again(admin_client, many):
    from django.test.utils import CaptureQueriesContext

    from tests.helpers import rel_links

    counted = admin_client.get("/admin/testapp/item/?_count=exact")
    assert "5,000 items" in counted.content.decode()
    nxt = rel_links(counted)["next"]
    assert "_count=" in nxt and "_count=exact" not in nxt  # a signed count, not a request to count again
    with CaptureQueriesContext(connection) as captured:
        second = admin_client.get("/admin/testapp/item/" + nxt)
    assert "5,000 items" in second.content.decode()
    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert "_count=" in rel_links(second)["next"]  # and on to the page after
    # the same token on another filter's list, or altered, is ignored: the list is estimated again
    token = nxt.split("_count=", 1)[1].split("&", 1)[0]
    other = admin_client.get("/admin/testapp/item/", {"kind__exact": "a", "_count": token}).content.decode()
    assert "5,000 items" not in other and "count exactly" in other
    altered = admin_client.get("/admin/testapp/item/", {"_count": token[:-2] + "xx"}).content.decode()
    assert "≈" in altered and "count exactly" in altered


def _statements(run):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = run()
    return result, [q["sql"] for q in captured.captured_queries]


def test_an_unfiltered_plain_table_is_sized_from_pg_class_alone(many):
    # A plain (not partitioned) table: one catalog read, no EXPLAIN, no count, on every PostgreSQL
    # version (pg_partition_tree() of a plain table is empty on some of them).
    count, sql = _statements(lambda: EstimatedCounter(threshold=100).count(Item.objects.all()))
    assert not count.exact and abs(count.value - 5_000) < 1_000
    assert len(sql) == 1 and "pg_class" in sql[0], sql


def test_a_table_under_the_threshold_is_counted_without_estimate_or_savepoint(many):
    counter = EstimatedCounter(threshold=10_000)
    count, sql = _statements(lambda: counter.count(Item.objects.filter(kind="a")))
    assert count == Count(Item.objects.filter(kind="a").count(), exact=True)
    assert len(sql) == 2 and "pg_class" in sql[0] and sql[1].rstrip().endswith("LIMIT 10001) subquery"), sql
    # The same counter (one per request) does not read the table's size again.
    count, sql = _statements(lambda: counter.count(Item.objects.all()))
    assert count == Count(5_000, exact=True) and len(sql) == 1, sql


@isolate_apps("tests.testapp")
def test_a_table_that_does_not_exist_has_no_size_not_an_error(db):
    # Django's own admin tests build changelists of models whose tables were never created.
    class Missing(models.Model):
        class Meta:
            app_label = "testapp"
            db_table = "testapp_not_created"

        def __str__(self) -> str:
            return str(self.pk)

    assert EstimatedCounter()._table_size(Missing.objects.all()) is None


def test_count_list_takes_the_pages_number_when_one_page_holds_every_row(many):
    """``rows_if_few`` is asked before counting; its number is exact and no COUNT runs. When it
    answers None (the page is not the last), the list is counted, capped, as before."""
    first = Item.objects.order_by("pk").values_list("pk", flat=True)
    few = Item.objects.filter(pk__lte=first[2])
    seen: list[bool] = []

    def rows_if_few() -> int:
        seen.append(True)
        return 3

    count, sql = _statements(lambda: EstimatedCounter(threshold=100).count_list(few, rows_if_few))
    assert count == Count(3, exact=True) and seen
    assert not [s for s in sql if "COUNT(" in s.upper()], sql
    count, sql = _statements(lambda: EstimatedCounter(threshold=100).count_list(few, lambda: None))
    assert count == Count(3, exact=True) and [s for s in sql if "COUNT(" in s.upper()], sql


def test_a_small_table_asks_the_page_before_counting(many):
    """Under the threshold the table is counted without an estimate, but the shown list's page, when
    it holds every row, still answers first: no COUNT at all."""
    few = Item.objects.filter(kind="a")
    count, sql = _statements(lambda: EstimatedCounter(threshold=10_000).count_list(few, lambda: 7))
    assert count == Count(7, exact=True)
    assert len(sql) == 1 and "pg_class" in sql[0], sql
    count, sql = _statements(lambda: EstimatedCounter(threshold=10_000).count_list(few, lambda: None))
    assert count == Count(few.count(), exact=True) and "COUNT(" in sql[-1].upper(), sql


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 100})
def test_a_list_that_fits_its_first_page_is_not_counted(admin_client, many):
    """A narrow filter (estimated within one page): the page is the count; a wider one is counted."""
    pks = list(Item.objects.order_by("pk").values_list("pk", flat=True)[:40])
    page, sql = _statements(lambda: admin_client.get(f"/admin/testapp/item/?id__lte={pks[2]}"))
    body = page.content.decode()
    assert page.status_code == 200 and "3 items" in body and "count exactly" not in body
    assert not [s for s in sql if "COUNT(" in s.upper()], sql
    page, sql = _statements(lambda: admin_client.get(f"/admin/testapp/item/?id__lte={pks[39]}"))
    assert "40 items" in page.content.decode()
    assert [s for s in sql if "COUNT(" in s.upper()], sql


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 100})
def test_a_counter_that_overrides_count_counts_the_list(admin_client, many, monkeypatch):
    """count_list() goes through count(): a project's counter subclass is still the one asked."""
    import fastadmin

    class Fixed(EstimatedCounter):
        def count(self, queryset):
            return Count(4_242, exact=False)

    monkeypatch.setattr(fastadmin.site.get_model_admin(Item), "counter_class", Fixed)
    body = admin_client.get("/admin/testapp/item/?kind__exact=a").content.decode()
    assert "4,242 items" in body or "4.2k items" in body
