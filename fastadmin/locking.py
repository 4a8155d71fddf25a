"""Optimistic locking: edit tokens, the three-way merge, and the two ways to write a row safely.

Why: a stock admin form posts every field and ``Model.save()`` writes every column, so the second of
two concurrent editors silently puts back what the first one changed. Here every form carries a
signed :class:`EditToken` holding what the user was *shown* (the base), and a save compares three
versions of each field::

    base   (shown, from the token)   mine (posted)   theirs (the row now, read inside the transaction)

:func:`merge` is the whole policy (the contract in the architecture table): fields only I changed are
written, fields only they changed are kept, fields both changed to different values are conflicts
and nothing is written. Two strategies supply "theirs" and do the write:

* :class:`VersionedEdits` for models with a :class:`~fastadmin.fields.VersionField`: one
  ``UPDATE ... WHERE pk = %s AND version = %s``; only when it hits 0 rows is the row read and merged.
* :class:`RowLockEdits` for versionless models (no schema change possible): ``SELECT ... FOR UPDATE``
  of the row, merge, ``save(update_fields=...)``.

Only public Django API is used (``QuerySet.update``, ``select_for_update``, ``save(update_fields)``,
signals), never ``Model._do_update``, so it works unchanged on Django 5.2 and 6.x.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models, router
from django.db.models import F
from django.db.models.signals import post_save, pre_save

from .exceptions import BadParameter
from .fields import version_field
from .tokens import dump_value, load_value, sign, unsign

MINE, THEIRS = "mine", "theirs"


# --------------------------------------------------------------------------- errors
class BadEditToken(BadParameter):
    """The token is missing, altered, or made for another object: answered with HTTP 400."""


class StaleVersion(Exception):
    """:func:`save_versioned` found another version in the row than the one it was loaded with."""


@dataclass
class FieldConflict:
    name: str
    base: Any
    theirs: Any
    mine: Any


class EditConflict(Exception):
    """Both sides changed the same field(s) to different values; nothing was written (HTTP 409)."""

    def __init__(
        self,
        obj: models.Model,
        conflicts: list[FieldConflict],
        theirs: dict[str, Any],
        version: int | None,
        theirs_changed: list[str],
        deleted: bool = False,
    ) -> None:
        super().__init__(", ".join(c.name for c in conflicts) or "deleted")
        self.obj = obj
        self.conflicts = conflicts
        self.theirs = theirs
        self.version = version
        self.theirs_changed = theirs_changed
        self.deleted = deleted


# --------------------------------------------------------------------------- values
def same(model_field: models.Field, a: Any, b: Any) -> bool:
    """Equal as values of ``model_field`` (``Decimal("1.0") == Decimal("1.00")``, aware datetimes)."""
    try:
        a, b = model_field.to_python(a), model_field.to_python(b)
    except (ValidationError, TypeError, ValueError):
        pass
    if isinstance(a, memoryview | bytes) and isinstance(b, memoryview | bytes):
        return bytes(a) == bytes(b)
    return a == b


def editable_fields(model: type[models.Model], names: Iterable[str]) -> dict[str, models.Field]:
    """The concrete, non-pk, non-version model fields among ``names`` (form field names)."""
    out: dict[str, models.Field] = {}
    version = version_field(model)
    for f in model._meta.concrete_fields:
        if f.name in names and not f.primary_key and f is not version:
            out[f.name] = f
    return out


def snapshot(obj: models.Model, fields: Mapping[str, models.Field]) -> dict[str, Any]:
    return {name: getattr(obj, f.attname) for name, f in fields.items()}


def row_hash(obj_or_values: models.Model | Mapping[str, Any], fields: Mapping[str, models.Field]) -> str:
    """A short digest of a row's values: how a versionless row tells "changed since shown"."""
    if isinstance(obj_or_values, models.Model):
        values = snapshot(obj_or_values, fields)
    else:
        values = obj_or_values
    payload = json.dumps([dump_value(values[name]) for name in fields], sort_keys=True, default=str)
    return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()


def auto_now_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]


# --------------------------------------------------------------------------- tokens
def _salt(kind: str, model: type[models.Model]) -> str:
    return f"fastadmin.{kind}:{model._meta.label_lower}"


