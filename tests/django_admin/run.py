"""Run Django's own admin tests with every test admin built on fastadmin.

    python tests/django_admin/run.py [--parallel N] [test labels...]   (or: make test-django-admin)

1. Fetches the Django sdist matching the installed Django (``pip download``, cached in
   ``.cache/django-src/``, gitignored) and extracts only its ``tests/`` directory.
2. Runs its ``tests/runtests.py`` on PostgreSQL (``DATABASE_URL``, default the machine's server;
   ``TEST_DATABASE_NAME`` names the test database) with ``--settings=tests.django_admin.settings``,
   which installs fastadmin in place of Django's admin (see ``apps.py``).
3. Exits non-zero on any failure or error not listed in ``by_design.txt`` (see ``runner.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import django

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "django-src"

#: The modules the issue measures: 224 tests on Django 5.2, all passing on stock with PostgreSQL.
DEFAULT_LABELS = [
    "admin_changelist",
    "admin_filters",
    "pagination",
    "admin_views.tests.AdminSearchTest",
    "admin_views.tests.AdminViewListEditable",
    "admin_views.test_actions",
]


def django_tests_dir(version: str = django.__version__) -> Path:
    """``tests/`` of Django ``version``'s sdist, downloaded and extracted once."""
    target = CACHE / version
    runtests = target / "tests" / "runtests.py"
    if runtests.exists():
        return runtests.parent
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"django-{version}.tar.gz"
    if not archive.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"django=={version}", "-d", str(CACHE)],
            check=True,
        )
    prefix = f"django-{version}/tests/"
    with tarfile.open(archive) as tar:
        members = []
        for member in tar.getmembers():
            if member.name.startswith(prefix):
                member.name = "tests/" + member.name[len(prefix):]
                members.append(member)
        tar.extractall(target, members=members, filter="data")
    if not runtests.exists():
        raise SystemExit(f"{archive} has no {prefix}runtests.py")
    return runtests.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labels", nargs="*", help=f"test labels (default: {' '.join(DEFAULT_LABELS)})")
    parser.add_argument("--parallel", default="1", help="runtests' --parallel (default 1; more needs tblib)")
    parser.add_argument("-v", "--verbosity", default="1")
    args = parser.parse_args(argv)
    if args.parallel != "1" and importlib.util.find_spec("tblib") is None:
        # Django's parallel runner pickles each failure's traceback, which needs tblib.
        parser.error("--parallel other than 1 needs tblib (pip install tblib); failures cannot be reported without it")

    tests_dir = django_tests_dir()
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "example_project"), str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    )
    command = [
        sys.executable, "runtests.py", "--settings=tests.django_admin.settings", "--noinput",
        f"--parallel={args.parallel}", f"--verbosity={args.verbosity}", *(args.labels or DEFAULT_LABELS),
    ]
    print(f"Django {django.__version__} tests from {tests_dir}", flush=True)
    return subprocess.run(command, cwd=tests_dir, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
