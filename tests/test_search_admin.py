"""Search through the fastadmin changelist on real PostgreSQL: the SQL the indexes serve (EXPLAIN),
notices, and readable pages for every kind of bad input."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from fastadmin.search_index.plan import build_plan
from shop.admin import CustomerAdmin, OrderAdmin
from shop.models import Customer, Order

from tests.helpers import probe_end, row_pks, unwrapped

from .conftest import analyze

ROWS = 30_000  # enough for the planner to prefer indexes on its own (no enable_seqscan tricks)


def seed_customers(n: int = ROWS) -> None:
    """``n`` customers with common names, plus a few rare ones, written server-side in one INSERT."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO shop_customer (name, email, phone, city, country, created, is_active)
            SELECT (ARRAY['Mary','John','Anne','Wei','Priya','Olga'])[1 + i %% 6] || ' '
                   || (ARRAY['Smith','Jones','Garcia','Müller','Sharma','Tanaka','Lee'])[1 + i %% 7],
                   'user' || i || '@example.com', '+91' || lpad(i::text, 10, '0'), 'City', 'US', now(), true
            FROM generate_series(1, %s) AS i
            """,
            [n],
        )
    Customer.objects.create(name="Zyxwvut Quorra", email="quorra@grid.test", phone="+15550001")
    Customer.objects.create(name="Zq Short", email="zq@grid.test", phone="+15550002")


def create_plan_indexes(model_admins) -> list[str]:
    """The index plan's indexes, built inside the test's transaction (so rolled back after it)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    names = []
    with connection.schema_editor(atomic=False) as editor:
        for need in build_plan(model_admins).needs:
            with connection.cursor() as cursor:
                existing = connection.introspection.get_constraints(cursor, need.table)
            if need.index.name not in existing:
                editor.add_index(need.model, need.index)
                names.append(need.index.name)
    return names


@pytest.fixture(autouse=True)
def guarded(settings):
    """Every table counts as large, whatever its statistics say: these tests are about the guards."""
    settings.FASTADMIN = {**settings.FASTADMIN, "SEARCH_SCAN_ROWS": 0}


@pytest.fixture
def big(db):
    import fastadmin

    seed_customers()
    create_plan_indexes([fastadmin.site.get_model_admin(Customer)])
    analyze(Customer)


def search_queries(client, url, table="shop_customer"):
    """The response, the search probe (``SELECT pk ... LIMIT 10001``, unordered) and the page query."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    selects = [s for s in map(unwrapped, (q["sql"] for q in captured.captured_queries))
               if s.startswith(f'SELECT "{table}"')]
    probes = [sql for sql in selects if sql.endswith(probe_end())]
    pages = [sql for sql in selects if "ORDER BY" in sql and "LIMIT" in sql and not sql.endswith(probe_end())]
    return response, (probes[0] if probes else None), pages[0]


def explain(sql: str, params=None) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return json.dumps(plan)


def node_types(plan_json: str) -> list[str]:
    return re.findall(r'"Node Type": "([^"]+)"', plan_json)


def index_names(plan_json: str) -> list[str]:
    return re.findall(r'"Index Name": "([^"]+)"', plan_json)


def where(sql: str) -> str:
    return sql.split(" WHERE ", 1)[1].split(" ORDER BY ")[0]


def assert_page_reads_the_found_keys(page: str) -> None:
    """A rare term's page filters on the keys the probe found: sized exactly, read by primary key."""
    assert '"shop_customer"."id" = ANY(' in where(page) and "LIKE" not in page
    plan = explain(page)
    assert "Seq Scan" not in node_types(plan)
    assert "shop_customer_pkey" in index_names(plan)


def test_search_sql_is_the_indexed_expression(admin_client, big):
    response, probe, _ = search_queries(admin_client, "/admin/shop/customer/?q=quorra")
    assert response.status_code == 200
    assert 'UPPER("shop_customer"."name"::text) LIKE UPPER(' in probe
    assert "::varchar" not in probe and "ORDER BY" not in probe


def test_rare_term_uses_the_trigram_index(admin_client, big):
    response, probe, page = search_queries(admin_client, "/admin/shop/customer/?q=quorra")
    assert [c.name for c in response.context["cl"].result_list] == ["Zyxwvut Quorra"]
    plan = explain(probe)
    assert "Seq Scan" not in node_types(plan)
    assert "Bitmap Index Scan" in node_types(plan)
    assert {"fa_shop_customer_name_trgm", "fa_shop_customer_email_trgm",
            "fa_shop_customer_phone_trgm"} <= set(index_names(plan))
    assert_page_reads_the_found_keys(page)