@dataclass
class EditToken:
    """What one form was shown: row version (None if versionless), base values, when; and, after a
    conflict page, the values of the conflicting fields the user saw there (``seen``)."""

    pk: str
    version: int | None
    base: dict[str, Any]
    shown_at: float = field(default_factory=time.time)
    seen: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_object(cls, obj: models.Model, fields: Mapping[str, models.Field]) -> EditToken:
        vf = version_field(type(obj))
        return cls(str(obj.pk), getattr(obj, vf.attname) if vf else None, snapshot(obj, fields))

    def sign(self, model: type[models.Model]) -> str:
        payload = {
            "pk": self.pk,
            "v": self.version,
            "t": int(self.shown_at),
            "b": {k: dump_value(v) for k, v in self.base.items()},
            "s": {k: dump_value(v) for k, v in self.seen.items()},
        }
        return sign(payload, _salt("edit", model))

    @classmethod
    def read(cls, model: type[models.Model], raw: str | None, pk: Any) -> EditToken:
        """Verify and decode; :class:`BadEditToken` (HTTP 400) for anything but an intact token for ``pk``."""
        if not raw:
            raise BadEditToken(
                "This form has no edit token: it was opened before an upgrade, built by hand, or its "
                "ModelAdmin.get_fieldsets() leaves out fastadmin's '_fa_token' field. Reload the page and "
                "make your change again.",
                param="_fa_token",
            )
        try:
            payload = unsign(raw, _salt("edit", model))
        except signing.BadSignature:
            raise BadEditToken(
                "The edit token of this form was altered or is corrupt, so it cannot be saved safely. "
                "Reload the page and make your change again.",
                param="_fa_token",
            ) from None
        try:
            if str(payload["pk"]) != str(pk):
                raise BadEditToken(
                    "This edit token belongs to another object. Reload the page.", param="_fa_token"
                )
            fields = {f.name: f for f in [*model._meta.concrete_fields, *model._meta.many_to_many]}
            base = {k: load_value(fields[k], v) for k, v in payload["b"].items()}
            seen = {k: load_value(fields[k], v) for k, v in payload.get("s", {}).items()}
            return cls(str(payload["pk"]), payload["v"], base, float(payload["t"]), seen)
        except (KeyError, TypeError, ValueError, ValidationError, AttributeError):
            raise BadEditToken("This edit token is malformed. Reload the page.", param="_fa_token") from None


@dataclass
class PageToken:
    """What one changelist page showed: per row its version or value digest, and the
    ``list_editable`` base values. Verifies action selections and list_editable saves."""

    rows: dict[str, tuple[int | None, str, dict[str, Any]]]
    hashed: list[str]
    shown_at: float = field(default_factory=time.time)

    @classmethod
    def for_rows(
        cls, model: type[models.Model], rows: Iterable[models.Model], editable: Iterable[str]
    ) -> PageToken:
        vf = version_field(model)
        editable_map = editable_fields(model, set(editable))
        out: dict[str, tuple[int | None, str, dict[str, Any]]] = {}
        hashed: list[str] | None = None
        for row in rows:
            if hashed is None:
                deferred = row.get_deferred_fields()
                hashed = [f.name for f in model._meta.concrete_fields if f.attname not in deferred]
            hash_fields = {f.name: f for f in model._meta.concrete_fields if f.name in hashed}
            out[str(row.pk)] = (
                getattr(row, vf.attname) if vf else None,
                row_hash(row, hash_fields),
                snapshot(row, editable_map),
            )
        return cls(out, hashed or [])

    def sign(self, model: type[models.Model]) -> str:
        payload = {
            "r": {
                pk: [v, h, {k: dump_value(x) for k, x in b.items()}] for pk, (v, h, b) in self.rows.items()
            },
            "h": self.hashed,
            "t": int(self.shown_at),
        }
        return sign(payload, _salt("page", model))

    @classmethod
    def read(cls, model: type[models.Model], raw: str | None) -> PageToken:
        if not raw:
            raise BadEditToken(
                "This list was submitted without its page token. Reload the page and try again.",
                param="_fa_page_token",
            )
        try:
            payload = unsign(raw, _salt("page", model))
        except signing.BadSignature:
            raise BadEditToken(
                "The page token of this list was altered or is corrupt. Reload the page.",
                param="_fa_page_token",
            ) from None
        try:
            fields = {f.name: f for f in model._meta.concrete_fields}
            rows = {
                str(pk): (v, str(h), {k: load_value(fields[k], x) for k, x in b.items()})
                for pk, (v, h, b) in payload["r"].items()
            }
            return cls(rows, [str(n) for n in payload["h"]], float(payload["t"]))
        except (KeyError, TypeError, ValueError, ValidationError, AttributeError):
            raise BadEditToken(
                "This page token is malformed. Reload the page.", param="_fa_page_token"
            ) from None


