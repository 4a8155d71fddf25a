"""Signed, JSON-safe tokens: the keyset cursors and the optimistic-locking edit and page tokens.

One key (``FASTADMIN["SIGNING_KEY"]``, default ``SECRET_KEY``) and one lossless value encoding, so a
cursor and an edit token round-trip model values the same way; each kind of token has its own salt.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import uuid
from typing import Any

from django.core import signing
from django.db import models

from .conf import fa_settings


def sign(payload: Any, salt: str) -> str:
    return signing.dumps(payload, key=fa_settings.SIGNING_KEY, salt=salt, compress=True)


def unsign(raw: str, salt: str) -> Any:
    """The payload of ``raw``; raises :class:`django.core.signing.BadSignature` if altered."""
    return signing.loads(raw, key=fa_settings.SIGNING_KEY, salt=salt)


#: Values JSON holds as they are (exact types: a subclass may be one of the types converted below).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _b64(value: bytes | memoryview) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


#: The conversion of each exact type (a page token dumps every value of every shown row, so the
#: common types are one dict lookup, not a chain of ``isinstance``); subclasses go down the chain.
_DUMP: dict[type, Any] = {
    datetime.datetime: datetime.datetime.isoformat,
    datetime.date: datetime.date.isoformat,
    datetime.time: datetime.time.isoformat,
    decimal.Decimal: str,
    uuid.UUID: str,
    datetime.timedelta: datetime.timedelta.total_seconds,
    bytes: _b64,
    memoryview: _b64,
}


def dump_value(value: Any) -> Any:
    """JSON-safe, lossless form of a model value (read back with ``field.to_python``)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    dump = _DUMP.get(kind)
    if dump is not None:
        return dump(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | memoryview):
        return _b64(value)
    if isinstance(value, list | tuple):
        return [dump_value(v) for v in value]
    return value


def load_value(model_field: models.Field, raw: Any) -> Any:
    if raw is None:
        return None
    if model_field.many_to_many:
        return [model_field.related_model._meta.pk.to_python(x) for x in raw]
    if isinstance(model_field, models.DurationField) and isinstance(raw, int | float):
        return datetime.timedelta(seconds=raw)
    return model_field.to_python(raw)


def unsign_fresh(raw: str, salt: str, max_age: float | None) -> Any:
    """Like :func:`unsign`, but a token older than ``max_age`` seconds raises
    :class:`django.core.signing.SignatureExpired` (a ``BadSignature``). ``signing.dumps`` always
    timestamps, so every token made by :func:`sign` can be checked for age."""
    return signing.loads(raw, key=fa_settings.SIGNING_KEY, salt=salt, max_age=max_age)
