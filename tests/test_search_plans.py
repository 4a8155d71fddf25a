"""Search SQL stays index-served on a table large enough for the planner to prefer indexes: each
test builds the index plan (``fastadmin_indexes --apply``), seeds the shop and reads ``EXPLAIN``."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings
from fastadmin.search_index.backends import DjangoSearchBackend, TrigramSearchBackend
from shop import seeding
from shop.models import Order

import fastadmin
from tests.helpers import unwrapped
from tests.test_index_plan import clean_indexes, fastadmin_index_names  # noqa: F401 - fixture
from tests.test_search_backend import request

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(clean_indexes):  # noqa: F811 - the fixture imported above
    """30,000 orders of 3,000 customers (1 in 60 named Smith), analyzed, with the index plan built."""
    seeding.seed(30_000, chunk=30_000, stream=StringIO())
    call_command("fastadmin_indexes", "--apply", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_order; ANALYZE shop_customer; ANALYZE shop_lead")
    yield


def explain(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def search(model, term):
    model_admin = fastadmin.site.get_model_admin(model)
    queryset = model_admin.get_queryset(request(term)).order_by("-placed_at", "-pk")
    ours = TrigramSearchBackend(model_admin).search(request(term), queryset, term)
    stock = DjangoSearchBackend(model_admin).search(request(term), queryset, term).queryset
    assert sorted(ours.queryset.values_list("pk", flat=True)) == sorted(set(stock.values_list("pk", flat=True)))
    return ours


@override_settings(FASTADMIN={"SEARCH_PROBE_LIMIT": 0})  # the condition itself, not the key probe
def test_a_common_term_through_a_foreign_key_filters_on_the_related_keys(shop):
    result = search(Order, "smith")
    sql = str(result.queryset.query)
    assert '"shop_order"."customer_id" = ANY({' in sql, sql  # the Smiths' keys, one constant array
    assert "ARRAY(SELECT" not in sql  # no per-row scan of a subquery's array
    assert "}::bigint[])" in sql  # the column's own type: PostgreSQL hashes the array only then
    plan = explain(result.queryset[:101])
    assert "Seq Scan on shop_order" not in plan, plan
    assert "Index Scan" in plan, plan  # the sort index walked (or the FK index in a BitmapOr)
    assert result.queryset.count() > 200  # common: ~500 orders of ~50 Smiths


@override_settings(FASTADMIN={"SEARCH_RELATED_LIMIT": 30, "SEARCH_PROBE_LIMIT": 0})
def test_more_related_matches_than_the_limit_use_a_hashed_subplan(shop):
    """Up to ten times the limit the keys are read once and hashed from the array (no subquery for
    each statement to rerun); past that they stay a subquery. Both are a hashed filter on the walk."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = search(Order, "smith")
    sql = str(result.queryset.query)
    assert '"customer_id" IN (SELECT unnest({' in sql and 'FROM "shop_customer"' not in sql, sql
    plan = explain(result.queryset[:101])
    assert "hashed SubPlan" in plan and "Seq Scan on shop_order" not in plan, plan
    assert [q for q in captured.captured_queries if unwrapped(q["sql"]).endswith("LIMIT 301")]  # read once
    with override_settings(FASTADMIN={"SEARCH_RELATED_LIMIT": 2, "SEARCH_PROBE_LIMIT": 0}):
        result = search(Order, "smith")
    sql = str(result.queryset.query)
    assert '"customer_id" IN (SELECT U0."id"' in sql and "unnest" not in sql, sql
    assert "hashed SubPlan" in explain(result.queryset[:101])