def test_the_probes_keys_are_the_lists_exact_count(admin_client, big):
    """The probe found every match: their number is the count, no COUNT query is sent."""
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/admin/shop/customer/?q=quorra")
    cl = response.context["cl"]
    assert cl.count.exact and cl.result_count == 1 == len(cl.result_list)
    assert not [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()
                and "shop_customer" in q["sql"] and "id\" = ANY(" in q["sql"]]


def test_a_search_reads_the_tables_size_once(admin_client, big):
    """The search (probe or not) and the counter share one catalog read of the table's size."""
    with CaptureQueriesContext(connection) as captured:
        admin_client.get("/admin/shop/customer/?q=quorra")
    sizes = [q["sql"] for q in captured.captured_queries if "FROM pg_class" in q["sql"]]
    assert len(sizes) == 1 and "pg_partition_tree" in sizes[0], sizes


def test_a_search_narrowed_further_by_the_project_is_counted(admin_client, big, monkeypatch):
    """A get_search_results override that filters after the search: the probe's number is not the
    list's count any more, so the list is counted."""
    import fastadmin

    model_admin = fastadmin.site.get_model_admin(Customer)
    search = type(model_admin).get_search_results

    def narrowed(self, request, queryset, term):
        queryset, duplicates = search(self, request, queryset, term)
        return queryset.filter(is_active=False), duplicates

    monkeypatch.setattr(type(model_admin), "get_search_results", narrowed)
    Customer.objects.filter(name="Zyxwvut Quorra").update(is_active=True)
    response = admin_client.get("/admin/shop/customer/?q=quorra")
    cl = response.context["cl"]
    assert cl.result_count == 0 and cl.count.exact and list(cl.result_list) == []


def test_term_matching_nothing_reads_no_table(admin_client, big):
    """The case a sort-index walk gets worst (PostgreSQL estimates thousands of matches for none)."""
    response, probe, page = search_queries(admin_client, "/admin/shop/customer/?q=qqqzzzxxx")
    assert response.status_code == 200 and row_pks(response) == []
    assert "Seq Scan" not in node_types(explain(probe))
    assert "'{}'" in page  # pk = ANY('{}'): nothing to read


def test_multi_word_search_uses_the_trigram_index(admin_client, big):
    response, probe, page = search_queries(admin_client, "/admin/shop/customer/?q=zyxwvut+quorra")
    assert len(response.context["cl"].result_list) == 1
    plan = explain(probe)
    assert "Seq Scan" not in node_types(plan)
    assert "fa_shop_customer_name_trgm" in index_names(plan)
    assert_page_reads_the_found_keys(page)


def test_namespaced_search_uses_only_that_fields_index(admin_client, big):
    response, probe, page = search_queries(admin_client, "/admin/shop/customer/?q=email:quorra@")
    assert len(response.context["cl"].result_list) == 1
    assert '"shop_customer"."name"' not in where(probe)
    plan = explain(probe)
    assert "Seq Scan" not in node_types(plan)
    assert "fa_shop_customer_email_trgm" in index_names(plan)
    assert_page_reads_the_found_keys(page)


def test_pk_lookup_uses_the_primary_key(admin_client, big):
    target = Customer.objects.get(name="Zyxwvut Quorra")
    response, probe, page = search_queries(admin_client, f"/admin/shop/customer/?q=id:{target.pk}")
    assert row_pks(response) == [target.pk]
    assert where(probe) == f'"shop_customer"."id" = {target.pk} {probe_end()}'  # typed: no id::varchar cast
    plan = explain(probe)
    assert "Seq Scan" not in node_types(plan)
    assert "shop_customer_pkey" in index_names(plan)
    assert_page_reads_the_found_keys(page)


