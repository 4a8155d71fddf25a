from __future__ import annotations

import importlib.util
from pathlib import Path

from django.apps import AppConfig


def _app_root() -> str:
    """The folder whose ``templates/`` is fastadmin's: the repository's top-level ``templates/`` in a
    checkout (editable install), ``site-packages/fastadmin/templates`` in a wheel."""
    spec = importlib.util.find_spec("fastadmin.templates")
    if spec is not None and spec.submodule_search_locations:
        return str(Path(next(iter(spec.submodule_search_locations))).parent)
    return str(Path(__file__).resolve().parent)


class FastAdminConfig(AppConfig):
    name = "fastadmin"
    verbose_name = "fastadmin"
    default_auto_field = "django.db.models.BigAutoField"
    path = _app_root()

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .search_index import checks as search_checks  # noqa: F401 - and search's
