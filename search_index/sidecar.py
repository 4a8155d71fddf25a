"""The Meilisearch sidecar's configuration: settings, the client, index names, backend short names.

``FASTADMIN["MEILISEARCH"]`` is read on every call (``override_settings`` works); system checks
``fastadmin.E301``-``E309`` and ``W301``-``W302`` validate it (:mod:`fastadmin.search_index.meili_checks`).
The API key is only ever handed to the ``meilisearch`` client: never logged, never rendered.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

from fastadmin.conf import fa_settings

if TYPE_CHECKING:
    import meilisearch

    from .backends import SearchBackend

#: Every key of ``FASTADMIN["MEILISEARCH"]`` and its default ("URL" has none: it is required).
MEILISEARCH_DEFAULTS: dict[str, Any] = {
    "URL": None,
    "API_KEY": None,
    "INDEX_PREFIX": "",
    "SWEEP_INTERVAL_S": 60,
    "TIMEOUT_S": 5,
    # The index's ``pagination.maxTotalHits``: hits past it cannot be paged to (Meilisearch's default is
    # 1000; a higher value costs Meilisearch more per deep page).
    "MAX_TOTAL_HITS": 10_000,
}

#: ``search_backend`` short names (a dotted path or a class works too).
BACKEND_NAMES: dict[str, str] = {
    "meilisearch": "fastadmin.search_index.meili.MeilisearchBackend",
    "trigram": "fastadmin.search_index.backends.TrigramSearchBackend",
    "django": "fastadmin.search_index.backends.DjangoSearchBackend",
}

#: Meilisearch index uids: letters, digits, hyphens and underscores.
INDEX_UID_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def resolve_backend(value: type[SearchBackend] | str) -> type[SearchBackend]:
    """A backend class from a class, a short name of :data:`BACKEND_NAMES` or a dotted path."""
    if isinstance(value, str):
        return import_string(BACKEND_NAMES.get(value, value))
    return value


def config() -> dict[str, Any] | None:
    """``FASTADMIN["MEILISEARCH"]`` over :data:`MEILISEARCH_DEFAULTS`; None when the sidecar is off."""
    user = fa_settings.MEILISEARCH
    if not user:
        return None
    return {**MEILISEARCH_DEFAULTS, **user}


def enabled() -> bool:
    return config() is not None


def index_uid(model: Any) -> str:
    """``<INDEX_PREFIX><app_label>_<model_name>``: stable across deploys, one index per model."""
    conf = config() or MEILISEARCH_DEFAULTS
    return f"{conf['INDEX_PREFIX']}{model._meta.app_label}_{model._meta.model_name}"


def client(timeout_s: float | None = None) -> meilisearch.Client:
    """A client for the configured server; requests time out after ``TIMEOUT_S`` seconds."""
    import meilisearch

    conf = config()
    if conf is None:
        raise RuntimeError("FASTADMIN['MEILISEARCH'] is not configured.")
    return meilisearch.Client(conf["URL"], conf["API_KEY"], timeout=timeout_s or conf["TIMEOUT_S"])


def max_total_hits() -> int:
    return int((config() or MEILISEARCH_DEFAULTS)["MAX_TOTAL_HITS"])


def timeout_ms() -> int:
    conf = config() or MEILISEARCH_DEFAULTS
    return int(conf["TIMEOUT_S"] * 1000)


def safe_error(exc: BaseException) -> str:
    """An exception's text with the API key blanked (the client may echo headers or URLs)."""
    text = f"{type(exc).__name__}: {exc}"
    key = (config() or {}).get("API_KEY")
    return text.replace(key, "***") if key else text