@override_settings(FASTADMIN={"SEARCH_RELATED_LIMIT": 1, "SEARCH_PROBE_LIMIT": 0})
def test_fields_behind_one_relation_share_one_probe_and_one_subquery(shop):
    """customer__name and customer__email: one read of the customers (on a big table a BitmapOr of
    their two indexes), not one probe and one hashed subplan per field."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = search(Order, "smith")
    # The planner expects more Smiths (about 50) than ten times the limit: its estimate stands in for
    # the probe.
    reads = [q["sql"] for q in captured.captured_queries if 'SELECT "shop_customer"."id"' in q["sql"]]
    assert len(reads) == 1 and '"name"' in reads[0] and '"email"' in reads[0], reads
    assert reads[0].startswith("EXPLAIN"), reads
    sql = str(result.queryset.query)
    assert sql.count('FROM "shop_customer"') == 1 and sql.count("IN (SELECT") == 1, sql
    plan = explain(result.queryset[:101])
    assert "SubPlan 1" in plan and "SubPlan 2" not in plan, plan


def test_a_rare_term_through_a_foreign_key_reads_the_foreign_key_index(shop):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_customer SET name = 'Zebulon Quux' WHERE id = (SELECT min(id) FROM shop_customer)")
    result = search(Order, "zebulon")
    plan = explain(result.queryset[:101])
    assert "Seq Scan on shop_order" not in plan, plan


def test_full_text_fields_get_an_index_the_query_uses(shop):
    """``@notes``: the plan builds a GIN on ``to_tsvector('<config>'::regconfig, COALESCE(notes, ''))``
    and the backend's query is that expression, so the index answers it; the rows are stock's (the
    database's default configuration, which stock's one-argument ``to_tsvector`` reads)."""
    from django.contrib.admin import AdminSite
    from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorExact
    from fastadmin.search_index.catalog import status
    from fastadmin.search_index.operations import build
    from fastadmin.search_index.plan import build_plan
    from shop.models import Lead

    model_admin = type("FullText", (fastadmin.ModelAdmin,), {"search_fields": ["@notes", "name"]})(Lead, AdminSite())
    with connection.cursor() as cursor:  # the example's own "@notes" admin planned it too: built here again
        cursor.execute("DROP INDEX IF EXISTS fa_shop_lead_notes_fts")
    plan = build_plan([model_admin])
    fts = [n for n in plan.needs if n.kind == "full-text gin"]
    assert [n.describe() for n in fts] == ["full-text gin (to_tsvector('english', notes)) on shop_lead"]
    assert [s.missing for s in status(plan) if s.need in fts] == [True]
    build(status(plan), out=lambda line: None)
    assert [s.missing for s in status(plan) if s.need in fts] == [False]  # what it built serves the need
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_lead SET notes = 'Zanzibar expeditions planned' WHERE id IN"
                       " (SELECT id FROM shop_lead ORDER BY id LIMIT 3); ANALYZE shop_lead")
    for term in ("expedition", "demos"):  # english stemming, as in stock: "expeditions", "demo"
        queryset = Lead.objects.order_by("-created", "-pk")
        result = TrigramSearchBackend(model_admin).search(request(term), queryset, term).queryset
        stock = Lead.objects.filter(SearchVectorExact(SearchVector("notes"), SearchQuery(term))) | \
            Lead.objects.filter(name__icontains=term)
        assert sorted(result.values_list("pk", flat=True)) == sorted(stock.values_list("pk", flat=True))
        assert result.exists()
    with override_settings(FASTADMIN={"SEARCH_PROBE_LIMIT": 0}):  # the condition, not resolved keys
        plan_text = explain(TrigramSearchBackend(model_admin).search(
            request("zanzibar"), Lead.objects.order_by("-created", "-pk"), "zanzibar").queryset[:101])
    assert "Bitmap Index Scan on fa_shop_lead_notes_fts" in plan_text, plan_text
    assert "Seq Scan on shop_lead" not in plan_text, plan_text


def test_thousands_of_matches_at_the_far_end_of_the_order_are_looked_up_then_sorted(shop, monkeypatch):
    """More matches than the planner is shown (``PLANNED_KEYS``), all the oldest orders: the page must
    not walk the ``-placed_at`` index hoping to meet them soon (at 10M that read the whole table into
    the statement timeout); it looks the found keys up by primary key and sorts those. Scaled down:
    on 30,000 orders, 150 matches stand for 3,000 of 10M (rare enough for the planner)."""
    from django.test.utils import CaptureQueriesContext
    from fastadmin.search_index import sql

    monkeypatch.setattr(sql, "PLANNED_KEYS", 100)
    oldest = list(Order.objects.order_by("placed_at", "pk").values_list("pk", flat=True)[:150])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_order SET number = 'ZQXJW-' || id WHERE id = ANY(%s); ANALYZE shop_order",
                       [oldest])
    with CaptureQueriesContext(connection) as captured:
        result = search(Order, "zqxjw")
    assert result.count is not None and (result.count.value, result.count.exact) == (len(oldest), True)
    probes = [s for s in map(unwrapped, (q["sql"] for q in captured.captured_queries))
              if s.startswith('SELECT "shop_order"') and s.endswith("LIMIT 10001")]  # the default
    assert len(probes) == 1, probes
    sql = str(result.queryset.query)
    assert '"shop_order"."id" = ANY(ARRAY(SELECT unnest(' in sql and "LIKE" not in sql, sql
    plan = explain(result.queryset[:101])
    assert "shop_order_pkey" in plan and "Backward" not in plan, plan
    newest_first = list(result.queryset.values_list("pk", flat=True)[:101])
    expected = Order.objects.filter(pk__in=oldest).order_by("-placed_at", "-pk").values_list("pk", flat=True)
    assert newest_first == list(expected[:101])


def test_a_few_found_keys_stay_a_constant_the_planner_sizes(shop):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_customer SET name = 'Zebulon Quux' WHERE id = (SELECT min(id) FROM shop_customer)")
    result = search(Order, "zebulon")
    sql = str(result.queryset.query)
    assert '"shop_order"."id" = ANY(' in sql and "unnest" not in sql, sql


def test_the_list_is_explained_once_per_request(shop, admin_client):
    """The search's "is this term common?" and the counter's estimate ask the planner about the same
    statement: one EXPLAIN between them (with thousands of related keys inline, each costs the planner
    milliseconds at 10M rows)."""
    from django.test.utils import CaptureQueriesContext

    for url, table in [("/admin/shop/lead/?q=smith", "shop_lead"), ("/admin/shop/order/?q=smith", "shop_order")]:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        plans = [q["sql"] for q in captured.captured_queries
                 if q["sql"].startswith("EXPLAIN") and f'FROM "{table}"' in q["sql"]]
        assert len(plans) == 1, plans
