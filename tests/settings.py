"""Test settings: the example project plus a small app whose tables the tests shape at will."""

from example_project.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp", "tests.relapp", "tests.renderapp"]  # noqa: F405
ROOT_URLCONF = "tests.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FASTADMIN = {"STATEMENT_TIMEOUT_MS": 5_000}

# A second alias on the same server, standing in for a read replica (tests mirror it onto default).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405

# SQLite, only to prove fastadmin degrades correctly on other databases (never as PostgreSQL's stand-in).
DATABASES["sqlite"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}  # noqa: F405
DATABASE_ROUTERS = ["tests.routers.SQLiteOnlyTestApp"]
