"""fastadmin's AdminSite: stock AdminSite whose default ModelAdmin and bulk delete are fastadmin's."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin

from . import actions
from .autocomplete import AutocompleteJsonView
from .input_checks import checked_changelist
from .options import ModelAdmin


class FastAdminSite(admin.AdminSite):
    """The site a project mounts instead of ``admin.site``.

    * ``register(Model)`` without an admin class uses :class:`fastadmin.ModelAdmin`; a stock
      ``admin.ModelAdmin`` registered here keeps its stock behaviour.
    * Models that other apps registered on ``django.contrib.admin.site`` (``auth.User``, third-party
      apps) are served here too, with their own ModelAdmin classes, so a project can swap the site it
      mounts without touching every app's ``admin.py``. Set ``adopt_default_site = False`` to opt out.
    * ``autocomplete_view`` is :class:`fastadmin.autocomplete.AutocompleteJsonView` (stock's view,
      refusing reverse relations with 403 instead of failing on them).
    * Every changelist it serves refuses action POSTs whose selected keys are not valid primary keys
      (a message and the redirect back, as for an empty selection; stock raises ``ValueError``), and
      stock ModelAdmins' changelists get fastadmin's lookup checks (:mod:`fastadmin.input_checks`).
    * The site-wide ``delete_selected`` is :func:`fastadmin.actions.delete_selected`, which works for
      every admin served here, fastadmin or adopted stock.

    Only public ``AdminSite`` API is used (``add_action``, ``is_registered``, ``get_model_admin``).
    """

    adopt_default_site = True

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self.add_action(actions.delete_selected, "delete_selected")

    def register(self, model_or_iterable, admin_class=None, **options):
        return super().register(model_or_iterable, admin_class or ModelAdmin, **options)

    def adopt(self, other: admin.AdminSite) -> None:
        """Serve every model registered on ``other`` and not here, with the same ModelAdmin class."""
        for model in apps.get_models():
            if other is not self and other.is_registered(model) and not self.is_registered(model):
                self.register(model, type(other.get_model_admin(model)))

    def adopt_default(self) -> None:
        """Adopt ``admin.site``'s models if ``adopt_default_site`` (idempotent, cheap)."""
        if self.adopt_default_site:
            self.adopt(admin.site)

    def admin_view(self, view, cacheable=False):
        return super().admin_view(checked_changelist(view), cacheable)

    def autocomplete_view(self, request):
        return AutocompleteJsonView.as_view(admin_site=self)(request)

    def get_urls(self):
        # URLs are built once all admin modules were imported (autodiscover), so every model that
        # will ever be registered on the default site is known here.
        self.adopt_default()
        return super().get_urls()

    def get_app_list(self, request, app_label=None):
        # Before stock builds the list: building it reverses URLs, which may load the URLconf and call
        # get_urls(), and adopting then would register models while stock iterates the registry.
        self.adopt_default()
        return super().get_app_list(request, app_label)


site = FastAdminSite()