# --------------------------------------------------------------------------- merge
@dataclass
class Merge:
    """Result of :func:`merge`: what to write, what collides, what the other side changed (kept)."""

    update_fields: list[str]
    conflicts: list[FieldConflict]
    theirs_changed: list[str]


def merge(
    fields: Mapping[str, models.Field],
    base: Mapping[str, Any],
    mine: Mapping[str, Any],
    theirs: Mapping[str, Any],
    seen: Mapping[str, Any] | None = None,
    resolutions: Mapping[str, str] | None = None,
) -> Merge:
    """Three-way merge of one row, field by field.

    ``seen``/``resolutions`` come from a conflict page: a field whose current value is still the one
    the user saw there is resolved as they chose (``"mine"`` writes mine, ``"theirs"`` keeps theirs);
    if it moved again, it is merged afresh (and conflicts again if both changed it).
    """
    seen, resolutions = seen or {}, resolutions or {}
    update, conflicts, theirs_changed = [], [], []
    for name, f in fields.items():
        if name not in base:
            continue
        mine_changed = not same(f, mine[name], base[name])
        their_change = not same(f, theirs[name], base[name])
        choice = resolutions.get(name)
        if choice in (MINE, THEIRS) and name in seen and same(f, theirs[name], seen[name]):
            if choice == MINE and not same(f, mine[name], theirs[name]):
                update.append(name)
            elif choice == THEIRS and their_change:
                theirs_changed.append(name)
            continue
        if mine_changed and their_change and not same(f, mine[name], theirs[name]):
            conflicts.append(FieldConflict(name, base[name], theirs[name], mine[name]))
        elif mine_changed and not their_change:
            update.append(name)
        elif their_change and not mine_changed:
            theirs_changed.append(name)
    return Merge(update, conflicts, theirs_changed)


# --------------------------------------------------------------------------- writing
def read_current(
    model: type[models.Model], pk: Any, fields: Mapping[str, models.Field], using: str, lock: bool = True
) -> tuple[dict[str, Any], int | None] | None:
    """The row's current values (and version) by field name, locked ``FOR UPDATE``; None if deleted."""
    vf = version_field(model)
    attnames = [f.attname for f in fields.values()] + ([vf.attname] if vf else [])
    qs = model._base_manager.using(using).filter(pk=pk)
    if lock:
        qs = qs.select_for_update()
    row = qs.values(*attnames).first() if attnames else ({} if qs.exists() else None)
    if row is None:
        return None
    values = {name: row[f.attname] for name, f in fields.items()}
    return values, (row[vf.attname] if vf else None)


def save_versioned(
    obj: models.Model,
    update_fields: Iterable[str] | None = None,
    *,
    expected: int | None = None,
    using: str | None = None,
) -> None:
    """Write ``obj`` with one ``UPDATE ... SET ..., version = version + 1 WHERE pk AND version = expected``.

    The model-level API for code outside the admin (works the same on Django 5.2 and 6.x). Sends
    ``pre_save``/``post_save`` with ``update_fields`` like ``save()``; ``auto_now`` fields are included.
    Raises :class:`StaleVersion` (nothing written) if the row's version is not ``expected`` (default:
    the version ``obj`` was loaded with).
    """
    model = type(obj)
    vf = version_field(model)
    if vf is None:
        raise TypeError(f"{model._meta.label} has no VersionField; use save(update_fields=...).")
    using = using or router.db_for_write(model, instance=obj)
    expected = getattr(obj, vf.attname) if expected is None else expected
    if update_fields is None:
        names = [f.name for f in model._meta.concrete_fields if not f.primary_key and f is not vf]
    else:
        names = [n for n in update_fields if n != vf.name]
    names += [f.name for f in auto_now_fields(model) if f.name not in names]
    written = frozenset([*names, vf.name])
    pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=written)
    values = {}
    for name in names:
        f = model._meta.get_field(name)
        values[f.attname] = f.pre_save(obj, False)
    values[vf.attname] = F(vf.attname) + 1
    rows = model._base_manager.using(using).filter(pk=obj.pk, **{vf.attname: expected}).update(**values)
    if rows != 1:
        raise StaleVersion(f"{model._meta.label} {obj.pk}: the row is no longer at version {expected}.")
    setattr(obj, vf.attname, expected + 1)
    obj._state.db = using
    post_save.send(sender=model, instance=obj, created=False, raw=False, using=using, update_fields=written)


