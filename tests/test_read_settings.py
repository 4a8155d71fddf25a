"""A changelist GET sets its read settings (statement timeout, no parallel plans) in one statement,
and its page query is planned under them: no Gather even where the planner would otherwise take one."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from fastadmin.guards import statement_timeout
from tests.conftest import fresh_items

PARALLEL_EAGER = (
    "SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;"
    " SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2"
)


def _plan(sql: str, params=()) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_changelist_sets_timeout_and_serial_plans_in_one_statement(admin_client, items):
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get("/admin/testapp/item/").status_code == 200
    settings = [q["sql"] for q in captured if "set_config" in q["sql"]]
    first = settings[0]
    assert "set_config('statement_timeout'" in first and "set_config('max_parallel_workers_per_gather'" in first
    assert not any(q["sql"].upper().startswith("SET ") for q in captured)


def test_serial_read_plans_without_gather(db):
    # Statistics of its own: ANALYZE outlives a test's rollback, so another test's leftover
    # statistics of a tiny table would let the planner stay serial without being told to.
    fresh_items(5_000)
    with connection.cursor() as cursor:
        cursor.execute(PARALLEL_EAGER)
    query = 'SELECT count(*) FROM "testapp_item" WHERE "label" LIKE %s'
    assert "Gather" in _plan(query, ["%x%"])  # the test's settings do make the planner go parallel
    with statement_timeout(5000, "default", serial=True):
        assert "Gather" not in _plan(query, ["%x%"])
    assert "Gather" in _plan(query, ["%x%"])  # restored after the (nested) block


def test_the_changelists_own_page_query_is_planned_serial(admin_client, items):
    with connection.cursor() as cursor:
        cursor.execute(PARALLEL_EAGER)
    plans: list[str] = []

    def explain_item_reads(execute, sql, params, many, context):
        if not plans and sql.lstrip().upper().startswith("SELECT") and 'FROM "testapp_item"' in sql:
            raw = context["cursor"].cursor  # the driver's cursor: below this wrapper
            raw.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in raw.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain_item_reads):
        assert admin_client.get("/admin/testapp/item/").status_code == 200
    assert plans and "Gather" not in plans[0], plans
