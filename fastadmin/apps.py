from __future__ import annotations

from django.apps import AppConfig


class FastAdminConfig(AppConfig):
    """The app's templates live in the repository's top-level ``templates/`` (the design card);
    ``fastadmin/templates`` links there in a checkout, and the wheel installs them in that place."""

    name = "fastadmin"
    verbose_name = "fastadmin"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .jobs import checks as job_checks  # noqa: F401 - and the background actions'
        from .search_index import checks as search_checks  # noqa: F401 - and search's
        from .search_index import meili_checks  # noqa: F401 - and the Meilisearch sidecar's
        from .search_index import signals as search_signals

        # Admin modules are imported by django.contrib.admin's ready() (listed before fastadmin):
        # the indexed models are known now, and receivers are connected to those models only.
        search_signals.connect()
