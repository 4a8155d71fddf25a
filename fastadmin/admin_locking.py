"""``OptimisticLockingMixin``: no lost updates in the change form, list_editable, actions and deletes.

Hooked only through documented ModelAdmin extension points:

=========================  ===================================================================
hook                       what it does
=========================  ===================================================================
``__init__``/``form``      the change form gets a hidden ``_fa_token`` field (base + version)
``get_fields/fieldsets``   the token rides in the last fieldset (any change_form template works)
``changeform_view``        400 for a bad token, 409 conflict page for an :class:`EditConflict`
``save_model``             the strategy merges and writes only the changed fields
``save_related``           many-to-many: my additions/removals applied to the current set
``delete_view``            a row changed since the confirmation page was shown is not deleted
``changelist_view``        list_editable: one locked read, one bulk UPDATE, per-row conflicts
``get_actions``            actions see only rows unchanged since the page was shown
=========================  ===================================================================

Inline formsets are *not* merged: inline rows are saved by the stock formset (last write wins per
inline row). See the README and ``tests/test_locking_admin.py::test_inline_rows_are_not_merged``.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import re
from collections.abc import Callable
from operator import or_
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import display_for_field, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, router, transaction
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import cache as object_cache
from .conf import fa_settings
from .exceptions import BadParameter
from .fields import version_field
from .locking import (
    MINE,
    THEIRS,
    EditConflict,
    EditToken,
    FieldConflict,
    PageToken,
    auto_now_fields,
    editable_fields,
    merge,
    read_current,
    row_hash,
    same,
    snapshot,
    strategy_for,
)

TOKEN = "_fa_token"
PAGE_TOKEN = "_fa_page_token"
RESOLVE = "_fa_resolve_"
RESOLVE_ALL = "_fa_resolve_all"
#: POST keys the conflict page does not re-post verbatim.
_NOT_REPOSTED = ("csrfmiddlewaretoken", TOKEN)


# --------------------------------------------------------------------------- the change form's token
class EditTokenField(forms.CharField):
    """Hidden carrier of the signed :class:`EditToken`; never "changed", never written to the model."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "")
        super().__init__(**kwargs)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return False


def token_fields(form: forms.BaseForm) -> dict[str, models.Field]:
    """Model fields (concrete and many-to-many) this form edits: the ones the token records."""
    model = form._meta.model
    out = editable_fields(model, form.fields)
    out.update({f.name: f for f in model._meta.many_to_many if f.name in form.fields})
    return out


def make_form_token(form: forms.BaseModelForm) -> str:
    """The token of an unbound change form: what its widgets show, taken from the instance."""
    instance = form.instance
    fields = token_fields(form)
    token = EditToken.for_object(instance, {n: f for n, f in fields.items() if not f.many_to_many})
    for name, f in fields.items():
        if f.many_to_many and name in form.initial:
            token.base[name] = sorted(getattr(o, "pk", o) for o in form.initial[name] or ())
    return token.sign(type(instance))


def token_form(form_class: type[forms.BaseModelForm]) -> type[forms.BaseModelForm]:
    """``form_class`` plus the hidden token field, filled in when a change form is rendered."""
    if TOKEN in getattr(form_class, "declared_fields", {}):
        return form_class

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        form_class.__init__(self, *args, **kwargs)
        if TOKEN in self.fields and not self.is_bound and not self.instance._state.adding:
            self.initial[TOKEN] = make_form_token(self)

    return type(
        form_class.__name__,
        (form_class,),
        {TOKEN: EditTokenField(), "__init__": __init__, "__module__": form_class.__module__},
    )


