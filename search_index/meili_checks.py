"""System checks of the Meilisearch sidecar (ids fastadmin.E301+ / W301+)."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any
from urllib.parse import urlsplit

from django.core.checks import Error, Tags, Warning, register

from fastadmin.conf import fa_settings

from .sidecar import INDEX_UID_RE, MEILISEARCH_DEFAULTS

EXAMPLE = "FASTADMIN['MEILISEARCH'] = {'URL': 'http://127.0.0.1:7700', 'API_KEY': env('MEILI_KEY')}"


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def check_config(user: Any) -> list[Error | Warning]:
    """Every key of ``FASTADMIN["MEILISEARCH"]`` (None: sidecar off, nothing to check)."""
    if user is None:
        return []
    if not isinstance(user, dict):
        return [Error(f"FASTADMIN['MEILISEARCH'] must be a dict or None, not {type(user).__name__}.",
                      hint=EXAMPLE, id="fastadmin.E301")]
    messages: list[Error | Warning] = []
    for key in sorted(set(user) - set(MEILISEARCH_DEFAULTS)):
        messages.append(Error(f"Unknown FASTADMIN['MEILISEARCH'] key {key!r}.",
                              hint=f"Known keys: {', '.join(MEILISEARCH_DEFAULTS)}.", id="fastadmin.E302"))
    url = user.get("URL")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        messages.append(Error(f"FASTADMIN['MEILISEARCH']['URL'] must be an http(s) URL, not {url!r}.",
                              hint=EXAMPLE, id="fastadmin.E303"))
    key = user.get("API_KEY")
    if key is not None and (not isinstance(key, str) or not key):
        # The value itself is never echoed: it is a secret.
        messages.append(Error("FASTADMIN['MEILISEARCH']['API_KEY'] must be a non-empty string or None.",
                              id="fastadmin.E304"))
    prefix = user.get("INDEX_PREFIX", "")
    if not isinstance(prefix, str) or not INDEX_UID_RE.match(prefix):
        messages.append(Error(f"FASTADMIN['MEILISEARCH']['INDEX_PREFIX'] must hold only letters, digits, '-' "
                              f"and '_' (Meilisearch index uids), not {prefix!r}.", id="fastadmin.E305"))
    for name in ("SWEEP_INTERVAL_S", "TIMEOUT_S"):
        value = user.get(name, MEILISEARCH_DEFAULTS[name])
        if not _positive_number(value):
            messages.append(Error(f"FASTADMIN['MEILISEARCH'][{name!r}] must be a positive number of seconds, "
                                  f"not {value!r}.", id="fastadmin.E306"))
    hits = user.get("MAX_TOTAL_HITS", MEILISEARCH_DEFAULTS["MAX_TOTAL_HITS"])
    if not isinstance(hits, int) or isinstance(hits, bool) or hits < 1:
        messages.append(Error(f"FASTADMIN['MEILISEARCH']['MAX_TOTAL_HITS'] must be a positive integer (the index's "
                              f"pagination.maxTotalHits), not {hits!r}.", id="fastadmin.E309"))
    if parts is not None and parts.scheme == "http" and key is None and parts.hostname not in ("127.0.0.1",
                                                                                               "localhost", "::1"):
        messages.append(Warning("FASTADMIN['MEILISEARCH'] talks to a remote server over plain http without "
                                "an API key: anyone on the network can read and change the index.",
                                hint="Set API_KEY (and use https).", id="fastadmin.W301"))
    return messages


@register(Tags.admin)
def check_meilisearch(app_configs=None, **kwargs):
    from .documents import uses_meilisearch
    from .plan import fastadmin_model_admins

    user = fa_settings.MEILISEARCH
    messages = check_config(user)
    opted_in = [m for m in fastadmin_model_admins() if uses_meilisearch(m)]
    if opted_in and user is None:
        names = ", ".join(sorted({type(m).__name__ for m in opted_in}))
        messages.append(Error(f"{names} search through Meilisearch, but FASTADMIN['MEILISEARCH'] is not set.",
                              hint=EXAMPLE, id="fastadmin.E307"))
    if user is not None:
        from .signals import is_connected

        for model_admin in opted_in:
            if not is_connected(model_admin.model):
                messages.append(Warning(
                    f"{type(model_admin).__name__} searches through Meilisearch, but no outbox receivers are "
                    f"connected to {model_admin.model._meta.label}: it was registered after fastadmin's ready(), "
                    "so its changes never reach the index.",
                    hint="List 'django.contrib.admin' before 'fastadmin' in INSTALLED_APPS (admin modules are "
                         "then imported first), or call fastadmin.search_index.signals.connect() after registering.",
                    obj=model_admin, id="fastadmin.W302"))
    if opted_in or user is not None:
        for module, extra in (("meilisearch", "meilisearch"), ("celery", "meilisearch")):
            if find_spec(module) is None:
                messages.append(Error(f"The Meilisearch sidecar needs the {module!r} package.",
                                      hint=f'pip install "fastadmin[{extra}]"', id="fastadmin.E308"))
    return messages
