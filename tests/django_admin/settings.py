"""Settings for Django's ``tests/runtests.py`` with fastadmin swapped in (``run.py`` passes ``--settings``).

runtests.py replaces ``INSTALLED_APPS`` with its module-level ``ALWAYS_INSTALLED_APPS`` list (plus the
test apps), so setting ``INSTALLED_APPS`` here would be ignored. This module is imported lazily, on
runtests' first settings access and before it copies that list, so it edits the list in place:
``SimpleAdminConfig`` becomes :class:`tests.django_admin.apps.FastAdminSwapConfig` and ``fastadmin``
(templates, template tags, system checks) follows it. If runtests.py changes shape, this fails loudly.

The rest mirrors runtests' ``test_sqlite.py`` (the settings Django's own suite assumes), on PostgreSQL.
"""

from __future__ import annotations

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from example_project.devdb import parse_database_url

STOCK_ADMIN = "django.contrib.admin.apps.SimpleAdminConfig"
SWAP_ADMIN = "tests.django_admin.apps.FastAdminSwapConfig"


def _swap_installed_apps() -> None:
    always = getattr(sys.modules.get("__main__"), "ALWAYS_INSTALLED_APPS", None)
    if not isinstance(always, list):
        raise ImproperlyConfigured(
            "tests.django_admin.settings must be used by Django's tests/runtests.py (run it through "
            "`make test-django-admin`): runtests.ALWAYS_INSTALLED_APPS was not found."
        )
    if SWAP_ADMIN in always:  # already swapped (a parallel worker re-importing settings)
        return
    if STOCK_ADMIN not in always:
        raise ImproperlyConfigured(f"runtests.ALWAYS_INSTALLED_APPS no longer holds {STOCK_ADMIN!r}: {always!r}")
    position = always.index(STOCK_ADMIN)
    always[position : position + 1] = [SWAP_ADMIN, "fastadmin"]


_swap_installed_apps()

_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
_test_name = os.environ.get("TEST_DATABASE_NAME") or "test_django_admin"
_default = parse_database_url(_url)
DATABASES = {
    "default": {**_default, "TEST": {"NAME": _test_name}},
    "other": {**_default, "TEST": {"NAME": f"{_test_name}_other"}},
}

SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False

# Records every failure and compares it with by_design.txt; verifies the swap took effect.
TEST_RUNNER = "tests.django_admin.runner.FastAdminTestRunner"
