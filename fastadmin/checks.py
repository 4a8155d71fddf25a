"""System checks: every fastadmin misconfiguration has an id and a hint (``manage.py check``)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib.admin.checks import ModelAdminChecks as StockModelAdminChecks
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import connections
from django.utils.module_loading import import_string

from .conf import DEFAULTS

INTEGER_SETTINGS = (
    "EXACT_COUNT_THRESHOLD",
    "STATEMENT_TIMEOUT_MS",
    "EXACT_COUNT_TIMEOUT_MS",
    "COUNT_TIMEOUT_MS",
    "FILTER_MAX_CHOICES",
    "EDITABLE_MAX_CHOICES",
    "DELETE_PREVIEW_LIMIT",
    "BACKGROUND_ACTION_THRESHOLD",
    "BACKGROUND_CHUNK_SIZE",
    "JOB_HEARTBEAT_TIMEOUT_S",
    "JOB_SWEEP_INTERVAL_S",
)


def is_positive_int(value: object) -> bool:
    """An ``int`` above zero, ``True`` excluded (a bool is an int to Python, not a count to us)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


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
        if not is_positive_int(value):
            messages.append(Error(f"FASTADMIN[{key!r}] must be a positive integer, not {value!r}.",
                                  id="fastadmin.E003"))
    walk = user.get("WALK_TIMEOUT_MS", DEFAULTS["WALK_TIMEOUT_MS"])
    if walk is not None and not is_positive_int(walk):
        messages.append(Error(f"FASTADMIN['WALK_TIMEOUT_MS'] must be None or a positive integer, not {walk!r}.",
                              hint="None lets a filtered page walk its sort index until the statement timeout.",
                              id="fastadmin.E003"))
    for key in ("PAGINATOR", "COUNTER", "READ_POLICY"):
        try:
            import_string(user.get(key, DEFAULTS[key]))
        except ImportError as exc:
            messages.append(Error(f"FASTADMIN[{key!r}] cannot be imported: {exc}", id="fastadmin.E004"))
    alias = user.get("READ_DATABASE")
    if alias is not None and alias not in settings.DATABASES:
        messages.append(Error(f"FASTADMIN['READ_DATABASE'] names {alias!r}, which is not in DATABASES.",
                              hint=f"Use one of: {', '.join(settings.DATABASES)}.", id="fastadmin.E005"))
    max_lag = user.get("REPLICA_MAX_LAG_S", DEFAULTS["REPLICA_MAX_LAG_S"])
    if not isinstance(max_lag, (int, float)) or isinstance(max_lag, bool) or max_lag < 0:
        messages.append(Error(f"FASTADMIN['REPLICA_MAX_LAG_S'] must be a number of seconds >= 0, not {max_lag!r}.",
                              hint="FASTADMIN = {'REPLICA_MAX_LAG_S': 30}", id="fastadmin.E007"))
    if not isinstance(user.get("COMPILED_RESULT_LIST", True), bool):
        messages.append(Error("FASTADMIN['COMPILED_RESULT_LIST'] must be True or False.",
                              hint="False renders the changelist rows with stock's result_list.",
                              id="fastadmin.E008"))
    # By app name, not the literal string: AdminConfig subclasses (SimpleAdminConfig, a project's
    # own) install the admin under other dotted paths.
    if apps.is_installed("fastadmin") and not apps.is_installed("django.contrib.admin"):
        messages.append(Error("fastadmin needs 'django.contrib.admin' in INSTALLED_APPS (it extends it).",
                              id="fastadmin.E006"))
    return messages


@register(Tags.compatibility)
def check_request_budget(app_configs=None, **kwargs):
    """``REQUEST_BUDGET_MS``: None, or a positive integer not below the statement timeout."""
    user = getattr(settings, "FASTADMIN", {})
    if not isinstance(user, dict):
        return []  # fastadmin.E001
    budget = user.get("REQUEST_BUDGET_MS", DEFAULTS["REQUEST_BUDGET_MS"])
    if budget is None:
        return []
    if not is_positive_int(budget):
        return [Error(f"FASTADMIN['REQUEST_BUDGET_MS'] must be None or a positive integer, not {budget!r}.",
                      hint="Milliseconds, e.g. 6000 (a little above STATEMENT_TIMEOUT_MS).", id="fastadmin.E010")]
    timeout = user.get("STATEMENT_TIMEOUT_MS", DEFAULTS["STATEMENT_TIMEOUT_MS"])
    if isinstance(timeout, int) and budget < timeout:
        return [Warning(f"FASTADMIN['REQUEST_BUDGET_MS'] ({budget}) is below STATEMENT_TIMEOUT_MS ({timeout}).",
                        hint="The budget then cuts single statements short; set it a little above the timeout.",
                        id="fastadmin.W010")]
    return []


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


# --------------------------------------------------------------------------- locking and object cache
STALE_SELECTION_CHOICES = ("refuse", "skip")


