"""A private PgBouncer (Debian's ``/usr/sbin/pgbouncer``) in transaction mode, in front of one server.

Used by the pooler tests' fixture (one server connection, to prove nothing leaks between clients)
and by ``tests/run_behind_pgbouncer.py`` (the whole suite through a pooler). The wildcard database
entry forwards any database name to the server, so the test database pytest-django creates is
reachable too. Auth is ``trust``: loopback only, on a free port. As root it runs as the server's
unprivileged user (PgBouncer refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.pg_cluster import free_port, run_as

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


class PgBouncerError(RuntimeError):
    pass


@contextmanager
def pgbouncer(host: str, port: int | str, user: str, probe_db: str, pool_size: int = 1,
              max_clients: int = 50) -> Iterator[int]:
    """Run PgBouncer until the block ends; yields its port. Raises :class:`PgBouncerError` if it won't start."""
    if not os.path.exists(PGBOUNCER):
        raise FileNotFoundError(PGBOUNCER)
    root = Path(tempfile.mkdtemp(prefix="fastadmin-pgbouncer-"))
    owner = run_as()
    if host.startswith("/") and owner:  # the embedded server's socket: reachable by its owner
        owner = pwd.getpwuid(os.stat(host).st_uid).pw_name
    listen = free_port()
    (root / "users.txt").write_text(f'"{user}" ""\n')
    (root / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={host} port={port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {root / 'users.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = {max_clients}\n"
        "server_reset_query =\nignore_startup_parameters = extra_float_digits,options\n"
        "log_connections = 0\nlog_disconnections = 0\n"
        f"logfile = {root / 'pgbouncer.log'}\n"
    )
    if owner:
        entry = pwd.getpwnam(owner)
        for path in (root, *root.iterdir()):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    # Its console output goes to a file, never to an unread pipe: PgBouncer also logs to stderr, and
    # once a pipe's 64 KB buffer filled it blocked in write() and stalled every client (the whole
    # suite through the pooler hung that way). Connection logging is off for the same volume reason.
    console = open(root / "console.log", "wb")
    process = subprocess.Popen([PGBOUNCER, str(root / "pgbouncer.ini")], user=owner,
                               stdout=console, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                psycopg.connect(host="127.0.0.1", port=listen, user=user, dbname=probe_db, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    log = (root / "pgbouncer.log").read_text() if (root / "pgbouncer.log").exists() else ""
                    output = (root / "console.log").read_text(errors="replace")
                    raise PgBouncerError(f"pgbouncer did not start: {output} {log}") from None
                time.sleep(0.1)
        yield listen
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)
        console.close()
        shutil.rmtree(root, ignore_errors=True)
