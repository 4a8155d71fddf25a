"""System checks for search and the index plan (ids fastadmin.E101+ / W101+).

``check_search`` needs no database; ``check_index_plan`` is tagged ``database`` (it reads the
catalog), so it runs with ``manage.py check --database default`` and before ``migrate``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connections

from fastadmin.conf import DEFAULTS

from .backends import BaseSearchBackend
from .catalog import has_trigram_extension, status
from .fields import resolve
from .plan import Plan, build_plan, fastadmin_model_admins
from .query import FULLTEXT
from .sidecar import resolve_backend


def _backend_errors(value, where: str) -> list[Error]:
    try:
        backend = resolve_backend(value)
    except ImportError as exc:
        return [Error(f"{where} cannot be imported: {exc}", id="fastadmin.E102")]
    if not (isinstance(backend, type) and issubclass(backend, BaseSearchBackend)):
        return [Error(f"{where} is {backend!r}, not a BaseSearchBackend subclass.",
                      hint="Subclass fastadmin.BaseSearchBackend.", id="fastadmin.E102")]
    return []


@register(Tags.admin)
def check_search(app_configs=None, **kwargs):
    user = getattr(settings, "FASTADMIN", {}) or {}
    messages = _backend_errors(user.get("SEARCH_BACKEND", DEFAULTS["SEARCH_BACKEND"]),
                               "FASTADMIN['SEARCH_BACKEND']")
    zero_ok = ("SEARCH_PROBE_LIMIT", "SEARCH_SCAN_ROWS", "SEARCH_RELATED_LIMIT")
    for key in ("SEARCH_MAX_LENGTH", "SEARCH_MAX_TERMS", *zero_ok):
        value = user.get(key, DEFAULTS[key]) if isinstance(user, dict) else DEFAULTS[key]
        minimum = 0 if key in zero_ok else 1
        if value is None and key in ("SEARCH_MAX_LENGTH", "SEARCH_MAX_TERMS"):
            continue  # no limit
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            messages.append(Error(f"FASTADMIN[{key!r}] must be an integer >= {minimum}, not {value!r}.",
                                  id="fastadmin.E104"))
    fulltext_config = user.get("SEARCH_FULLTEXT_CONFIG") if isinstance(user, dict) else None
    if fulltext_config is not None and not (isinstance(fulltext_config, str) and fulltext_config.strip()):
        messages.append(Error(f"FASTADMIN['SEARCH_FULLTEXT_CONFIG'] must be a text search configuration name "
                              f"(e.g. 'simple') or None, not {fulltext_config!r}.", id="fastadmin.E105"))
    has_postgres_app = "django.contrib.postgres" in settings.INSTALLED_APPS
    for model_admin in fastadmin_model_admins():
        name = type(model_admin).__name__
        if model_admin.search_backend is not None:
            messages += _backend_errors(model_admin.search_backend, f"{name}.search_backend")
        for spec in model_admin.search_fields or ():
            try:
                search_field = resolve(model_admin.model, str(spec))
            except FieldDoesNotExist as exc:
                messages.append(Error(f"{name}.search_fields entry {str(spec)!r} names no field: {exc}",
                                      obj=model_admin, id="fastadmin.E103"))
                continue
            if search_field.mode == FULLTEXT and not has_postgres_app:
                messages.append(Error(
                    f"{name}.search_fields entry {str(spec)!r} uses '@' (full-text search), which needs "
                    "'django.contrib.postgres' in INSTALLED_APPS.",
                    hint="Add 'django.contrib.postgres' to INSTALLED_APPS or drop the '@' prefix.",
                    obj=model_admin, id="fastadmin.E101"))
    return messages


def _table_exists(alias: str, table: str) -> bool:
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [connection.ops.quote_name(table)])
        return cursor.fetchone()[0]


@register(Tags.database)
def check_index_plan(app_configs=None, databases=None, **kwargs):
    """One warning per ModelAdmin and missing index; pg_trgm and interrupted builds reported too."""
    messages = []
    plan = build_plan()
    for alias in databases or ():
        if connections[alias].vendor != "postgresql":
            continue
        try:
            # Before migrate the tables do not exist yet: nothing to index there.
            alias_plan = Plan([n for n in plan.needs if _table_exists(alias, n.table)], plan.skipped)
            if alias_plan.needs_trigram and not has_trigram_extension(alias):
                messages.append(Warning(
                    f"The pg_trgm extension is not installed in database {alias!r}; admin search cannot "
                    "use trigram indexes.",
                    hint="Run `manage.py fastadmin_indexes --apply` (it creates the extension) or "
                         "CREATE EXTENSION pg_trgm as the database owner.",
                    id="fastadmin.W102"))
            statuses = status(alias_plan, alias)
        except DatabaseError as exc:
            messages.append(Warning(f"Could not read the indexes of database {alias!r}: {exc}",
                                    id="fastadmin.W104"))
            continue
        for item in statuses:
            need = item.need
            for invalid in item.invalid:
                messages.append(Warning(
                    f"Index {invalid.name} on {need.table} is INVALID (an interrupted CREATE INDEX "
                    "CONCURRENTLY): PostgreSQL maintains it on every write but never uses it.",
                    hint="`manage.py fastadmin_indexes --apply` drops and rebuilds it.", id="fastadmin.W103"))
            if not item.missing:
                continue
            for model_admin, why in need.reasons:
                messages.append(Warning(
                    f"{type(model_admin).__name__} ({model_admin.opts.label}): {why} needs a "
                    f"{need.describe()}, which database {alias!r} does not have.",
                    hint=f"Run `manage.py fastadmin_indexes --apply`, or: {need.sql(alias)}",
                    obj=model_admin, id="fastadmin.W101"))
    return messages