@register(Tags.compatibility)
def check_locking(app_configs=None, **kwargs):
    """Settings of fastadmin.locking / fastadmin.cache and VersionField use (admins: ModelAdminChecks)."""
    from .conf import fa_settings
    from .fields import VersionField

    messages = []
    user = getattr(settings, "FASTADMIN", {})
    if not isinstance(user, dict):
        return messages  # fastadmin.E001
    if not isinstance(fa_settings.LOCKING, bool) and fa_settings.LOCKING != "strict":
        messages.append(
            Error(
                f"FASTADMIN['LOCKING'] must be True, False or 'strict', not {fa_settings.LOCKING!r}.",
                hint="'strict' refuses change form, list_editable and action POSTs without a token.",
                id="fastadmin.E201",
            )
        )
    max_age = fa_settings.TOKEN_MAX_AGE_S
    if not is_positive_int(max_age):
        messages.append(Error(f"FASTADMIN['TOKEN_MAX_AGE_S'] must be a positive integer, not {max_age!r}.",
                              id="fastadmin.E207"))
    try:
        from .locking import BaseLocking

        locking_class = import_string(fa_settings.LOCKING_CLASS)
        if not (isinstance(locking_class, type) and issubclass(locking_class, BaseLocking)):
            raise ImportError(f"{fa_settings.LOCKING_CLASS} is not a fastadmin.BaseLocking subclass")
    except ImportError as exc:
        messages.append(Error(f"FASTADMIN['LOCKING_CLASS'] cannot be used: {exc}", id="fastadmin.E208"))
    if fa_settings.STALE_SELECTION not in STALE_SELECTION_CHOICES:
        messages.append(
            Error(
                f"FASTADMIN['STALE_SELECTION'] must be one of {STALE_SELECTION_CHOICES}, "
                f"not {fa_settings.STALE_SELECTION!r}.",
                hint="'refuse': run nothing if a selected row changed; 'skip': leave such rows out.",
                id="fastadmin.E202",
            )
        )
    alias = fa_settings.OBJECT_CACHE_ALIAS
    if alias not in settings.CACHES:
        messages.append(
            Error(
                f"FASTADMIN['OBJECT_CACHE_ALIAS'] names {alias!r}, which is not in CACHES.",
                hint=f"Use one of: {', '.join(settings.CACHES)}.",
                id="fastadmin.E203",
            )
        )
    timeout = fa_settings.OBJECT_CACHE_TIMEOUT
    if not is_positive_int(timeout):
        messages.append(
            Error(
                f"FASTADMIN['OBJECT_CACHE_TIMEOUT'] must be a positive integer, not {timeout!r}.",
                hint="Seconds; a finite lifetime bounds a missed invalidation.",
                id="fastadmin.E204",
            )
        )
    labels = fa_settings.OBJECT_CACHE_MODELS
    if not isinstance(labels, list | tuple):
        messages.append(
            Error(
                "FASTADMIN['OBJECT_CACHE_MODELS'] must be a list of model labels.",
                hint="['shop.Customer']",
                id="fastadmin.E205",
            )
        )
        labels = []
    known = {m._meta.label for m in apps.get_models()}
    for label in labels:
        if label not in known:
            messages.append(
                Warning(
                    f"FASTADMIN['OBJECT_CACHE_MODELS'] names {label!r}, which is not an installed model.",
                    hint="Use 'app_label.ModelName'.",
                    id="fastadmin.W201",
                )
            )
    for model in apps.get_models():
        versions = [f.name for f in model._meta.concrete_fields if isinstance(f, VersionField)]
        if len(versions) > 1:
            messages.append(
                Error(
                    f"{model._meta.label} has {len(versions)} VersionFields: {', '.join(versions)}.",
                    hint="A model needs exactly one row version.",
                    id="fastadmin.E206",
                )
            )
    return messages


# --------------------------------------------------------------------------- per ModelAdmin
class ModelAdminChecks(StockModelAdminChecks):
    """``ModelAdmin.checks_class`` of fastadmin admins: stock's checks plus fastadmin's, run by the
    admin's own ``check()`` for every site it is registered on (no walk over site registries)."""

    def check(self, admin_obj, **kwargs) -> list[CheckMessage]:
        return [*super().check(admin_obj, **kwargs), *self._check_object_cache(admin_obj)]

    def _check_object_cache(self, admin_obj) -> list[CheckMessage]:
        from .conf import fa_settings

        wants = getattr(admin_obj, "object_cache", None)
        if wants is None:
            labels = fa_settings.OBJECT_CACHE_MODELS
            wants = isinstance(labels, list | tuple) and admin_obj.model._meta.label in labels
        if not wants or not hasattr(admin_obj, "uses_object_cache"):
            return []
        label = admin_obj.model._meta.label
        if not admin_obj.uses_object_cache():
            return [
                Warning(
                    f"{type(admin_obj).__qualname__} overrides get_queryset(), so its change view "
                    f"does not read {label} through the object cache (the cache would bypass that filter).",
                    hint="Remove the model from OBJECT_CACHE_MODELS or set object_cache = False.",
                    obj=admin_obj.__class__,
                    id="fastadmin.W202",
                )
            ]
        alias = fa_settings.OBJECT_CACHE_ALIAS
        backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
        if backend.endswith(("LocMemCache", "DummyCache")):
            return [
                Warning(
                    f"The object cache ({alias!r}) is {backend.rsplit('.', 1)[-1]}: each process has its own "
                    f"copy, so a save in one process does not invalidate {label} in the others.",
                    hint="Use Redis (django-redis or django.core.cache.backends.redis.RedisCache) in production.",
                    obj=admin_obj.__class__,
                    id="fastadmin.W203",
                )
            ]
        return []
