"""A real ``celery -A example_project worker`` process group for tests (solo pool, optional beat)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def wait_for(predicate: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class CeleryWorker:
    """One worker process in its own process group (solo pool: SIGKILL kills the process running the
    task; ``-B`` forks a beat process, killed with it). ``env`` is added to this process's environment."""

    def __init__(self, tmp: Path, name: str) -> None:
        self.tmp, self.name, self.proc, self.log, self.runs = tmp, name, None, tmp / "worker.log", 0

    def spawn(self, env: dict[str, str], beat: bool = False) -> None:
        self.runs += 1
        args = [sys.executable, "-m", "celery", "-A", "example_project", "worker", "-P", "solo", "-l", "info",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", f"{self.name}-{os.getpid()}-{self.runs}@%h"]
        if beat:
            args += ["-B", "-s", str(self.tmp / "beat-schedule")]
        self.log.write_text("")
        env = {**os.environ, "PYTHONPATH": f"{REPO / 'example_project'}:{REPO}", **env}
        self.proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=self.log.open("a"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_for(lambda: "ready." in self.log.read_text() or self.proc.poll() is not None, 60, "the worker")
        assert self.proc.poll() is None, self.log.read_text()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """The worker and its beat child together (the group this object created)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass  # the whole group is gone already
        self.proc.wait(30)
