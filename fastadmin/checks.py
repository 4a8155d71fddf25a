"""System checks: every fastadmin misconfiguration has an id and a hint (``manage.py check``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connections
from django.utils.module_loading import import_string

from .conf import DEFAULTS

INTEGER_SETTINGS = (
    "EXACT_COUNT_THRESHOLD",
    "STATEMENT_TIMEOUT_MS",
    "EXACT_COUNT_TIMEOUT_MS",
    "FILTER_MAX_CHOICES",
    "DELETE_PREVIEW_LIMIT",
)


@register(Tags.compatibility)
def check_settings(app_configs=None, **kwargs):
    messages = []
    user = getattr(settings, "FASTADMIN", {})
    if not isinstance(user, dict):
        return [Error("settings.FASTADMIN must be a dict.", hint="FASTADMIN = {'EXACT_COUNT_THRESHOLD': 10000}",
                      id="fastadmin.E001")]
    for key in sorted(set(user) - set(DEFAULTS)):
        messages.append(Error(f"Unknown FASTADMIN setting {key!r}.",
                              hint=f"Known settings: {', '.join(sorted(DEFAULTS))}.", id="fastadmin.E002"))
    for key in INTEGER_SETTINGS:
        value = user.get(key, DEFAULTS[key])
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            messages.append(Error(f"FASTADMIN[{key!r}] must be a positive integer, not {value!r}.",
                                  id="fastadmin.E003"))
    for key in ("PAGINATOR", "COUNTER"):
        try:
            import_string(user.get(key, DEFAULTS[key]))
        except ImportError as exc:
            messages.append(Error(f"FASTADMIN[{key!r}] cannot be imported: {exc}", id="fastadmin.E004"))
    alias = user.get("READ_DATABASE")
    if alias is not None and alias not in settings.DATABASES:
        messages.append(Error(f"FASTADMIN['READ_DATABASE'] names {alias!r}, which is not in DATABASES.",
                              hint=f"Use one of: {', '.join(settings.DATABASES)}.", id="fastadmin.E005"))
    if "fastadmin" in settings.INSTALLED_APPS and "django.contrib.admin" not in settings.INSTALLED_APPS:
        messages.append(Error("fastadmin needs 'django.contrib.admin' in INSTALLED_APPS (it extends it).",
                              id="fastadmin.E006"))
    return messages


@register(Tags.database)
def check_database(app_configs=None, databases=None, **kwargs):
    """Estimated counts and statement timeouts need PostgreSQL; elsewhere counts are capped exact counts."""
    messages = []
    for alias in databases or ():
        if connections[alias].vendor != "postgresql":
            messages.append(Warning(
                f"Database {alias!r} is not PostgreSQL: fastadmin counts exactly up to EXACT_COUNT_THRESHOLD "
                "rows and runs reads without a statement timeout.",
                hint="Use PostgreSQL for tables with millions of rows.", id="fastadmin.W001"))
    return messages
