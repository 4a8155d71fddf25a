"""The three-way merge of one row and the value helpers it needs: the whole conflict policy.

A save compares three versions of each field the admin shows::

    base (shown, from the token)   mine (posted)   theirs (the row now, read FOR UPDATE)

Fields only I changed are written, fields only they changed are kept, fields both changed to
different values are conflicts and nothing is written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from ..conf import fa_settings
from ..exceptions import BadParameter
from ..fields import version_field
from ..tokens import dump_value

MINE, THEIRS = "mine", "theirs"


class BadEditToken(BadParameter):
    """The token is altered, expired, or made for another object or user: answered with HTTP 400."""


class StaleVersion(Exception):
    """:func:`~fastadmin.locking.rows.save_versioned` found another version than the one expected."""


@dataclass
class FieldConflict:
    """One field both sides changed. ``name`` is the field name, or ``prefix.pk.field`` for an inline row."""

    name: str
    base: Any
    theirs: Any
    mine: Any
    label: str = ""
    model_field: models.Field | None = None


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
    names = set(names)
    version = version_field(model)
    return {
        f.name: f
        for f in model._meta.concrete_fields
        if f.name in names and not f.primary_key and f is not version
    }


def snapshot(obj: models.Model, fields: Mapping[str, models.Field]) -> dict[str, Any]:
    return {name: getattr(obj, f.attname) for name, f in fields.items()}


#: ``json.dumps(value, sort_keys=True, default=str)`` without building an encoder per call.
_encode = json.JSONEncoder(sort_keys=True, default=str).encode


def row_digest(values: Mapping[str, Any], fields: Iterable[str], salt: str) -> str:
    """Keyed digest of a row's values: how a versionless row tells "changed since shown".

    An HMAC with the signing key, not a plain hash: the page carries the digest, and a plain hash of
    a low-entropy column (a status, a flag) could be reversed by hashing every candidate value.
    """
    return values_digester(salt)([values[name] for name in fields])


def values_digester(salt: str) -> Callable[[Sequence[Any]], str]:
    """:func:`row_digest` for many rows, each given as its values in the fields' order: the keyed
    hash is set up once and copied per row (a page digests every row it shows)."""
    keyed = hmac.new(((fa_settings.SIGNING_KEY or _secret_key()) + salt).encode(), digestmod=hashlib.blake2b)

    def digest(values: Sequence[Any]) -> str:
        h = keyed.copy()
        h.update(_encode([dump_value(value) for value in values]).encode())
        return h.hexdigest()[:24]

    return digest


def _secret_key() -> str:
    from django.conf import settings

    return settings.SECRET_KEY


def auto_now_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]


def update_fields_for(model: type[models.Model], written: Iterable[str]) -> list[str]:
    """``written`` plus the columns every save must touch: ``auto_now`` stamps and the version."""
    names = [*written, *(f.name for f in auto_now_fields(model))]
    vf = version_field(model)
    if vf is not None:
        names.append(vf.name)
    return list(dict.fromkeys(names))


@dataclass
class Merge:
    """Result of :func:`merge`: what to write, what collides, what the other side changed (kept)."""

    update_fields: list[str]
    conflicts: list[FieldConflict]
    theirs_changed: list[str] = field(default_factory=list)


def merge(
    fields: Mapping[str, models.Field],
    base: Mapping[str, Any],
    mine: Mapping[str, Any],
    theirs: Mapping[str, Any],
    seen: Mapping[str, Any] | None = None,
    resolutions: Mapping[str, str] | None = None,
) -> Merge:
    """Three-way merge of one row, field by field (fields without a base are left alone).

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
            conflicts.append(FieldConflict(name, base[name], theirs[name], mine[name], model_field=f))
        elif mine_changed and not their_change:
            update.append(name)
        elif their_change and not mine_changed:
            theirs_changed.append(name)
    return Merge(update, conflicts, theirs_changed)
