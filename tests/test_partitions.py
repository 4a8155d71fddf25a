"""A declaratively partitioned table (tests.testapp.Event: by month, March again by halves): estimates
sum the leaf partitions, keyset pages and search cross partitions, a filter on the partition key
prunes, and the index plan is built per partition without blocking writes."""

from __future__ import annotations

import datetime
import threading
import time

import psycopg
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from fastadmin.search_index import operations
from fastadmin.search_index.catalog import status
from fastadmin.search_index.plan import build_plan

from fastadmin.counting import EstimatedCounter, leaf_sizes
from fastadmin.pagination import KeysetPaginator
from tests.helpers import walk_paginator
from tests.testapp.models import Event

LEAVES = {"testapp_event_2024_01", "testapp_event_2024_02", "testapp_event_2024_03a", "testapp_event_2024_03b"}
#: Lock modes that make an INSERT/UPDATE/DELETE wait (they conflict with ROW EXCLUSIVE).
WRITE_BLOCKING = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}


def fill(n: int) -> None:
    """``n`` events spread over 2024-01-01 .. 2024-03-31 (every leaf partition gets rows)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO testapp_event (created, kind, name) "
            "SELECT timestamptz '2024-01-01 00:00+00' + (g %% 91) * interval '1 day' + (g %% 24) * interval '1 hour', "
            "       chr(97 + g %% 3), 'event ' || g FROM generate_series(1, %s) g",
            [n],
        )
        # As autovacuum does: it analyzes the leaf partitions, never a partitioned parent.
        for leaf in sorted(LEAVES):
            cursor.execute(f"ANALYZE {leaf}")


@pytest.mark.django_db
def test_estimates_sum_the_leaf_partitions_within_20_percent():
    fill(30_000)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'testapp_event'")
        (parent_reltuples,) = cursor.fetchone()
    assert parent_reltuples == -1  # a parent autovacuum never analyzes: a naive estimate has nothing
    # one catalog row per leaf, at any depth (March's halves, not March); one for a plain table
    assert len(leaf_sizes("default", "testapp_event")) == len(LEAVES)
    assert len(leaf_sizes("default", "testapp_event_2024_03a")) == 1
    assert len(leaf_sizes("default", "testapp_item")) == 1
    counter = EstimatedCounter(threshold=1)
    whole = counter.count(Event.objects.all())
    assert not whole.exact and abs(whole.value - 30_000) <= 0.2 * 30_000, whole
    march = Event.objects.filter(created__gte=datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC))
    truth = march.count()
    estimate = counter.count(march).value
    assert abs(estimate - truth) <= 0.2 * truth, (estimate, truth)
    kind_a = Event.objects.filter(kind="a")
    assert abs(counter.count(kind_a).value - kind_a.count()) <= 0.2 * kind_a.count()


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", [["-created"], ["name"], ["kind", "-created"]])
def test_keyset_walk_over_the_partitions_returns_every_row_once(ordering):
    fill(1_000)
    paginator = KeysetPaginator(Event.objects.order_by(*ordering), 97)
    seen = walk_paginator(paginator)
    assert len(seen) == len(set(seen)) == 1_000
    assert seen == list(paginator.queryset.values_list("pk", flat=True))


def test_changelist_filters_searches_and_prunes_partitions(admin_client):
    fill(2_000)
    page = admin_client.get("/admin/testapp/event/", {"kind": "b", "q": "event 1"})
    assert page.status_code == 200
    shown = {row.pk for row in page.context["cl"].result_list}
    assert len(shown) == 25  # a full page
    assert all(e.kind == "b" and "1" in e.name for e in Event.objects.filter(pk__in=shown))
    months = {e.created.month for e in Event.objects.filter(kind="b", name__contains="1")}
    assert months == {1, 2, 3}  # the matches span every partition

    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get("/admin/testapp/event/", {"created__year": "2024", "created__month": "2"})
    assert page.status_code == 200
    rows = page.context["cl"].result_list
    assert rows and all(e.created.month == 2 for e in rows)
    page_sql = next(q["sql"] for q in queries if q["sql"].startswith('SELECT "testapp_event"."id"'))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + page_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    touched = {leaf for leaf in LEAVES if leaf in plan}
    assert touched == {"testapp_event_2024_02"}, plan


def _event_statuses():
    return [s for s in status(build_plan()) if s.need.model is Event]


@pytest.mark.django_db(transaction=True)
def test_index_plan_builds_per_partition_without_blocking_writes():
    fill(3_000)
    operations.ensure_trigram_extension()  # as --apply does first
    statuses = _event_statuses()
    assert statuses and all(s.missing for s in statuses)
    settings_dict = connection.settings_dict
    dsn = {"host": settings_dict["HOST"] or None, "port": settings_dict["PORT"] or None,
           "user": settings_dict["USER"], "dbname": settings_dict["NAME"]}
    writer = psycopg.connect(**{k: v for k, v in dsn.items() if v}, autocommit=False)
    writer.execute("SET lock_timeout = '1s'")  # a write that had to wait would fail, not hang
    # An open write transaction: CREATE INDEX CONCURRENTLY on its partition waits for it, so the
    # build is caught in its long phase while the test writes on.
    writer.execute("INSERT INTO testapp_event (created, kind, name) VALUES ('2024-01-05', 'a', 'during')")
    done: list[BaseException | int] = []

    def run() -> None:
        try:
            done.append(operations.build(statuses, out=lambda line: None))
        except BaseException as exc:  # reported by the assertion below
            done.append(exc)
        finally:
            connections.close_all()

    builder = threading.Thread(target=run)
    builder.start()
    try:
        pid, deadline = None, time.monotonic() + 30
        while pid is None and not done and time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%%' "
                               "AND wait_event_type IS NOT NULL AND datname = current_database()")
                row = cursor.fetchone()
            pid = row and row[0]
            time.sleep(0.05)
        assert pid, f"the build never waited in CREATE INDEX CONCURRENTLY: {done}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                           "WHERE l.pid = %s AND l.granted AND c.relname LIKE 'testapp_event%%' "
                           "AND c.relkind IN ('r', 'p')", [pid])
            held = cursor.fetchall()
        assert held and not [lock for lock in held if lock[1] in WRITE_BLOCKING], held
        for day in ("2024-01-06", "2024-02-06", "2024-03-06", "2024-03-26"):  # every partition, mid-build
            writer.execute("INSERT INTO testapp_event (created, kind, name) VALUES (%s, 'b', 'during')", [day])
        writer.execute("UPDATE testapp_event SET name = 'during!' WHERE name = 'during'")
        writer.commit()
    finally:
        writer.rollback()
        writer.close()
        builder.join(120)
    assert done == [len(statuses)], done
    try:
        assert not [s for s in _event_statuses() if s.missing]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                           "WHERE c.relname = ANY(%s) AND NOT i.indisvalid", [sorted(LEAVES)])
            assert cursor.fetchone() == (0,)
            cursor.execute("SELECT count(*) FROM testapp_event WHERE name = 'during!'")
            assert cursor.fetchone() == (5,)
    finally:
        with connection.cursor() as cursor:
            for item in statuses:
                cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(item.need.index.name)}")