@dataclass
class Outcome:
    """What a strategy wrote (field names) and what it kept from the other side."""

    written: list[str]
    theirs_changed: list[str]


class EditStrategy(Protocol):
    """Contract: ``save(obj, token, fields, resolutions) -> Outcome`` inside the caller's transaction.

    ``obj`` carries *mine* for ``fields``; the strategy obtains *theirs*, merges, writes only the
    merged ``update_fields`` (plus ``auto_now``/version) and leaves ``obj`` equal to the new row for
    those fields. On conflict it raises :class:`EditConflict` having written nothing.
    """

    def save(
        self,
        obj: models.Model,
        token: EditToken,
        fields: Mapping[str, models.Field],
        resolutions: Mapping[str, str],
    ) -> Outcome: ...


def _merge_or_raise(
    obj: models.Model,
    token: EditToken,
    fields: Mapping[str, models.Field],
    resolutions: Mapping[str, str],
    current,
) -> tuple[Merge, int | None]:
    if current is None:
        raise EditConflict(obj, [], {}, None, [], deleted=True)
    theirs, version = current
    mine = snapshot(obj, fields)
    result = merge(fields, token.base, mine, theirs, token.seen, resolutions)
    if result.conflicts:
        raise EditConflict(obj, result.conflicts, theirs, version, result.theirs_changed)
    for name in fields:  # obj now mirrors the row that will exist after the write
        if name not in result.update_fields:
            setattr(obj, fields[name].attname, theirs[name])
    return result, version


class VersionedEdits:
    """Compare-and-set on the version column; merge only when it fails (0 extra queries when fresh)."""

    def save(self, obj, token, fields, resolutions):
        model = type(obj)
        vf = version_field(model)
        using = router.db_for_write(model, instance=obj)
        if token.version is not None and getattr(obj, vf.attname) == token.version:
            mine = snapshot(obj, fields)
            changed = [
                n
                for n in fields
                if n in token.base
                and not same(fields[n], mine[n], token.base[n])
                and resolutions.get(n) != THEIRS
            ]
            for n, value in token.seen.items():  # "take theirs" from a conflict page: the row keeps it
                if resolutions.get(n) == THEIRS and n in fields:
                    setattr(obj, fields[n].attname, value)
            if not changed:
                return Outcome([], [])
            try:
                save_versioned(obj, changed, expected=token.version, using=using)
                return Outcome(changed, [])
            except StaleVersion:
                pass
        current = read_current(model, obj.pk, fields, using)
        result, current_version = _merge_or_raise(obj, token, fields, resolutions, current)
        if result.update_fields:
            save_versioned(obj, result.update_fields, expected=current_version, using=using)
        else:
            setattr(obj, vf.attname, current_version)
        return Outcome(result.update_fields, result.theirs_changed)


class RowLockEdits:
    """Versionless: lock the row (one extra query), merge, ``save(update_fields=...)``."""

    def save(self, obj, token, fields, resolutions):
        model = type(obj)
        using = router.db_for_write(model, instance=obj)
        current = read_current(model, obj.pk, fields, using)
        result, _ = _merge_or_raise(obj, token, fields, resolutions, current)
        if result.update_fields:
            names = [*result.update_fields, *(f.name for f in auto_now_fields(model))]
            obj.save(using=using, update_fields=list(dict.fromkeys(names)))
        return Outcome(result.update_fields, result.theirs_changed)


def strategy_for(model: type[models.Model]) -> EditStrategy:
    return VersionedEdits() if version_field(model) else RowLockEdits()
