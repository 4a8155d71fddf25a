"""``OptimisticLockingMixin``: wires the locking strategy into documented ModelAdmin hooks, nothing more.

=========================  ===================================================================
hook                       hands over to the request's locking object (``get_locking``)
=========================  ===================================================================
``render_change_form``     the change form's hidden ``_fa_token`` (object and inline values shown)
``save_model``             lock, merge, ``obj.save(update_fields=...)`` (``save_object``)
``save_related``           inline rows merged first (409 on conflict), many-to-many merged
``save_formset``           inline rows saved with ``update_fields``
``render_delete_form``     the delete confirmation's token; ``delete_model`` refuses a changed row
``changelist_view``        list_editable: the hooks above per row, one locked read (``listedit``)
``get_actions``            actions see only rows unchanged since the page was shown (``actions``)
``changeform/delete_view`` a bad token becomes the 400 page, a conflict the 409 page (``pages``)
=========================  ===================================================================

Stock checks permissions and existence before any of these hooks runs, so a token is read only
for a user allowed to act on an existing object. Per-request state lives in the locking object,
held in ``_lockings`` (a WeakKeyDictionary keyed by the request, and by the ChangeList it built).
"""

from __future__ import annotations

import weakref
from typing import Any

from django.contrib import messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.module_loading import import_string

from ..conf import fa_settings
from ..exceptions import BadParameter
from . import actions, pages
from .forms import PageFormSetMixin, token_form
from .strategy import BaseLocking
from .tokens import PAGE_TOKEN, TOKEN
from .values import EditConflict


class OptimisticLockingMixin:
    """No lost updates for a ModelAdmin: see the module docstring for the hooks it uses."""

    #: Locking on/off for this admin; None means ``FASTADMIN["LOCKING"]``.
    optimistic_locking: bool | None = None
    #: Strategy class (a :class:`~fastadmin.locking.BaseLocking`); None means ``FASTADMIN["LOCKING_CLASS"]``.
    locking_class: type[BaseLocking] | None = None
    conflict_template = "fastadmin/conflict.html"
    delete_confirmation_template = "fastadmin/delete_confirmation.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form = token_form(self.form)
        self._lockings: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def locking_enabled(self, request: HttpRequest | None = None) -> bool:
        return bool(fa_settings.LOCKING if self.optimistic_locking is None else self.optimistic_locking)

    def get_locking(self, request: HttpRequest) -> BaseLocking:
        """The request's locking object (made once per request)."""
        locking = self._lockings.get(request)
        if locking is None:
            cls = self.locking_class or import_string(fa_settings.LOCKING_CLASS)
            locking = self._lockings[request] = cls(self, request)
        return locking

    # ------------------------------------------------------------------ change form
    def get_fields(self, request: HttpRequest, obj: models.Model | None = None):
        return [f for f in super().get_fields(request, obj) if f != TOKEN]

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None):
        fieldsets = [(name, {**opts, "fields": [f for f in opts["fields"] if f != TOKEN]})
                     for name, opts in super().get_fieldsets(request, obj)]
        if obj is None or not fieldsets or not self.locking_enabled(request):
            return fieldsets
        if not self.has_change_permission(request, obj):
            return fieldsets
        name, opts = fieldsets[-1]
        return [*fieldsets[:-1], (name, {**opts, "fields": [*opts["fields"], TOKEN]})]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        if change and obj is not None and TOKEN in form.fields and not form.is_bound:
            inlines = [inline.formset for inline in context.get("inline_admin_formsets", [])]
            form.initial[TOKEN] = self.get_locking(request).form_token(obj, form, inlines)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None) -> HttpResponse:
        if request.method != "POST" or not object_id or not self.locking_enabled(request):
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BadParameter as exc:
            return pages.problem_response(self, request, 400, exc)
        except EditConflict as conflict:
            return pages.conflict_response(self, request, conflict, self.get_locking(request).conflict_token())

    def save_model(self, request: HttpRequest, obj: models.Model, form, change: bool) -> None:
        if not (change and self.locking_enabled(request) and self.get_locking(request).save_object(obj, form)):
            super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        if change and self.locking_enabled(request) and formsets is not None and "_saveasnew" not in request.POST:
            for message in self.get_locking(request).before_related(form, formsets):
                self.message_user(request, message, messages.INFO)
        super().save_related(request, form, formsets, change)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if not (change and self.locking_enabled(request) and self.get_locking(request).save_formset(formset)):
            super().save_formset(request, form, formset, change)

    # ------------------------------------------------------------------ delete
    def render_delete_form(self, request: HttpRequest, context: dict) -> HttpResponse:
        if self.locking_enabled(request) and context.get("object") is not None:
            context = {**context, "fastadmin_token": self.get_locking(request).delete_token(context["object"]),
                       "fastadmin_token_name": TOKEN}
        return super().render_delete_form(request, context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except BadParameter as exc:
            return pages.problem_response(self, request, 400, exc)
        except EditConflict as conflict:
            token = self.get_locking(request).conflict_token()
            return pages.conflict_response(self, request, conflict, token, deleting=True)

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        if self.locking_enabled(request) and request.method == "POST":
            self.get_locking(request).check_delete(obj)
        super().delete_model(request, obj)

    # ------------------------------------------------------------------ changelist
    def get_changelist_instance(self, request: HttpRequest):
        cl = super().get_changelist_instance(request)
        self._lockings[cl] = self.get_locking(request)
        return cl

    def page_token_input(self, cl) -> str:
        """``<input type="hidden" name="_fa_page_token">`` for the rows ``cl`` shows (or ``""``)."""
        locking = self._lockings.get(cl)
        if locking is None or not self.locking_enabled(locking.request):
            return ""
        return format_html('<input type="hidden" name="{}" value="{}">', PAGE_TOKEN, locking.page_token(cl))

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any):
        formset = super().get_changelist_formset(request, **kwargs)
        return type(formset.__name__, (PageFormSetMixin, formset), {})

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if (request.method == "POST" and "_save" in request.POST and self.list_editable
                and IS_POPUP_VAR not in request.GET and self.locking_enabled(request)):
            try:
                response = self.get_locking(request).save_list()
            except BadParameter as exc:
                return pages.problem_response(self, request, 400, exc)
            if response is not None:
                return response
        return super().changelist_view(request, extra_context)

    def get_actions(self, request: HttpRequest, action_location=None):
        # Django 6.1 passes where the actions show (``action_location``) and returns ``Action``
        # objects; 5.2 returns ``(func, name, description)`` tuples. Both are wrapped alike.
        if action_location is None:
            found = super().get_actions(request)
        else:
            found = super().get_actions(request, action_location)
        if not self.locking_enabled(request):
            return found
        wrap = lambda func: actions.guard(func, self.get_locking)  # noqa: E731
        return {name: actions.replace_func(action, wrap) for name, action in found.items()}