def test_short_term_does_not_seq_scan(admin_client, big):
    response, probe, page = search_queries(admin_client, "/admin/shop/customer/?q=zq")
    assert response.status_code == 200
    assert [c.name for c in response.context["cl"].result_list] == ["Zq Short"]
    assert "LIKE UPPER('zq%')" in probe
    plan = explain(probe)
    assert "Seq Scan" not in node_types(plan)
    # The prefix pattern yields trigrams, so the index returns only candidate rows, not all of them.
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + probe)
        analyzed = cursor.fetchone()[0]
    analyzed = json.dumps(analyzed if not isinstance(analyzed, str) else json.loads(analyzed))
    removed = [int(n) for n in re.findall(r'"Rows Removed by Index Recheck": (\d+)', analyzed)]
    assert sum(removed) < 100, removed
    assert_page_reads_the_found_keys(page)
    assert "matched at the start" in response.content.decode()  # the notice tells the user


def test_exact_text_field_uses_its_upper_btree(big, rf):
    """``=email`` compiles to UPPER(email::text) = UPPER('x'), which the plan's btree serves."""
    from django.test.utils import CaptureQueriesContext
    from fastadmin.search_index.backends import TrigramSearchBackend

    import fastadmin

    exact_admin = type("ExactAdmin", (fastadmin.ModelAdmin,), {"search_fields": ["=email", "^name"]})(
        Customer, fastadmin.site)
    create_plan_indexes([exact_admin])
    analyze(Customer)
    with CaptureQueriesContext(connection) as captured:
        result = TrigramSearchBackend(exact_admin).search(
            rf.get("/"), Customer.objects.order_by("name", "id"), "QUORRA@grid.test")
    assert [c.name for c in result.queryset] == ["Zyxwvut Quorra"]
    (probe,) = [s for s in map(unwrapped, (q["sql"] for q in captured.captured_queries)) if s.endswith(probe_end())]
    assert "UPPER(\"shop_customer\".\"email\"::text) = UPPER('QUORRA@grid.test')" in probe
    plan = explain(probe)
    assert "Seq Scan" not in node_types(plan)
    assert "fa_shop_customer_email_upper" in index_names(plan)


def test_common_term_keeps_the_keyset_plan_and_pages(admin_client, big):
    """More matches than the probe collects: the page query carries the search filter itself, so the
    planner can walk the (name, id) index and stop after one page."""
    response, probe, page = search_queries(admin_client, "/admin/shop/customer/?q=smith")
    assert response.status_code == 200
    assert probe is None  # the planner expects 1 row in 7: no probe scan to learn that
    assert "LIKE" in where(page) and "= ANY(" not in where(page)
    assert page.endswith("LIMIT 101") and "OFFSET" not in page
    cl = response.context["cl"]
    assert len(cl.result_list) == CustomerAdmin.list_per_page
    assert all("Smith" in c.name for c in cl.result_list)
    assert cl.next_url and "cursor=" in cl.next_url
    second = admin_client.get("/admin/shop/customer/" + cl.next_url)
    assert second.status_code == 200
    assert not {c.pk for c in cl.result_list} & {c.pk for c in second.context["cl"].result_list}


def test_probe_can_be_turned_off(admin_client, big):
    with override_settings(FASTADMIN={"SEARCH_PROBE_LIMIT": 0}):
        response, probe, page = search_queries(admin_client, "/admin/shop/customer/?q=quorra")
    assert probe is None and "LIKE" in where(page)
    assert [c.name for c in response.context["cl"].result_list] == ["Zyxwvut Quorra"]


def test_help_text_lists_the_namespaces(admin_client, db):
    content = admin_client.get("/admin/shop/customer/").content.decode()
    assert "Name (name:), Email (email:), Phone (phone:), ID (id:)" in content


@pytest.mark.parametrize("query,status,text", [
    ("bogus:thing", 200, ""),  # not a search field: searched as text, like stock
    ("id:abc", 400, "not a valid ID"),
    ("a\x00b", 200, "Null characters are not allowed."),  # stock's search form message (Django's tests)
    ("x" * 10_000, 200, ""),  # stock accepts any length
    ("%", 400, "too short"),
    ("%_\\", 400, "too short"),
    ("'; DROP TABLE shop_customer; --", 200, ""),
    ("100%_\\ cotton", 200, ""),
    ("Ωμέγα 中文 🎉🎉🎉", 200, ""),
    ('name:"unterminated', 200, ""),
    ("email:=", 400, "needs a value"),
    ("id:99999999999999999999999999", 400, "not a valid ID"),
    ("id:-5", 200, ""),
])
def test_bad_input_never_500(admin_client, db, query, status, text):
    Customer.objects.create(name="100%_\\ Cotton", email="c@x.test")
    response = admin_client.get("/admin/shop/customer/", {"q": query})
    assert response.status_code == status, response.content[:300]
    assert text in response.content.decode()
    if status == 400:
        assert "fastadmin-bad-request" in response.content.decode()


