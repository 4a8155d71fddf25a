"""The request budget (FASTADMIN["REQUEST_BUDGET_MS"]) and the too-slow page's stage (issue 9).

Time is simulated: a test's execute wrapper advances the budget's clock by a fixed cost per EXPLAIN,
standing in for a pathological regular expression that makes every planner estimate slow. The tests
assert what was sent (how many EXPLAINs) and what was answered, never wall time.
"""

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test.utils import CaptureQueriesContext
from shop.models import Customer, Lead

from fastadmin import budget

PATHOLOGICAL = {"name__regex": "^(a|a)*\\1$", "_facets": "1"}


@pytest.fixture
def leads(db):
    customers = Customer.objects.bulk_create(
        Customer(name=f"c{i}", email=f"c{i}@example.com") for i in range(30)
    )
    Lead.objects.bulk_create(
        Lead(name="a" * (i % 20) + str(i), email=f"l{i}@example.com", customer=customers[i % 30],
             status=Lead.Status.values[i % 5], source=Lead.Source.values[i % 5])
        for i in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_lead; ANALYZE shop_customer")


@pytest.fixture
def virtual_clock(monkeypatch):
    """The budget's clock, advanced by ``cost`` seconds while each EXPLAIN runs (no sleeping): the
    time passes inside the budget's own wrapper, as a slow statement's time does."""
    state = {"now": 1000.0, "cost": 0.0}
    monkeypatch.setattr(budget, "clock", lambda: state["now"])
    guard = budget._guard  # the budget's execute wrapper, installed per request

    def charging_guard(execute, sql, params, many, context):
        def run(sql, params, many, context):
            try:
                return execute(sql, params, many, context)
            finally:
                if sql.startswith("EXPLAIN"):
                    state["now"] += state["cost"]

        return guard(run, sql, params, many, context)

    monkeypatch.setattr(budget, "_guard", charging_guard)
    yield state


def fastadmin_settings(settings, **values):
    settings.FASTADMIN = {"STATEMENT_TIMEOUT_MS": 5_000, "EXACT_COUNT_THRESHOLD": 1, **values}


def explains(queries) -> int:
    return sum((q["sql"] or "").startswith("EXPLAIN") for q in queries.captured_queries)


def test_slow_estimates_stop_at_the_budget_and_say_not_counted(admin_client, leads, settings, virtual_clock):
    fastadmin_settings(settings, REQUEST_BUDGET_MS=6_000)
    virtual_clock["cost"] = 2.4  # the measured planner time per EXPLAIN
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/shop/lead/", PATHOLOGICAL)
    assert response.status_code == 200
    assert b"not counted" in response.content
    # 6 s of budget at 2.4 s each: the third EXPLAIN is the last one started (the list's count, then
    # the facets); without the budget this request sends one per choice (5 + 5 + 4 + 30 + filters').
    assert explains(queries) <= 3


def test_without_budget_pressure_every_choice_is_estimated(admin_client, leads, settings, virtual_clock):
    fastadmin_settings(settings, REQUEST_BUDGET_MS=6_000)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/shop/lead/", PATHOLOGICAL)
    assert response.status_code == 200
    assert b"not counted" not in response.content
    assert explains(queries) > 14  # one per status, source and score choice at least


def test_a_budget_spent_by_the_count_answers_503_naming_the_stage(admin_client, leads, settings, virtual_clock):
    fastadmin_settings(settings, REQUEST_BUDGET_MS=6_000)
    virtual_clock["cost"] = 7  # the list's own count estimate spends it all; nothing after it is sent
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/shop/lead/", PATHOLOGICAL)
    assert response.status_code == 503
    assert b"fastadmin-too-slow" in response.content
    assert b"counting the rows ran for more than 6.0 seconds" in response.content
    assert explains(queries) == 1


def test_the_too_slow_page_names_the_stage_that_was_slow(admin_client, leads, settings, monkeypatch):
    """A statement timeout while counting says "counting the rows" (it always said "loading the list")."""
    from fastadmin.counting import EstimatedCounter

    def slow_count(self, queryset):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")

    fastadmin_settings(settings, STATEMENT_TIMEOUT_MS=100)
    monkeypatch.setattr(EstimatedCounter, "count", slow_count)
    response = admin_client.get("/admin/shop/lead/")
    assert response.status_code == 503
    assert b"counting the rows ran for more than" in response.content
    # the next request starts with a clean stage
    monkeypatch.undo()
    assert admin_client.get("/admin/shop/lead/").status_code == 200


@pytest.mark.parametrize(("value", "check_id"), [(0, "fastadmin.E010"), ("6s", "fastadmin.E010"),
                                                 (True, "fastadmin.E010"), (1_000, "fastadmin.W010")])
def test_bad_budget_values_are_reported_by_a_system_check(settings, value, check_id):
    settings.FASTADMIN = {"REQUEST_BUDGET_MS": value}
    assert check_id in [m.id for m in run_checks()]


def test_the_default_budget_passes_the_checks(settings):
    settings.FASTADMIN = {}
    ids = [m.id for m in run_checks()]
    assert "fastadmin.E010" not in ids and "fastadmin.W010" not in ids


def test_a_statement_canceled_in_a_savepoint_rolls_back_under_a_nearly_spent_budget(db):
    """With less budget left than the statement timeout the guard lowers the timeout before each
    statement; the rollback to the savepoint after a cancel must not be preceded by that (an aborted
    transaction refuses anything but a rollback: the page was a 500)."""
    from django.db import OperationalError, transaction

    with budget.request_budget(1_000, 5_000, "default"):
        with pytest.raises(OperationalError, match="statement timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(3)")
    with connection.cursor() as cursor:  # rolled back to the savepoint: the transaction goes on
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
