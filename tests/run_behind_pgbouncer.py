"""``make test-pgbouncer``: the whole suite with every connection going through PgBouncer in transaction mode.

Starts a private PgBouncer (wildcard database entry, transaction pooling, 20 server connections)
in front of ``DATABASE_URL``'s server and runs ``make test`` with ``DATABASE_URL`` pointing at it
plus ``?pgbouncer=1`` (which turns off server-side cursors; see ``example_project/devdb.py``).

The test database is created through the pooler (CREATE DATABASE runs in autocommit, which
transaction mode forwards) but kept (``--reuse-db``): Django's final ``DROP DATABASE`` would fail
while PgBouncer still holds idle server connections to it. This script drops it on the server
directly before and after the run (``WITH (FORCE)``). Exits with pytest's status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ORIGINAL_ENV = dict(os.environ)  # importing example_project (its Celery app) sets DJANGO_SETTINGS_MODULE
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]

from example_project.devdb import parse_database_url  # noqa: E402

from tests.pgbouncer_proc import PGBOUNCER, pgbouncer  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def drop(server: dict, name: str) -> None:
    with psycopg.connect(host=server["HOST"] or None, port=server["PORT"] or None, user=server["USER"] or None,
                         password=server["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    server = parse_database_url(url)
    test_db = os.environ.get("TEST_DATABASE_NAME") or f"test_{server['NAME']}"
    if not os.path.exists(PGBOUNCER):
        print(f"make test-pgbouncer: {PGBOUNCER} not found (Debian: apt-get install pgbouncer)", file=sys.stderr)
        return 1
    drop(server, test_db)
    user = server["USER"] or "postgres"
    try:
        with pgbouncer(server["HOST"] or "127.0.0.1", server["PORT"], user, "postgres",
                       pool_size=20, max_clients=400) as port:
            pooled = f"postgresql://{user}@127.0.0.1:{port}/{server['NAME']}?pgbouncer=1"
            print(f"make test-pgbouncer: PgBouncer (transaction mode) on 127.0.0.1:{port} in front of {url}",
                  flush=True)
            env = {**ORIGINAL_ENV, "DATABASE_URL": pooled, "TEST_DATABASE_NAME": test_db,
                   "PYTEST_ARGS": f"--reuse-db {os.environ.get('PYTEST_ARGS', '')}".strip()}
            return subprocess.call(["make", "test"], cwd=ROOT, env=env)
    finally:
        drop(server, test_db)


if __name__ == "__main__":
    sys.exit(main())