def test_sql_metacharacters_are_literals(admin_client, db):
    target = Customer.objects.create(name="100%_\\ Cotton", email="c@x.test")
    Customer.objects.create(name="1000 Cottons", email="d@x.test")
    response = admin_client.get("/admin/shop/customer/", {"q": "100%_\\"})
    assert row_pks(response) == [target.pk]
    assert Customer.objects.count() == 2


def test_related_search_has_no_duplicates_and_no_distinct(admin_client, db):
    anne = Customer.objects.create(name="Anne Quorra", email="aq@x.test")
    for i in range(3):
        Order.objects.create(customer=anne, number=f"N-{i}", total=1)
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/admin/shop/order/", {"q": "quorra"})
    assert response.status_code == 200
    assert len(row_pks(response)) == 3
    probe = [s for s in map(unwrapped, (q["sql"] for q in captured.captured_queries))
             if s.startswith('SELECT "shop_order"') and s.endswith(probe_end())]
    # the matching customers' keys, read first: a constant array, no join, no DISTINCT
    assert probe and f"\"customer_id\" = ANY('{{{anne.pk}}}'" in probe[0] and "DISTINCT" not in probe[0], probe


def test_too_slow_search_is_a_503_that_suggests_narrowing(admin_client, db, monkeypatch):
    """A search still running at the statement timeout: a page suggesting a namespaced or longer query."""
    from fastadmin.search_index import backends

    original = backends.TrigramSearchBackend.search

    def slow(self, request, queryset, term):
        result = original(self, request, queryset, term)
        result.queryset = result.queryset.extra(where=["pg_sleep(0.2) IS NOT NULL"])
        return result

    monkeypatch.setattr(backends.TrigramSearchBackend, "search", slow)
    Customer.objects.create(name="Anne Slow", email="s@x.test")
    with override_settings(FASTADMIN={"STATEMENT_TIMEOUT_MS": 50}):
        response = admin_client.get("/admin/shop/customer/", {"q": "anne"})
    assert response.status_code == 503
    content = response.content.decode()
    assert "namespaced query" in content and "longer" in content


def test_autocomplete_with_unsearchable_term_is_empty_not_400(admin_client, db):
    """The autocomplete view calls get_search_results too, and has no 400 page to show."""
    Customer.objects.create(name="Anne", email="a@x.test")
    params = {"app_label": "shop", "model_name": "lead", "field_name": "customer"}
    ok = admin_client.get("/admin/autocomplete/", {**params, "term": "anne"})
    assert ok.status_code == 200 and [r["text"] for r in ok.json()["results"]] == ["Anne"]
    bad = admin_client.get("/admin/autocomplete/", {**params, "term": "%"})
    assert bad.status_code == 200 and bad.json()["results"] == []
    short = admin_client.get("/admin/autocomplete/", {**params, "term": "an"})  # prefix, no message
    assert short.status_code == 200 and [r["text"] for r in short.json()["results"]] == ["Anne"]
    assert "matched at the start" not in admin_client.get("/admin/shop/customer/").content.decode()


def test_relevance_ordering_pages_by_similarity(admin_client, db, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name in ["Quorrax Alpha", "Quorra", "Big Quorra Corp", "Quorra Quorra"]:
        Customer.objects.create(name=name, email=f"{name.replace(' ', '')}@x.test")
    monkeypatch.setattr(CustomerAdmin, "search_relevance", True, raising=False)
    monkeypatch.setattr(CustomerAdmin, "list_per_page", 2)
    from tests.helpers import walk

    seen = walk(admin_client, "/admin/shop/customer/?q=quorra")
    names = dict(Customer.objects.values_list("pk", "name"))
    assert names[seen[0]] == "Quorra"  # the closest match first
    assert sorted(seen) == sorted(names)
    assert OrderAdmin.search_relevance is False


def test_search_help_text_can_be_set_on_an_instance_like_stock():
    """Django's own tests assign ``model_admin.search_help_text``; a read-only property broke that."""
    from shop.models import Lead

    import fastadmin

    admin = type(fastadmin.site.get_model_admin(Lead))(Lead, fastadmin.site)
    admin.search_help_text = "Search help text"
    assert admin.search_help_text == "Search help text"
