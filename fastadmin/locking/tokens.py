"""The edit token (change form, delete confirmation) and the page token (changelist): what a page showed.

Both are signed (not encrypted: the payload is readable base64 JSON), so they hold only values the
page shows anyway; see :meth:`fastadmin.locking.strategy.BaseLocking.token_fields`. Both expire
after ``FASTADMIN["TOKEN_MAX_AGE_S"]`` and are bound to the model (salt), the user and, for an edit
token, the object: a token taken from another user's page is refused with a 400.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models

from ..conf import fa_settings
from ..fields import version_field
from ..tokens import dump_value, load_value, sign, unsign_fresh
from .values import BadEditToken, editable_fields, row_digest, snapshot, values_digester

TOKEN = "_fa_token"
PAGE_TOKEN = "_fa_page_token"
_MALFORMED = (KeyError, TypeError, ValueError, ValidationError, AttributeError)


def _salt(kind: str, model: type[models.Model]) -> str:
    return f"fastadmin.{kind}:{model._meta.label_lower}"


def dump(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: dump_value(v) for k, v in values.items()}


def load(raw: Mapping[str, Any], fields: Mapping[str, models.Field], param: str = TOKEN) -> dict[str, Any]:
    """The values of ``fields`` present in ``raw`` (a token's JSON), as model values."""
    try:
        return {n: load_value(f, raw[n]) for n, f in fields.items() if n in raw}
    except _MALFORMED:
        raise BadEditToken("This token is malformed. Reload the page.", param=param) from None


def _open(raw: str, salt: str, param: str, user: Any) -> dict:
    max_age = fa_settings.TOKEN_MAX_AGE_S
    try:
        payload = unsign_fresh(raw, salt, max_age)
    except signing.SignatureExpired:
        raise BadEditToken(
            f"This page was shown more than {max_age // 3600 or max_age} "
            f"{'hours' if max_age >= 3600 else 'seconds'} ago, so it cannot be saved safely. "
            "Reload the page and make your change again.",
            param=param,
        ) from None
    except signing.BadSignature:
        raise BadEditToken(
            "The token of this page was altered or is corrupt, so it cannot be saved safely. "
            "Reload the page and make your change again.",
            param=param,
        ) from None
    if not isinstance(payload, dict) or str(payload.get("u")) != str(user):
        raise BadEditToken(
            "This page was opened by another user. Reload the page and make your change again.",
            param=param,
        )
    return payload


@dataclass
class EditToken:
    """What one change form (or delete confirmation) showed, as JSON values.

    ``base``: the shown values of the object's token fields; ``inlines``: per formset prefix, per
    inline row pk, the shown values; ``seen``: after a conflict page, the values shown there (keys
    as in :class:`~fastadmin.locking.values.FieldConflict`). Read them with :func:`load`.
    """

    pk: str
    user: str
    version: int | None
    base: dict[str, Any]
    inlines: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    seen: dict[str, Any] = field(default_factory=dict)
    shown_at: float = field(default_factory=time.time)

    @classmethod
    def for_object(cls, obj: models.Model, fields: Mapping[str, models.Field], user: Any) -> EditToken:
        vf = version_field(type(obj))
        version = getattr(obj, vf.attname) if vf else None
        return cls(str(obj.pk), str(user), version, dump(snapshot(obj, fields)))

    def sign(self, model: type[models.Model]) -> str:
        payload = {"pk": self.pk, "u": self.user, "v": self.version, "t": int(self.shown_at),
                   "b": self.base, "i": self.inlines, "s": self.seen}
        return sign(payload, _salt("edit", model))

    @classmethod
    def read(cls, model: type[models.Model], raw: str, pk: Any, user: Any) -> EditToken:
        """Verify and decode: :class:`BadEditToken` (HTTP 400) unless intact, fresh, for ``pk`` and ``user``."""
        payload = _open(raw, _salt("edit", model), TOKEN, user)
        if str(payload.get("pk")) != str(pk):
            raise BadEditToken("This token belongs to another object. Reload the page.", param=TOKEN)
        try:
            return cls(str(payload["pk"]), str(payload["u"]), payload["v"], dict(payload["b"]),
                       dict(payload.get("i", {})), dict(payload.get("s", {})), float(payload["t"]))
        except _MALFORMED:
            raise BadEditToken("This token is malformed. Reload the page.", param=TOKEN) from None


@dataclass
class PageToken:
    """What one changelist page showed: per row ``[version, keyed digest, list_editable values]``."""

    user: str
    rows: dict[str, list]
    hashed: list[str]
    shown_at: float = field(default_factory=time.time)

    @classmethod
    def for_rows(
        cls, model: type[models.Model], rows: Iterable[models.Model], editable: Iterable[str], user: Any
    ) -> PageToken:
        vf = version_field(model)
        editable_map = editable_fields(model, editable)
        salt = _salt("page", model)
        out: dict[str, list] = {}
        hashed: list[str] | None = None
        for row in rows:
            if hashed is None:
                deferred = row.get_deferred_fields()
                shown = [f for f in model._meta.concrete_fields if f.attname not in deferred]
                hashed = [f.name for f in shown]
                attnames = [f.attname for f in shown]
                digest = values_digester(salt)
            out[str(row.pk)] = [
                getattr(row, vf.attname) if vf else None,
                digest([getattr(row, attname) for attname in attnames]),
                dump(snapshot(row, editable_map)) if editable_map else {},
            ]
        return cls(str(user), out, hashed or [])

    def digest(self, model: type[models.Model], values: Mapping[str, Any]) -> str:
        return row_digest(values, self.hashed, _salt("page", model))

    def sign(self, model: type[models.Model]) -> str:
        payload = {"u": self.user, "r": self.rows, "h": self.hashed, "t": int(self.shown_at)}
        return sign(payload, _salt("page", model))

    @classmethod
    def read(cls, model: type[models.Model], raw: str, user: Any) -> PageToken:
        payload = _open(raw, _salt("page", model), PAGE_TOKEN, user)
        try:
            rows = {str(pk): [v, str(h), dict(b)] for pk, (v, h, b) in payload["r"].items()}
            return cls(str(payload["u"]), rows, [str(n) for n in payload["h"]], float(payload["t"]))
        except _MALFORMED:
            raise BadEditToken("This page token is malformed. Reload the page.", param=PAGE_TOKEN) from None
