"""The locking strategy: one object per request that decides merge or conflict and writes through hooks.

``ModelAdmin.locking_class`` (default ``FASTADMIN["LOCKING_CLASS"]``) is instantiated once per request
by :meth:`~fastadmin.locking.admin.OptimisticLockingMixin.get_locking`; the object holds all the
request's locking state (the parsed token, the locked rows, what each row wrote), so nothing is hung
on forms or requests. It writes only through the admin's own hooks: ``save_model`` ends in
``obj.save(update_fields=...)``, list_editable calls ``save_form``/``save_model``/``save_related``/
``log_change`` per row, inline rows are saved by ``save_formset``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.admin.utils import flatten, flatten_fieldsets
from django.db import models, router
from django.forms import BaseForm
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..conf import fa_settings
from ..fields import version_field
from .inlines import check_inlines, inline_token_fields, save_formset
from .rows import read_current
from .tokens import PAGE_TOKEN, TOKEN, EditToken, PageToken, dump, load
from .values import (
    MINE,
    THEIRS,
    BadEditToken,
    EditConflict,
    FieldConflict,
    editable_fields,
    merge,
    same,
    snapshot,
    update_fields_for,
)

logger = logging.getLogger("fastadmin.locking")
RESOLVE = "_fa_resolve_"
RESOLVE_ALL = "_fa_resolve_all"
_UNREAD = object()


class BaseLocking:
    """Contract of a locking strategy (``ModelAdmin.locking_class``), one instance per request.

    Tokens: :meth:`form_token`, :meth:`delete_token` and :meth:`page_token` sign what a page shows
    (only fields the admin shows and lets the user edit). Writes, each inside the admin's transaction
    and only after the admin checked permissions and that the object exists:

    * :meth:`save_object` from ``save_model``: merge and ``obj.save(update_fields=...)``; returns
      False to let stock save (a POST without a token).
    * :meth:`before_related` from ``save_related`` (inline rows merged, many-to-many merged), then
      :meth:`save_formset` from ``save_formset`` (False: stock saves the formset).
    * :meth:`check_delete` from ``delete_model``; :meth:`save_list` for a list_editable POST (None:
      stock handles it); :meth:`run_action` wraps every action.

    A conflict raises :class:`~fastadmin.locking.values.EditConflict` having written nothing (the
    admin answers 409 with :meth:`conflict_token` on the page); a bad token raises
    :class:`~fastadmin.locking.values.BadEditToken` (400). A POST without any token is saved like
    stock unless ``FASTADMIN["LOCKING"] == "strict"``.
    """

    def __init__(self, model_admin: Any, request: HttpRequest) -> None:
        self.model_admin = model_admin
        self.model: type[models.Model] = model_admin.model
        self.request = request

    def form_token(self, obj: models.Model, form: BaseForm, inline_formsets: list) -> str:
        raise NotImplementedError

    def delete_token(self, obj: models.Model) -> str:
        raise NotImplementedError

    def page_token(self, cl: Any) -> str:
        raise NotImplementedError

    def conflict_token(self) -> Any:
        """The token the request posted (what the 409 page builds its re-post token from)."""
        raise NotImplementedError

    def save_object(self, obj: models.Model, form: BaseForm) -> bool:
        raise NotImplementedError

    def before_related(self, form: BaseForm, formsets: list) -> list[str]:
        """Returns messages for the user (e.g. fields someone else changed meanwhile, kept)."""
        raise NotImplementedError

    def save_formset(self, formset: Any) -> bool:
        raise NotImplementedError

    def check_delete(self, obj: models.Model) -> None:
        raise NotImplementedError

    def save_list(self) -> Any:
        raise NotImplementedError

    def run_action(self, func: Any, modeladmin: Any, queryset: models.QuerySet) -> Any:
        raise NotImplementedError


class RowLocking(BaseLocking):
    """Lock the row(s) ``FOR UPDATE`` in the save's transaction and merge by values against the token.

    The same for versioned and versionless models: values, not the version, decide, so a write that
    did not bump the version (``QuerySet.update()``, ``save(update_fields=[...])``) is still seen.
    """

    def __init__(self, model_admin: Any, request: HttpRequest) -> None:
        super().__init__(model_admin, request)
        self.using = router.db_for_write(self.model)
        self._token: Any = _UNREAD
        self._resolutions: dict[str, str] | None = None
        self.page: PageToken | None = None
        self.current: dict[Any, tuple[dict[str, Any], int | None]] | None = None  # list_editable rows
        self.written: dict[Any, list[str]] = {}  # pk -> fields written (list_editable / change form)
        self.list_conflicts: list[tuple[models.Model, list[FieldConflict], BaseForm]] = []
        self.list_merged: list[tuple[models.Model, list[str], BaseForm]] = []
        self.inline_writes: dict[tuple[str, Any], list[str]] = {}
        self.theirs_changed: list[str] = []

    # ------------------------------------------------------------------ tokens
    @property
    def user_id(self) -> str:
        return str(getattr(self.request.user, "pk", None))

    def tokenless(self, param: str) -> None:
        """A POST without a token: stock behaviour and a warning, or a 400 when LOCKING is "strict"."""
        if fa_settings.LOCKING == "strict":
            raise BadEditToken(
                "This form has no fastadmin token (it was opened before an upgrade or built by hand), "
                "and FASTADMIN['LOCKING'] is 'strict'. Reload the page and make your change again.",
                param=param,
            )
        logger.warning(
            "%s POST to %s without %s: saved without conflict detection (as stock admin would).",
            self.model._meta.label, self.request.path, param,
        )

    def edit_token(self, pk: Any) -> EditToken | None:
        """The posted edit token, parsed once per request; None for a tokenless POST."""
        if self._token is _UNREAD:
            raw = self.request.POST.get(TOKEN)
            self._token = None
            if raw:
                self._token = EditToken.read(self.model, raw, pk, self.user_id)
            else:
                self.tokenless(TOKEN)
        return self._token

    def resolutions(self) -> dict[str, str]:
        """The choices posted from a conflict page: ``{name: "mine" | "theirs"}`` (400 if malformed)."""
        if self._resolutions is None:
            out = {k[len(RESOLVE):]: v for k, v in self.request.POST.items()
                   if k.startswith(RESOLVE) and k != RESOLVE_ALL}
            everything = self.request.POST.get(RESOLVE_ALL)
            if everything and self._token:  # "Keep all mine" / "Take all theirs" beat the radios
                out.update(dict.fromkeys(self._token.seen, everything))
            for value in [*out.values(), *([everything] if everything else [])]:
                if value not in (MINE, THEIRS):
                    raise BadEditToken(f"A conflict can be resolved with “{MINE}” or “{THEIRS}”, not {value!r}.",
                                       param=RESOLVE + "…")
            self._resolutions = out
        return self._resolutions

    def token_fields(self, obj: models.Model | None, form: BaseForm | None = None) -> dict[str, models.Field]:
        """What the admin shows and lets this user edit: ``get_fields`` (as laid out by the fieldsets)
        minus excluded and read-only fields (and, given a form, only its fields). Nothing else is
        signed into a page or shown on a conflict page."""
        ma, request = self.model_admin, self.request
        names = set(flatten(ma.get_fields(request, obj))) & set(flatten_fieldsets(ma.get_fieldsets(request, obj)))
        names -= set(ma.get_exclude(request, obj) or ())
        names -= set(ma.get_readonly_fields(request, obj))
        if form is not None:
            names &= set(form.fields)
        out = editable_fields(self.model, names)
        out.update({f.name: f for f in self.model._meta.many_to_many if f.name in names})
        return out

    def form_token(self, obj: models.Model, form: BaseForm, inline_formsets: list) -> str:
        fields = self.token_fields(obj, form)
        token = EditToken.for_object(obj, {n: f for n, f in fields.items() if not f.many_to_many}, self.user_id)
        for name, f in fields.items():
            if f.many_to_many and name in form.initial:
                token.base[name] = sorted(str(getattr(o, "pk", o)) for o in form.initial[name] or ())
        for formset in inline_formsets:
            rows = {}
            for inline_form in formset.initial_forms:
                if inline_form.instance.pk is not None:
                    inline_fields = inline_token_fields(formset, inline_form)
                    rows[str(inline_form.instance.pk)] = dump(snapshot(inline_form.instance, inline_fields))
            token.inlines[formset.prefix] = rows
        return token.sign(self.model)

    def delete_token(self, obj: models.Model) -> str:
        fields = {n: f for n, f in self.token_fields(obj).items() if not f.many_to_many}
        current = read_current(self.model, obj.pk, fields, router.db_for_read(self.model), lock=False)
        token = EditToken.for_object(obj, fields, self.user_id)
        if current is not None:  # the row as it is now, not a cached copy
            token.base, token.version = dump(current[0]), current[1]
        return token.sign(self.model)

    def page_token(self, cl: Any) -> str:
        editable = editable_fields(self.model, cl.list_editable or ())
        editable = {n: f for n, f in editable.items() if n in self.token_fields(None)}
        return PageToken.for_rows(self.model, cl.result_list, editable, self.user_id).sign(self.model)

    def read_page(self) -> PageToken | None:
        raw = self.request.POST.get(PAGE_TOKEN)
        if not raw:
            self.tokenless(PAGE_TOKEN)
            self._token = None  # stock then saves the rows: one warning per request is enough
            return None
        self.page = PageToken.read(self.model, raw, self.user_id)
        return self.page

    # ------------------------------------------------------------------ change form and list rows
    def save_object(self, obj: models.Model, form: BaseForm) -> bool:
        """Merge ``obj`` (carrying mine) with the locked row and save only what I changed.
        Returns False for a tokenless POST (the caller saves like stock)."""
        if self.current is not None:
            return self._save_list_row(obj, form)
        token = self.edit_token(obj.pk)
        if token is None:
            return False
        fields = {n: f for n, f in self.token_fields(obj, form).items() if not f.many_to_many}
        current = read_current(self.model, obj.pk, fields, self.using)
        if current is None:
            raise EditConflict(obj, [], {}, None, [], deleted=True)
        theirs, version = current
        result = merge(fields, load(token.base, fields), snapshot(obj, fields), theirs,
                       load(token.seen, fields), self.resolutions())
        if result.conflicts:
            for c in result.conflicts:
                c.label = str(form.fields[c.name].label or c.name)
            raise EditConflict(obj, result.conflicts, theirs, version, result.theirs_changed)
        self._write(obj, fields, theirs, version, result.update_fields)
        self.theirs_changed = [str(form.fields[n].label or n) for n in result.theirs_changed]
        return True

    def _write(self, obj: models.Model, fields: dict, theirs: dict, version: int | None, written: list) -> None:
        for name, f in fields.items():  # obj mirrors the row as it will be after the write
            if name not in written:
                setattr(obj, f.attname, theirs[name])
        vf = version_field(self.model)
        if vf is not None:
            setattr(obj, vf.attname, version)
        if written:
            obj.save(using=self.using, update_fields=update_fields_for(self.model, written))
        self.written[obj.pk] = list(written)

    def _save_list_row(self, obj: models.Model, form: BaseForm) -> bool:
        fields = editable_fields(self.model, self.model_admin.list_editable)
        fields = {n: f for n, f in fields.items() if n in form.fields}
        current = self.current.get(obj.pk)
        base = load(self.page.rows[str(obj.pk)][2], fields, PAGE_TOKEN)
        if current is None:
            self.list_conflicts.append((obj, [], form))
            self.written[obj.pk] = []
            return True
        theirs, version = current
        result = merge(fields, base, snapshot(obj, fields), theirs)
        if result.conflicts:
            self.list_conflicts.append((obj, result.conflicts, form))
            self.written[obj.pk] = []
            return True
        self._write(obj, fields, theirs, version, result.update_fields)
        if result.update_fields and result.theirs_changed:
            self.list_merged.append((obj, result.theirs_changed, form))
        return True

    def conflict_token(self) -> EditToken | None:
        return self._token if self._token is not _UNREAD else None

    def before_related(self, form: BaseForm, formsets: list) -> list[str]:
        self.check_inlines(form, formsets)
        self.merge_many_to_many(form)
        if not self.theirs_changed:
            return []
        return [_("Meanwhile someone else changed %(fields)s; their values were kept.")
                % {"fields": ", ".join(self.theirs_changed)}]

    def save_list(self) -> Any:
        from .listedit import save_list_editable

        return save_list_editable(self)

    def merge_many_to_many(self, form: BaseForm) -> list[str]:
        """My additions and removals (against the base) applied to the current set, so another
        editor's concurrent additions survive. Returns the names merged (taken out of cleaned_data)."""
        token = self._token if self._token is not _UNREAD else None
        if token is None:
            return []
        merged = []
        for name, f in self.token_fields(form.instance, form).items():
            if not f.many_to_many or name not in token.base or name not in form.cleaned_data:
                continue
            mine = {str(o.pk) for o in form.cleaned_data.pop(name)}
            base = set(map(str, token.base[name]))
            manager = getattr(form.instance, name)
            if mine - base:
                manager.add(*(mine - base))
            if base - mine:
                manager.remove(*(base - mine))
            merged.append(name)
        return merged

    # ------------------------------------------------------------------ inlines
    def check_inlines(self, form: BaseForm, formsets: list) -> None:
        check_inlines(self, form, formsets)

    def save_formset(self, formset: Any) -> bool:
        return save_formset(self, formset)

    # ------------------------------------------------------------------ delete and actions
    def check_delete(self, obj: models.Model) -> None:
        """Refuse (409) to delete a row changed since the confirmation page showed it."""
        token = self.edit_token(obj.pk)
        if token is None:
            return
        fields = {n: f for n, f in self.token_fields(obj).items() if not f.many_to_many}
        current = read_current(self.model, obj.pk, fields, self.using)
        if current is None:
            return
        theirs, version = current
        base = load(token.base, fields)
        changed = [n for n, f in fields.items() if n in base and not same(f, theirs[n], base[n])]
        if changed or (token.version is not None and version != token.version):
            conflicts = [FieldConflict(n, base[n], theirs[n], base[n], model_field=fields[n]) for n in changed]
            raise EditConflict(obj, conflicts, theirs, version, [])

    def run_action(self, func: Any, modeladmin: Any, queryset: models.QuerySet) -> Any:
        from .actions import run_guarded

        return run_guarded(self, func, modeladmin, queryset)
