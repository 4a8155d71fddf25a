"""The load-test tool itself (``manage.py loadtest``, :mod:`shop.loadtest`), at tiny scale.

A real gunicorn serves the example project over loopback against the test database; two staff
sessions per admin log in and run the whole mix for a few seconds. A second test points the
driver at a small server that fails some requests with 500, to prove errors are counted.
"""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from shop import loadtest
from shop.models import Order

MIX = {"list", "next page", "filter", "search", "open", "save"}


@pytest.fixture
def seeded(transactional_db):
    call_command("seed", rows=300, chunk=100, stdout=io.StringIO(), stderr=io.StringIO())


def test_loadtest_drives_both_admins_under_gunicorn(seeded, tmp_path, settings):
    # gunicorn runs the example project's settings: hash the demo user's password the way it checks them
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    before = set(Order.objects.values_list("pk", "number", "customer_id", "status", "total", "shipped_at", "note"))
    out = tmp_path / "load.json"
    servers_before = gunicorn_pids()
    call_command("loadtest", sessions=[2], seconds=2, workers=2, json_path=str(out),
                 stdout=io.StringIO(), stderr=io.StringIO())
    runs = {run["admin"]: run for run in json.loads(out.read_text())["runs"]}
    assert set(runs) == {"fastadmin", "stock"}
    for name, run in runs.items():
        assert run["sessions"] == 2, name
        assert run["errors"] == 0, (name, run)
        assert run["req_per_s"] > 0, (name, run)
        assert set(run["by_kind_p50_ms"]) == MIX, (name, run)  # every step of the mix ran and succeeded
        assert 0 < run["p50_ms"] <= run["p95_ms"] <= run["p99_ms"], (name, run)
    assert gunicorn_pids() <= servers_before  # master and workers of both runs are gone
    # saves re-post each form as rendered: the rows come back exactly as seeded (no data lost on the way)
    assert set(Order.objects.values_list("pk", "number", "customer_id", "status", "total", "shipped_at",
                                         "note")) == before


def gunicorn_pids() -> set[int]:
    """Live gunicorn processes serving the example project (zombies excluded)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError, NotADirectoryError):
            continue
        if b"gunicorn" in cmdline and b"example_project.wsgi:application" in cmdline and state != "Z":
            pids.add(int(entry.name))
    return pids


class HalfBroken(BaseHTTPRequestHandler):
    """A login that works, an order list that renders, and a change form that always fails with 500."""

    def do_GET(self):
        if self.path.startswith("/admin/login/"):
            self.reply(200, '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="t">'
                            '<input name="username"><input name="password" type="password"></form>',
                       cookie="csrftoken=t")
        elif "/change/" in self.path:
            self.reply(500, "<h1>Server Error (500)</h1>")
        else:
            self.reply(200, '<a href="/admin/shop/order/7/change/">ORD-7</a>')

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path.startswith("/admin/login/"):
            self.send_response(302)
            self.send_header("Location", "/admin/")
            self.send_header("Set-Cookie", "sessionid=s")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.reply(500, "no")

    def reply(self, status: int, body: str, cookie: str = "") -> None:
        data = body.encode()
        self.send_response(status)
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep the test output clean
        pass


def test_server_errors_are_counted():
    server = ThreadingHTTPServer(("127.0.0.1", 0), HalfBroken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = loadtest.run("127.0.0.1", server.server_address[1], "/admin/", 2, 1.0, "admin", "admin",
                              ["ORD-7"])
    finally:
        server.shutdown()
        server.server_close()
    summary = result.summary()
    opens = [s for s in result.samples if s.kind == "open"]
    assert opens and all(s.status == 500 and not s.ok for s in opens)
    assert summary["errors"] == len(opens) > 0
    assert not any(s.kind == "save" for s in result.samples)  # a failed form is never posted
    ok = [s for s in result.samples if s.ok]
    assert ok and {s.kind for s in ok} == {"list", "next page", "filter", "search"}
    assert summary["req_per_s"] == round(len(ok) / result.seconds, 2)
    assert any("open: 500" in error for error in result.errors)
