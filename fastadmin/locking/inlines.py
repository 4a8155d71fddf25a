"""Inline rows: merged like the parent, each against its own shown values in the change form's token.

:func:`check_inlines` runs from ``save_related`` before anything of the inlines is written: it locks
the changed inline rows of each formset (one ``SELECT ... FOR UPDATE`` per formset), merges each
with its base, and raises one :class:`~fastadmin.locking.values.EditConflict` listing every
conflicting inline field (the admin's transaction then rolls back the parent too). :func:`save_formset`
saves a checked formset row by row with ``update_fields``.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.forms import BaseForm

from .rows import lock_rows
from .tokens import load
from .values import EditConflict, FieldConflict, editable_fields, merge, snapshot, update_fields_for


def check_inlines(locking: Any, form: BaseForm, formsets: list) -> None:
    """Merge every changed inline row with its locked row; one 409 listing all inline conflicts."""
    token = locking.conflict_token()  # parsed by save_object (None: tokenless)
    if token is None:
        return
    resolutions, conflicts = locking.resolutions(), []
    for formset in formsets:
        bases = token.inlines.get(formset.prefix)
        if bases is None:
            continue
        changed = [f for f in formset.initial_forms
                   if f.instance.pk is not None and f.has_changed() and not _deleted(formset, f)]
        if not changed:
            locking.inline_writes.setdefault((formset.prefix, None), [])
            continue
        fields = inline_token_fields(formset, changed[0])
        current = lock_rows(formset.model, [f.instance.pk for f in changed], fields, locking.using)
        for inline_form in changed:
            obj = inline_form.instance
            key = f"{formset.prefix}.{obj.pk}."
            if str(obj.pk) not in bases:
                continue  # a row the page did not show: saved like stock
            if obj.pk not in current:
                conflicts.append(FieldConflict(key + "deleted", "", "—", "", _inline_label(obj, "deleted")))
                continue
            theirs, _version = current[obj.pk]
            result = merge(fields, load(bases[str(obj.pk)], fields), snapshot(obj, fields), theirs,
                           _strip(token.seen, key, fields), _strip(resolutions, key))
            for c in result.conflicts:
                c.label = _inline_label(obj, str(inline_form.fields[c.name].label or c.name))
                c.name = key + c.name
            conflicts.extend(result.conflicts)
            for name, f in fields.items():
                if name not in result.update_fields:
                    setattr(obj, f.attname, theirs[name])
            locking.inline_writes[(formset.prefix, obj.pk)] = result.update_fields
    if conflicts:
        raise EditConflict(form.instance, conflicts, {}, None, [])

def save_formset(locking: Any, formset: Any) -> bool:
    """Save a checked inline formset row by row: changed rows with ``update_fields`` (nothing if
    the merge left nothing to write). False if :meth:`check_inlines` did not see it (stock saves)."""
    if not any(prefix == formset.prefix for prefix, _pk in locking.inline_writes):
        return False
    formset.save(commit=False)
    for obj in formset.deleted_objects:
        obj.delete()
    for obj in formset.new_objects:
        obj.save()
    for obj, _names in formset.changed_objects:
        written = locking.inline_writes.get((formset.prefix, obj.pk))
        if written is None:
            obj.save()
        elif written:
            obj.save(update_fields=update_fields_for(type(obj), written))
    formset.save_m2m()
    return True


def inline_token_fields(formset: Any, form: BaseForm) -> dict[str, models.Field]:
    """An inline row's token fields: the model fields its form edits, without the parent key."""
    fk = getattr(formset, "fk", None)
    return {n: f for n, f in editable_fields(formset.model, form.fields).items() if fk is None or n != fk.name}


def _deleted(formset: Any, form: BaseForm) -> bool:
    return bool(formset.can_delete and form in formset.deleted_forms)


def _strip(values: dict[str, Any], key: str, fields: dict | None = None) -> dict[str, Any]:
    out = {k[len(key):]: v for k, v in values.items() if k.startswith(key)}
    return load(out, fields) if fields is not None else out


def _inline_label(obj: models.Model, field_label: str) -> str:
    return f"{obj._meta.verbose_name} “{obj}”: {field_label}"
