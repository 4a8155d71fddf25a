"""fastadmin's ModelAdmin: stock ``ModelAdmin`` that hands each scale-sensitive job to a strategy.

================  ==============================  =========================================
job               strategy attribute              default (``settings.FASTADMIN``)
================  ==============================  =========================================
page the rows     ``paginator_class``             ``PAGINATOR``: keyset over (ordering…, pk)
say how many      ``counter_class``               ``COUNTER``: planner estimates
filter choices    :mod:`fastadmin.filters`        bounded related / common-value filters (ChangeList)
find rows         ``search_backend``              ``SEARCH_BACKEND``: PostgreSQL trigram
save safely       ``locking_class``               ``LOCKING_CLASS``: row lock + value merge
================  ==============================  =========================================

Everything else is stock Django admin, hooked only through documented extension points
(``get_changelist``, ``get_paginator``, ``get_search_results``, ``save_model``,
``changelist_view``, template blocks).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .budget import BudgetExhausted, request_budget
from .cache_admin import ObjectCacheMixin
from .changelist import ChangeList, showing_list
from .checks import ModelAdminChecks
from .conf import fa_settings
from .counting import EstimatedCounter, sizes_read_once
from .exceptions import BadParameter
from .filter_other import typed_names_response
from .guards import current_stage, is_query_canceled, read_alias, stage_scope, statement_timeout
from .locking import OptimisticLockingMixin
from .pagination import CountlessPaginator
from .problem import problem_page
from .rendering.formsets import with_one_label_suffix, with_shared_choices
from .rendering.widgets import ActionForm, input_renderer
from .replica import ReplicaPolicy, current_route
from .search_index.admin import SearchAdminMixin


class FastAdminMixin:
    """The fastadmin behaviour, separable so inlines and third-party ModelAdmins can mix it in."""

    #: Paginator strategy class; None means ``FASTADMIN["PAGINATOR"]``.
    paginator_class: type | None = None
    #: Counter strategy class; None means ``FASTADMIN["COUNTER"]``.
    counter_class: type | None = None
    #: A django-filter ``FilterSet`` shown as the filter sidebar (ranges, date ranges, ...).
    filterset_class: type | None = None

    change_list_template = "fastadmin/change_list.html"
    #: Stock's action form, its widgets written without templates (the same HTML).
    action_form = ActionForm
    #: Stock's system checks plus fastadmin's per-admin ones (``manage.py check``).
    checks_class = ModelAdminChecks

    # ------------------------------------------------------------------ strategies
    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type:
        return ChangeList

    def get_keyset_paginator(self, request: HttpRequest, queryset, per_page: int):
        """The changelist's paginator: ``paginator_class`` or ``FASTADMIN["PAGINATOR"]``."""
        cls = self.paginator_class or import_string(fa_settings.PAGINATOR)
        return cls(queryset, per_page)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """Django-API paginators for numbered lists: the admin's own ``paginator`` class when it sets
        one (the changelist then pages by number too); otherwise countless for this admin's own rows
        (the autocomplete endpoint), stock for others (the history view pages ``LogEntry`` rows)."""
        if queryset.model is self.model and self.paginator is Paginator:
            return CountlessPaginator(queryset, per_page, orphans, allow_empty_first_page)
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def get_counter(self, request: HttpRequest) -> EstimatedCounter:
        cls = self.counter_class or import_string(fa_settings.COUNTER)
        return cls()

    def get_formsets_with_inlines(self, request: HttpRequest, obj: Any = None):
        """Stock's inline formsets (any inline class), each foreign key's choices read once for all the
        inline's rows instead of once per row (:class:`~fastadmin.rendering.formsets.SharedChoices`)."""
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            yield with_shared_choices(formset, self.admin_site), inline

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any):
        """Stock's list_editable formset, rendered through :class:`~fastadmin.rendering.widgets.InputRenderer`
        (input widgets formatted without a template render each; the same HTML), its forms given the
        label suffix translated once and each foreign key's choices read once for all rows
        (:mod:`fastadmin.rendering.formsets`)."""
        if not fa_settings.COMPILED_RESULT_LIST:
            return with_shared_choices(super().get_changelist_formset(request, **kwargs), self.admin_site)
        kwargs["renderer"] = input_renderer(kwargs.get("renderer"))
        formset = with_one_label_suffix(super().get_changelist_formset(request, **kwargs))
        return with_shared_choices(formset, self.admin_site)

    def action_checkbox(self, obj):
        """The stock checkbox, formatted directly: stock renders a widget template per row, which
        costs more than the rest of the row together."""
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )

    # ------------------------------------------------------------------ views
    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Stock view, run under the read database's statement timeout and rendered inside it, so a
        query that runs too long or a bad page parameter becomes a readable page, not a 500."""
        with stage_scope():  # the too-slow page reads the stage a failed statement left
            try:
                if request.method in ("GET", "HEAD"):
                    if (named := typed_names_response(self, request)) is not None:
                        return named  # a name typed in a relation filter's "Other" box, as its key
                    return self._read_changelist(request, extra_context)
                with self._writing(request):
                    return super().changelist_view(request, extra_context)
            except BadParameter as exc:
                return problem_page(self, request, 400, "fastadmin/bad_request.html", _("cannot be shown"),
                                    message=exc.message, param=exc.param)
            except Exception as exc:
                if not (isinstance(exc, BudgetExhausted) or is_query_canceled(exc)):
                    raise
                return problem_page(
                    self,
                    request,
                    503,
                    "fastadmin/too_slow.html",
                    _("took too long"),
                    stage=exc.stage if isinstance(exc, BudgetExhausted) else current_stage.get(),
                    timeout_s=(fa_settings.REQUEST_BUDGET_MS if isinstance(exc, BudgetExhausted)
                               else fa_settings.STATEMENT_TIMEOUT_MS) / 1000,
                )

    def _read_changelist(self, request: HttpRequest, extra_context: dict | None) -> HttpResponse:
        """A GET of the list: routed to the read database, run and rendered inside its statement timeout
        and the request budget (a lazy render outside them would escape both)."""
        route = self.get_read_policy(request).route(request, self.model)
        extra_context = {**(extra_context or {}), "fastadmin_read_notice": route.notice}
        token, showing = current_route.set(route), showing_list.set(True)
        try:
            alias, timeout = read_alias(self.model), fa_settings.STATEMENT_TIMEOUT_MS
            budget = request_budget(fa_settings.REQUEST_BUDGET_MS, timeout, alias)
            with statement_timeout(timeout, alias, serial=True), budget, sizes_read_once():
                response = super().changelist_view(request, extra_context)
                if hasattr(response, "render"):
                    response.render()
        finally:
            current_route.reset(token)
            showing_list.reset(showing)
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None) -> HttpResponse:
        with self._writing(request):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        with self._writing(request):
            return super().delete_view(request, object_id, extra_context)

    def get_read_policy(self, request: HttpRequest) -> ReplicaPolicy:
        """The strategy choosing the database of this request's changelist (``FASTADMIN["READ_POLICY"]``)."""
        return import_string(fa_settings.READ_POLICY)()

    @contextlib.contextmanager
    def _writing(self, request: HttpRequest) -> Iterator[None]:
        """A POST may write (save, delete, action, list_editable): once it has, the read policy keeps
        this user's lists on the primary until the replica has replayed it."""
        yield
        if request.method == "POST":
            self.get_read_policy(request).wrote(request, self.model)


class ModelAdmin(OptimisticLockingMixin, ObjectCacheMixin, FastAdminMixin, SearchAdminMixin, admin.ModelAdmin):
    """Drop-in for ``django.contrib.admin.ModelAdmin``: every stock option works as documented."""


class TabularInline(admin.TabularInline):
    """Stock ``TabularInline``; exported so a project changes only its imports."""


class StackedInline(admin.StackedInline):
    """Stock ``StackedInline``; exported so a project changes only its imports."""
