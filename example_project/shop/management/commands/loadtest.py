"""``manage.py loadtest``: N concurrent staff against fastadmin and stock admin under gunicorn.

Starts the example project under gunicorn (``--workers`` sync worker processes, loopback, a free
port, ``DEBUG`` off, persistent database connections) against the same database this command uses,
then for each admin (``/admin/`` and ``/stock-admin/``) and each ``--sessions`` value drives that
many logged-in staff sessions (:mod:`shop.loadtest`) for ``--seconds`` and prints throughput,
p50/p95/p99 latency and errors. Needs gunicorn (``pip install -e ".[load]"``) and the demo user
(created if missing). The client runs on the same machine: on a small box it competes with the
server for CPU, so read the figures as a comparison of the two admins in one run.

    DATABASE_URL=... python example_project/manage.py loadtest --sessions 8 32 64 --seconds 30
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from example_project.stress import database_url, free_port

from shop import loadtest
from shop.management.commands.demo_user import PASSWORD, USERNAME, ensure_demo_user
from shop.models import Customer, Order

ADMINS = {"fastadmin": "/admin/", "stock": "/stock-admin/"}
PROJECT_DIR = Path(__file__).resolve().parents[3]  # example_project/


def server_database_url(alias: str, statement_timeout_s: float | None = None) -> str:
    """A ``DATABASE_URL`` for the gunicorn workers naming the database ``alias`` is connected to now.

    ``statement_timeout_s`` caps every statement of the session (stock admin has no cap of its own),
    and PostgreSQL drops the query of a client that went away, so a run's backlog dies with it.
    """
    settings_dict = connections[alias].settings_dict
    query = {}
    if statement_timeout_s and not settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):  # PgBouncer ignores it
        query["options"] = (f"-c statement_timeout={int(statement_timeout_s * 1000)} "
                            "-c client_connection_check_interval=1000")
    return database_url(settings_dict, query)


@contextmanager
def gunicorn(workers: int, alias: str, statement_timeout_s: float | None = None):
    """A gunicorn serving the example project on a free loopback port; yields the port."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": server_database_url(alias, statement_timeout_s),
           "DJANGO_SETTINGS_MODULE": "example_project.settings",
           "DJANGO_DEBUG": "0", "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
           "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), str(PROJECT_DIR.parent)])}
    cmd = [sys.executable, "-m", "gunicorn", "example_project.wsgi:application", "--workers", str(workers),
           "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--backlog", "512", "--log-level", "warning"]
    try:
        # Its own session (process group): the cleanup below signals the master *and* its workers, so a
        # worker stuck in a long request cannot outlive the run as an orphan.
        process = subprocess.Popen(cmd, env=env, cwd=PROJECT_DIR, start_new_session=True)
    except FileNotFoundError as exc:
        raise CommandError(f"cannot start gunicorn: {exc}") from exc
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise CommandError(f"gunicorn exited with {process.returncode} (is it installed? "
                                   'pip install -e ".[load]")')
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise CommandError("gunicorn did not listen within 60 s") from None
                time.sleep(0.2)
        yield port
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen, grace_s: float = 20) -> None:
    """SIGTERM the process group (gunicorn's graceful stop), then SIGKILL whatever is left of it."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        pass
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers the master did not reap in time
    process.wait()


def search_terms(alias: str) -> list[str]:
    """Searches a member of staff types: existing order numbers and customer names."""
    numbers = list(Order.objects.using(alias).order_by("-pk").values_list("number", flat=True)[:3])
    names = [n.split()[-1] for n in Customer.objects.using(alias).order_by("pk").values_list("name", flat=True)[:3]]
    terms = [t for t in [*numbers, *names] if t]
    if not terms:
        raise CommandError("no orders to search: seed first (manage.py seed --rows N)")
    return terms


def format_table(rows: list[dict]) -> str:
    head = f"{'admin':<10} {'N':>3} {'req':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['admin']:<10} {r['sessions']:>3} {r['requests']:>6} {r['req_per_s']:>7} "
                     f"{r['p50_ms']:>8} {r['p95_ms']:>8} {r['p99_ms']:>8} {r['errors']:>6}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Drive N concurrent staff sessions against fastadmin and stock admin under gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--sessions", type=int, nargs="+", default=[8, 32, 64], help="concurrent staff (N)")
        parser.add_argument("--seconds", type=float, default=30.0, help="duration of each run")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
        parser.add_argument("--request-timeout", type=float, default=30.0,
                            help="seconds a request may take (client and PostgreSQL statement_timeout)")
        parser.add_argument("--admin", choices=sorted(ADMINS), action="append", help="default: both")
        parser.add_argument("--json", dest="json_path", help="also write the results to this JSON file")
        parser.add_argument("--database", default="default")

    def handle(self, *args, sessions, seconds, workers, request_timeout, admin, json_path, database, **options):
        if min(sessions) < 1 or seconds <= 0 or workers < 1 or request_timeout <= 0:
            raise CommandError("--sessions, --seconds, --workers and --request-timeout must be positive")
        ensure_demo_user(using=database)
        terms = search_terms(database)
        rows = []
        for name in admin or ["fastadmin", "stock"]:
            for n in sessions:
                # a fresh server per run: a slow run's queued requests never spill into the next one
                with gunicorn(workers, database, request_timeout) as port:
                    load = os.getloadavg()[0]
                    result = loadtest.run("127.0.0.1", port, ADMINS[name], n, seconds, USERNAME, PASSWORD,
                                          terms, label=name, timeout=request_timeout + 5)
                    row = {**result.summary(), "load_avg_1m_before": round(load, 2)}
                    rows.append(row)
                    self.stderr.write(f"{name} N={n}: {row['req_per_s']} req/s, p95 {row['p95_ms']} ms, "
                                      f"{row['errors']} errors (load {load:.1f})")
                    for error in result.errors:
                        self.stderr.write(f"  error: {error}")
        self.stdout.write(format_table(rows))
        if json_path:
            Path(json_path).write_text(json.dumps({"workers": workers, "seconds": seconds,
                                                   "request_timeout": request_timeout, "runs": rows}, indent=2))
            self.stdout.write(f"\nWrote {json_path}")
