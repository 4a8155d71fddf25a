"""fastadmin behind PgBouncer in transaction mode: every setting it makes per request is transaction-
scoped (``set_config(..., true)``), so nothing leaks to the next client of the same server connection.

A PgBouncer (Debian's ``pgbouncer``) is started on a free port in front of the suite's server, with
ONE server connection in the pool, so consecutive requests (and this test's own probe connection)
share one PostgreSQL backend: a session-level ``SET`` would show in the probe. The ``default`` alias
points at PgBouncer for each test; changelist, search, counts, the statement-timeout page and a save
with locking run through it.
"""

from __future__ import annotations

import os

import psycopg
import pytest
from django.db import connections

from tests.locking_helpers import make, open_form, person, post, url
from tests.pgbouncer_proc import PGBOUNCER, PgBouncerError
from tests.pgbouncer_proc import pgbouncer as start_pgbouncer
from tests.testapp.models import Gadget, Item

pytestmark = pytest.mark.django_db(transaction=True)

@pytest.fixture(scope="session")
def pgbouncer(django_db_setup):
    if not os.path.exists(PGBOUNCER):
        pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer; .ci/run installs it)")
    target = connections["default"].settings_dict
    try:
        with start_pgbouncer(target["HOST"] or "127.0.0.1", target["PORT"], target["USER"] or "postgres",
                             target["NAME"], pool_size=1) as port:
            yield port
    except PgBouncerError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def through_pgbouncer(pgbouncer, transactional_db):
    """``default`` connects through PgBouncer (transaction mode: no server-side cursors)."""
    conn = connections["default"]
    saved = conn.settings_dict
    conn.close()
    conn.settings_dict = {**saved, "HOST": "127.0.0.1", "PORT": str(pgbouncer), "OPTIONS": {},
                          "DISABLE_SERVER_SIDE_CURSORS": True}
    try:
        yield pgbouncer
    finally:
        conn.close()
        conn.settings_dict = saved


def backend_settings(port: int) -> tuple:
    """What the pool's one server connection says now, asked by another client."""
    target = connections["default"].settings_dict
    with psycopg.connect(host="127.0.0.1", port=port, user=target["USER"] or "postgres",
                         dbname=target["NAME"], autocommit=True) as probe:
        return probe.execute("SELECT pg_backend_pid(), current_setting('statement_timeout'), "
                             "current_setting('lock_timeout')").fetchone()


def test_changelist_search_and_counts_leave_no_setting_behind(through_pgbouncer, admin_client, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "STATEMENT_TIMEOUT_MS": 4321, "EXACT_COUNT_THRESHOLD": 1_000}
    make_rows = [Item(name=f"widget {i}", kind="abc"[i % 3], rank=i % 5) for i in range(40)]
    Item.objects.bulk_create(make_rows)
    pid_before, timeout_before, _ = backend_settings(through_pgbouncer)
    for query in ({}, {"q": "widget 1"}, {"kind__exact": "a"}, {"_count": "exact"}, {"cursor": ""}):
        page = admin_client.get("/admin/testapp/item/", query)
        assert page.status_code == 200, (query, page.content[:300])
        assert page.context["cl"].result_list, query
    page = admin_client.get("/admin/testapp/item/", {"q": "widget 1"})
    matching = {f"widget {i}" for i in range(40) if "1" in str(i)}
    assert {row.name for row in page.context["cl"].result_list} <= matching
    assert str(page.context["cl"].count) == str(len(matching))  # counted exactly, through the pooler
    pid_after, timeout_after, _ = backend_settings(through_pgbouncer)
    assert pid_after == pid_before, "the pool has one server connection: the probe shares the admin's backend"
    assert timeout_after == timeout_before != "4321ms"


def test_the_statement_timeout_page_through_the_pooler(through_pgbouncer, admin_client, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "STATEMENT_TIMEOUT_MS": 200}
    Item.objects.create(name="slow", kind="a")
    page = admin_client.get("/admin/testapp/item/", {"speed": "slow"})
    assert page.status_code == 503
    assert backend_settings(through_pgbouncer)[1] != "200ms"
    assert admin_client.get("/admin/testapp/item/").status_code == 200


def test_a_save_with_locking_through_the_pooler(through_pgbouncer):
    alice, bob = person("alice"), person("bob")
    gadget = make(Gadget, name="pooled", city="Oslo")
    alice_form, bob_form = open_form(alice, url(gadget)), open_form(bob, url(gadget))
    assert post(alice, url(gadget), alice_form, city="Bergen").status_code == 302
    response = post(bob, url(gadget), bob_form, city="Tromsø")
    assert response.status_code == 409  # bob's form predates alice's save of the same field
    gadget.refresh_from_db()
    assert gadget.city == "Bergen"
    _, timeout, lock_timeout = backend_settings(through_pgbouncer)
    assert (timeout, lock_timeout) == ("0", "0")