# --------------------------------------------------------------------------- the mixin
class OptimisticLockingMixin:
    """No lost updates for a ModelAdmin: see the module docstring for the hooks it uses."""

    #: Locking on/off for this admin; None means ``FASTADMIN["LOCKING"]``.
    optimistic_locking: bool | None = None
    conflict_template = "fastadmin/conflict.html"
    delete_confirmation_template = "fastadmin/delete_confirmation.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form = token_form(self.form)

    # ------------------------------------------------------------------ switches
    def locking_enabled(self, request: HttpRequest | None = None) -> bool:
        return fa_settings.LOCKING if self.optimistic_locking is None else bool(self.optimistic_locking)

    # ------------------------------------------------------------------ form plumbing
    def get_fields(self, request: HttpRequest, obj: models.Model | None = None):
        return [f for f in super().get_fields(request, obj) if f != TOKEN]

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None):
        fieldsets = [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != TOKEN]})
            for name, opts in super().get_fieldsets(request, obj)
        ]
        if obj is None or not self.locking_enabled(request) or not fieldsets:
            return fieldsets
        if not self.has_change_permission(request, obj):
            return fieldsets
        name, opts = fieldsets[-1]
        return [*fieldsets[:-1], (name, {**opts, "fields": [*opts["fields"], TOKEN]})]

    # ------------------------------------------------------------------ change form
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if (
            request.method == "POST"
            and object_id
            and self.locking_enabled(request)
            and "_saveasnew" not in request.POST
            and self.has_change_permission(request)
        ):
            try:
                token = EditToken.read(self.model, request.POST.get(TOKEN), self._pk(object_id))
                self.resolutions(request, token)
            except BadParameter as exc:
                return self.problem_response(request, 400, exc)
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except EditConflict as conflict:
                return self.conflict_response(request, conflict, token)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: forms.BaseModelForm, change: bool
    ) -> None:
        if not (change and self.locking_enabled(request) and TOKEN in form.fields and form.data.get(TOKEN)):
            return super().save_model(request, obj, form, change)
        token = EditToken.read(self.model, form.data.get(TOKEN), obj.pk)
        fields = {n: f for n, f in token_fields(form).items() if not f.many_to_many and n in token.base}
        try:
            outcome = strategy_for(self.model).save(obj, token, fields, self.resolutions(request, token))
        except EditConflict as conflict:
            conflict.labels = {n: str(form.fields[n].label or n) for n in form.fields}
            raise
        form._fa_written = list(outcome.written)
        if outcome.theirs_changed:
            labels = ", ".join(str(form.fields[n].label or n) for n in outcome.theirs_changed)
            self.message_user(
                request,
                _("Meanwhile someone else changed %(fields)s; their values were kept.") % {"fields": labels},
                messages.INFO,
            )
        return None  # cached copies are dropped by fastadmin.cache's post_save receiver, on commit

    def save_related(self, request: HttpRequest, form: forms.BaseModelForm, formsets, change: bool) -> None:
        """Many-to-many fields merge element-wise: my additions and removals (against the base) are
        applied to the current set, so another editor's concurrent additions survive; no conflicts."""
        written = getattr(form, "_fa_written", None)
        if written is None or not change:
            return super().save_related(request, form, formsets, change)
        token = EditToken.read(self.model, form.data.get(TOKEN), form.instance.pk)
        for name, f in token_fields(form).items():
            if not f.many_to_many or name not in token.base or name not in form.cleaned_data:
                continue
            mine = {o.pk for o in form.cleaned_data.pop(name)}
            base = set(token.base[name])
            manager = getattr(form.instance, name)
            if mine - base:
                manager.add(*(mine - base))
            if base - mine:
                manager.remove(*(base - mine))
            if mine != base:
                written.append(name)
        super().save_related(request, form, formsets, change)
        form.changed_data = written  # the admin log records what was written, not what differs

    def resolutions(self, request: HttpRequest, token: EditToken) -> dict[str, str]:
        """The choices posted from a conflict page: ``{field: "mine" | "theirs"}`` (400 if malformed)."""
        out: dict[str, str] = {}
        everything = request.POST.get(RESOLVE_ALL)
        for key, value in request.POST.items():
            if key.startswith(RESOLVE) and key != RESOLVE_ALL:
                out[key[len(RESOLVE) :]] = value
        if everything:  # "Keep all mine" / "Take all theirs" beat the per-field radios posted with them
            out = {**out, **dict.fromkeys(token.seen, everything)}
        for value in [*out.values(), *([everything] if everything else [])]:
            if value not in (MINE, THEIRS):
                raise BadParameter(
                    f"A conflict can be resolved with “{MINE}” or “{THEIRS}”, not {value!r}.",
                    param=RESOLVE + "…",
                )
        return out

    # ------------------------------------------------------------------ conflict page
    def conflict_response(
        self, request: HttpRequest, conflict: EditConflict, token: EditToken, *, deleting: bool = False
    ) -> HttpResponse:
        """HTTP 409: per conflicting field base / theirs / mine, who changed it and when, and a form
        that re-posts my data with a token for the current version and the values seen here."""
        obj = conflict.obj
        labels = getattr(conflict, "labels", {})
        fields = {f.name: f for f in self.model._meta.concrete_fields}
        changes = self.recent_changes(obj.pk, token.shown_at)
        rows = []
        for c in conflict.conflicts:
            f = fields[c.name]
            who, when = self.who_changed(changes, labels.get(c.name) or capfirst(f.verbose_name))
            rows.append(
                {
                    "name": c.name,
                    "label": labels.get(c.name) or capfirst(f.verbose_name),
                    "base": self._display(f, c.base),
                    "theirs": self._display(f, c.theirs),
                    "mine": self._display(f, c.mine),
                    "who": who,
                    "when": when,
                }
            )
        if deleting:  # "delete anyway" confirms the row as it is now
            new_token = EditToken(token.pk, conflict.version, dict(conflict.theirs))
        else:
            new_token = EditToken(
                token.pk, conflict.version, token.base, seen={c.name: c.theirs for c in conflict.conflicts}
            )
        repost = [
            (k, v)
            for k in request.POST
            for v in request.POST.getlist(k)
            if k not in _NOT_REPOSTED and not k.startswith(RESOLVE)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": _("Someone else changed this %(name)s") % {"name": self.model._meta.verbose_name},
            "conflicts": rows,
            "theirs_changed": [
                labels.get(n) or capfirst(fields[n].verbose_name) for n in conflict.theirs_changed
            ],
            "deleted": conflict.deleted,
            "deleting": deleting,
            "repost": repost,
            "token_name": TOKEN,
            "token": new_token.sign(self.model),
            "resolve_prefix": RESOLVE,
            "resolve_all": RESOLVE_ALL,
            "had_files": bool(request.FILES),
            "action_url": request.get_full_path(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.conflict_template, context, status=409).render()

    def recent_changes(self, pk: Any, since: float) -> list:
        """Admin log entries for the object since the form was shown (newest first)."""
        from django.contrib.admin.models import LogEntry
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_model(self.model, for_concrete_model=False)
        since_dt = datetime.datetime.fromtimestamp(since - 1, tz=datetime.UTC)
        return list(
            LogEntry.objects.filter(content_type_id=ct.id, object_id=str(pk), action_time__gte=since_dt)
            .select_related("user")
            .order_by("-action_time")[:50]
        )

    @staticmethod
    def who_changed(entries: list, label: str) -> tuple[str, Any]:
        for entry in entries:
            try:
                parts = json.loads(entry.change_message or "[]")
            except ValueError:
                parts = []
            for part in parts if isinstance(parts, list) else []:
                if label in (part.get("changed") or {}).get("fields", []):
                    return str(entry.user), entry.action_time
        return _("not recorded in the admin log (a script or another application?)"), None

    @staticmethod
    def _display(model_field: models.Field, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "—"
        return str(display_for_field(value, model_field, "—"))

    def problem_response(self, request: HttpRequest, status: int, exc: BadParameter) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": self.model._meta.verbose_name_plural,
            "changelist_url": request.path,
            "message": exc.message,
            "param": exc.param,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "fastadmin/bad_request.html", context, status=status).render()

    def _pk(self, object_id: str) -> Any:
        try:
            return self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            raise BadParameter(
                _("“%(id)s” is not a valid id.") % {"id": object_id}, param="object_id"
            ) from None

    # ------------------------------------------------------------------ delete
    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.locking_enabled(request):
            return super().delete_view(request, object_id, extra_context)
        if request.method != "POST":
            # From the database, not the object cache: the token must be the row as it is now.
            obj = super().get_object(request, unquote(object_id)) if request.method == "GET" else None
            if obj is not None:
                token = EditToken.for_object(obj, self._row_fields())
                extra_context = {
                    **(extra_context or {}),
                    "fastadmin_token": token.sign(self.model),
                    "fastadmin_token_name": TOKEN,
                }
            return super().delete_view(request, object_id, extra_context)
        try:
            pk = self._pk(object_id)
            token = EditToken.read(self.model, request.POST.get(TOKEN), pk)
        except BadParameter as exc:
            return self.problem_response(request, 400, exc)
        fields = self._row_fields()
        using = router.db_for_write(self.model)
        with transaction.atomic(using=using):
            current = read_current(self.model, pk, fields, using)
            if current is not None:
                theirs, version = current
                changed = [
                    n for n, f in fields.items() if n in token.base and not same(f, theirs[n], token.base[n])
                ]
                if changed or (token.version is not None and version != token.version):
                    obj = self.model._base_manager.using(using).get(pk=pk)
                    conflicts = [FieldConflict(n, token.base[n], theirs[n], token.base[n]) for n in changed]
                    conflict = EditConflict(obj, conflicts, theirs, version, [])
                    return self.conflict_response(request, conflict, token, deleting=True)
            return super().delete_view(request, object_id, extra_context)

    def _row_fields(self) -> dict[str, models.Field]:
        return editable_fields(self.model, [f.name for f in self.model._meta.concrete_fields])

    # ------------------------------------------------------------------ changelist
    def page_token_input(self, cl) -> str:
        """``<input type="hidden" name="_fa_page_token">`` for the rows ``cl`` shows (or ``""``)."""
        if not self.locking_enabled():
            return ""
        token = PageToken.for_rows(self.model, cl.result_list, cl.list_editable or ())
        return format_html('<input type="hidden" name="{}" value="{}">', PAGE_TOKEN, token.sign(self.model))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if (
            request.method == "POST"
            and "_save" in request.POST
            and self.list_editable
            and IS_POPUP_VAR not in request.GET
            and self.locking_enabled(request)
            and not getattr(request, "_fa_list_invalid", False)
        ):
            try:
                response = self.save_list_editable(request)
            except BadParameter as exc:
                return self.problem_response(request, 400, exc)
            if response is not None:
                return response
            request._fa_list_invalid = True  # stock re-validates and renders the errors; it saves nothing
        return super().changelist_view(request, extra_context)

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any):
        formset = super().get_changelist_formset(request, **kwargs)
        attrs: dict[str, Any] = {"get_queryset": _rows_get_queryset, "add_fields": _rows_add_fields}
        if getattr(request, "_fa_list_invalid", False):
            attrs["is_valid"] = _show_errors_only
        return type(formset.__name__, (formset,), attrs)

    def save_list_editable(self, request: HttpRequest) -> HttpResponse | None:
        """Save a list_editable page: one locked read of the posted rows, a three-way merge per row,
        one bulk UPDATE, one bulk INSERT into the admin log. Rows that conflict are not written and are
        named on the next page; the others are saved. Returns None when the formset is invalid."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        page = PageToken.read(self.model, request.POST.get(PAGE_TOKEN))
        FormSet = self.get_changelist_formset(request)
        prefix = FormSet.get_default_prefix()
        pk_field = self.model._meta.pk
        pattern = re.compile(rf"^{re.escape(prefix)}-\d+-{re.escape(pk_field.name)}$")
        try:
            pks = [pk_field.to_python(v) for k, v in request.POST.items() if pattern.match(k)]
        except ValidationError:
            raise BadParameter(
                _("A row id in this list is malformed. Reload the page."), param=prefix
            ) from None
        for pk in pks:
            if str(pk) not in page.rows:
                raise BadParameter(
                    _("Row %(pk)s was not on the page you submitted. Reload the page.") % {"pk": pk},
                    param=PAGE_TOKEN,
                )
        fields = editable_fields(self.model, self.list_editable)
        vf = version_field(self.model)
        using = router.db_for_write(self.model)
        with transaction.atomic(using=using):
            # The rows the admin's queryset allows, locked with a plain query: FOR UPDATE would be
            # refused on a get_queryset() with DISTINCT or aggregates.
            allowed = self.get_queryset(request).filter(pk__in=pks).values("pk")
            queryset = (self.model._base_manager.using(using).filter(pk__in=allowed)
                        .select_for_update().order_by("pk"))
            formset = FormSet(request.POST, request.FILES, queryset=queryset)
            theirs = {
                obj.pk: (snapshot(obj, fields), getattr(obj, vf.attname) if vf else None)
                for obj in formset.get_queryset()
            }
            if not formset.is_valid():
                return None
            to_write, conflicted, merged = [], [], []
            for form in formset.forms:
                obj = form.instance
                if obj.pk not in theirs:
                    continue
                _version, _hash, base = page.rows[str(obj.pk)]
                current, current_version = theirs[obj.pk]
                result = merge(fields, base, snapshot(obj, fields), current)
                written = [] if result.conflicts else result.update_fields
                for name, f in fields.items():
                    if name not in written:
                        setattr(obj, f.attname, current[name])
                if result.conflicts:
                    conflicted.append((obj, result.conflicts, form))
                elif written:
                    if vf:
                        setattr(obj, vf.attname, current_version + 1)
                    to_write.append((obj, form, written))
                    if result.theirs_changed:
                        merged.append((obj, result.theirs_changed, form))
            self._bulk_write(request, to_write, using)
        self._report_list_save(request, to_write, conflicted, merged)
        return HttpResponseRedirect(request.get_full_path())

    def _bulk_write(self, request: HttpRequest, to_write: list, using: str) -> None:
        if not to_write:
            return
        vf = version_field(self.model)
        stamped = auto_now_fields(self.model)
        extra = [f.name for f in stamped] + ([vf.name] if vf else [])
        names = sorted({n for _obj, _form, written in to_write for n in written}) + extra
        for obj, _form, written in to_write:
            for f in stamped:
                f.pre_save(obj, False)
            pre_save.send(
                sender=self.model,
                instance=obj,
                raw=False,
                using=using,
                update_fields=frozenset([*written, *extra]),
            )
        from django.contrib.admin.models import CHANGE, LogEntry
        from django.contrib.contenttypes.models import ContentType

        objs = [obj for obj, _form, _written in to_write]
        self.model._base_manager.using(using).bulk_update(objs, names)
        ct = ContentType.objects.get_for_model(self.model, for_concrete_model=False)
        entries = []
        for obj, form, written in to_write:
            form.changed_data = written
            entries.append(
                LogEntry(
                    user_id=request.user.pk,
                    content_type_id=ct.id,
                    object_id=str(obj.pk),
                    object_repr=str(obj)[:200],
                    action_flag=CHANGE,
                    change_message=json.dumps(self.construct_change_message(request, form, None)),
                )
            )
            post_save.send(
                sender=self.model,
                instance=obj,
                created=False,
                raw=False,
                using=using,
                update_fields=frozenset([*written, *extra]),
            )
        LogEntry.objects.bulk_create(entries)  # (cached copies: dropped by the post_save receiver)

    def _report_list_save(self, request: HttpRequest, to_write: list, conflicted: list, merged: list) -> None:
        opts = self.model._meta
        if to_write:
            count = len(to_write)
            name = opts.verbose_name if count == 1 else opts.verbose_name_plural
            self.message_user(
                request,
                ngettext(
                    "%(count)s %(name)s was changed successfully.",
                    "%(count)s %(name)s were changed successfully.",
                    count,
                )
                % {"count": count, "name": name},
                messages.SUCCESS,
            )
        for obj, fields, form in merged:
            labels = ", ".join(str(form.fields[n].label or n) for n in fields)
            self.message_user(
                request,
                _("“%(obj)s”: meanwhile someone else changed %(fields)s; their values were kept.")
                % {"obj": obj, "fields": labels},
                messages.INFO,
            )
        for obj, conflicts, form in conflicted:
            detail = "; ".join(
                _("%(field)s is now “%(theirs)s” (you entered “%(mine)s”)")
                % {
                    "field": form.fields[c.name].label or c.name,
                    "theirs": self._display(opts.get_field(c.name), c.theirs),
                    "mine": self._display(opts.get_field(c.name), c.mine),
                }
                for c in conflicts
            )
            self.message_user(
                request,
                _(
                    "“%(obj)s” was NOT saved: someone else changed it since the page was "
                    "shown. %(detail)s. Re-enter your change if it still applies."
                )
                % {"obj": obj, "detail": detail},
                messages.ERROR,
            )

    # ------------------------------------------------------------------ actions
    def get_actions(self, request: HttpRequest, action_location=None):
        # Django 6.1 passes where the actions show (``action_location``) and returns ``Action``
        # objects; 5.2 returns ``(func, name, description)`` tuples. Both are wrapped alike.
        if action_location is None:
            actions = super().get_actions(request)
        else:
            actions = super().get_actions(request, action_location)
        if not self.locking_enabled(request):
            return actions
        return {name: _replace_func(action, self._guard_action) for name, action in actions.items()}

    def _guard_action(self, func: Callable) -> Callable:
        """Run ``func`` only on selected rows unchanged since the page was shown (STALE_SELECTION)."""
        if getattr(func, "_fa_guarded", False):
            return func

        @functools.wraps(func)
        def guarded(modeladmin, request, queryset):
            if request.POST.get("select_across") == "1":
                return func(modeladmin, request, queryset)  # rows never shown: nothing to compare
            raw = request.POST.get(PAGE_TOKEN)
            if not raw and "post" in request.POST:
                return func(modeladmin, request, queryset)  # an action's own confirmation step
            try:
                page = PageToken.read(self.model, raw)
            except BadParameter as exc:
                return self.problem_response(request, 400, exc)
            using = router.db_for_write(self.model)
            with transaction.atomic(using=using):
                fresh, stale = self.split_stale(queryset, page, using)
                if stale:
                    names = ", ".join(
                        f"“{o}”" for o in self.model._base_manager.using(using).filter(pk__in=stale)[:20]
                    ) or ", ".join(map(str, stale))
                    if fa_settings.STALE_SELECTION == "refuse" or not fresh:
                        self.message_user(
                            request,
                            ngettext(
                                "Nothing was done: %(count)d selected row changed since the page was shown "
                                "(%(names)s). Reload the page and check it first.",
                                "Nothing was done: %(count)d selected rows changed since the page was shown "
                                "(%(names)s). Reload the page and check them first.",
                                len(stale),
                            )
                            % {"count": len(stale), "names": names},
                            messages.ERROR,
                        )
                        return None
                    self.message_user(
                        request,
                        ngettext(
                            "Skipped %(count)d row changed since the page was shown: %(names)s.",
                            "Skipped %(count)d rows changed since the page was shown: %(names)s.",
                            len(stale),
                        )
                        % {"count": len(stale), "names": names},
                        messages.WARNING,
                    )
                vf = version_field(self.model)
                narrowed = queryset.filter(pk__in=[pk for pk, _v in fresh])
                if vf and fresh:  # compare-and-set: the action's UPDATE only touches unchanged versions
                    narrowed = narrowed.filter(
                        functools.reduce(or_, (Q(pk=pk, **{vf.attname: v}) for pk, v in fresh))
                    )
                response = func(modeladmin, request, narrowed)
                if object_cache.is_registered(self.model):
                    object_cache.invalidate(self.model, [pk for pk, _v in fresh], using=using)
                return response

        guarded._fa_guarded = True
        return guarded

    def split_stale(self, queryset, page: PageToken, using: str) -> tuple[list[tuple[Any, Any]], list[Any]]:
        """Lock the selected rows; ``(fresh [(pk, version)], stale [pk])`` against the page token."""
        vf = version_field(self.model)
        hashed = {f.name: f for f in self.model._meta.concrete_fields if f.name in page.hashed}
        attnames = [f.attname for f in hashed.values()]
        if vf and vf.attname not in attnames:
            attnames.append(vf.attname)
        rows = (
            self.model._base_manager.using(using)
            .select_for_update()
            .filter(pk__in=queryset.values("pk"))
            .values("pk", *attnames)
        )
        fresh, stale = [], []
        for row in rows:
            shown = page.rows.get(str(row["pk"]))
            version = row[vf.attname] if vf else None
            if shown is None:
                stale.append(row["pk"])
                continue
            digest = row_hash({n: row[f.attname] for n, f in hashed.items()}, hashed)
            if (vf and shown[0] != version) or (not vf and shown[1] != digest):
                stale.append(row["pk"])
            else:
                fresh.append((row["pk"], version))
        return fresh, stale


def _show_errors_only(self) -> bool:
    """``is_valid`` for the re-render after fastadmin found the list_editable formset invalid: stock
    then shows the errors and saves nothing (it must not save a formset fastadmin did not merge)."""
    return self.errors is None


def _replace_func(action, wrap: Callable):
    """``action`` with its callable wrapped, for a 5.2 tuple or a 6.1 ``Action`` dataclass."""
    if dataclasses.is_dataclass(action):
        return dataclasses.replace(action, func=wrap(action.func))
    func, *rest = action
    return (wrap(func), *rest)


def _rows_get_queryset(self):
    """A model formset over ``cl.result_list``: fastadmin's page is a list of rows, not a QuerySet
    (stock ``BaseModelFormSet.get_queryset`` calls ``.ordered`` on it and fails)."""
    if isinstance(self.queryset, list | tuple):
        self._queryset = list(self.queryset)
        return self._queryset
    return forms.BaseModelFormSet.get_queryset(self)


class RowChoiceField(forms.ModelChoiceField):
    """The hidden pk of a list_editable row, resolved from the rows already read (stock runs one
    ``SELECT ... WHERE pk = %s`` per row to validate it)."""

    def __init__(self, *args: Any, rows: dict[str, models.Model], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and str(value) in self.rows:
            return self.rows[str(value)]
        return super().to_python(value)


def _rows_add_fields(self, form, index):
    forms.BaseModelFormSet.add_fields(self, form, index)
    name = self.model._meta.pk.name
    field = form.fields.get(name)
    if type(field) is forms.ModelChoiceField:
        if not hasattr(self, "_fa_rows"):
            self._fa_rows = {str(o.pk): o for o in self.get_queryset()}
        form.fields[name] = RowChoiceField(
            field.queryset, rows=self._fa_rows, initial=field.initial, required=False, widget=field.widget
        )
