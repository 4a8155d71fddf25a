"""The admin app config the harness installs in place of Django's ``SimpleAdminConfig``.

Django's ``tests/runtests.py`` installs ``django.contrib.admin.apps.SimpleAdminConfig`` and its test
apps write ``admin.ModelAdmin``, ``admin.AdminSite``, ``admin.site`` and the inlines in their
``admin.py`` files and test modules. To measure fastadmin as a drop-in we want every one of those
to be fastadmin's, without editing Django's test sources.

* ``admin.site`` is the documented hook: ``AdminConfig.default_site`` names the default site class.
* The classes are rebound on the ``django.contrib.admin`` module in ``ready()``. This is a
  monkeypatch, and it lives ONLY in this test harness: a real project changes its imports to
  ``fastadmin`` instead. ``ready()`` runs after every app's models are imported and before the test
  runner imports the test modules (and through them each app's ``admin.py``), which is what makes
  the swap reach every test admin; ``runner.FastAdminTestRunner`` verifies it did.
"""

from __future__ import annotations

from django.contrib.admin.apps import SimpleAdminConfig

#: The names rebound on ``django.contrib.admin``: stock name -> fastadmin attribute.
SWAPPED = {
    "ModelAdmin": "ModelAdmin",
    "AdminSite": "FastAdminSite",
    "StackedInline": "StackedInline",
    "TabularInline": "TabularInline",
}


class FastAdminSwapConfig(SimpleAdminConfig):
    """``SimpleAdminConfig`` (no autodiscovery, like runtests' own) whose classes are fastadmin's."""

    default_site = "fastadmin.sites.FastAdminSite"

    def ready(self) -> None:
        super().ready()
        from django.contrib import admin

        import fastadmin

        for stock_name, fastadmin_name in SWAPPED.items():
            setattr(admin, stock_name, getattr(fastadmin, fastadmin_name))
