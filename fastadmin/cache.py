"""A schema-safe cache of model instances over Django's cache framework.

Why "schema-safe": a pickled instance is only valid for the code that pickled it. During a rolling
deploy that adds, drops or retypes a column, old and new processes share one cache; an instance
pickled by the old code would lazy-load the new field per instance in the new code, or select a
dropped column (``ProgrammingError``) after a refresh. Every key therefore carries a
:func:`fingerprint` of the model's schema (table, field names, columns, database types, Django's
major version), so each code version only ever reads the pickles it wrote itself.

API::

    fastadmin.cache.get_object(Customer, 42)         # cache, else the database (then cached)
    fastadmin.cache.get_many(Customer, [1, 2, 3])    # {pk: instance}, one cache round trip + one query
    fastadmin.cache.invalidate(Customer, [42])       # on commit of the current transaction

Models read through this module are invalidated on ``post_save``/``post_delete`` (on commit).
Writes that send no signals (``QuerySet.update``) must call :func:`invalidate`; fastadmin's own
bulk paths do. Known limit: a reader that missed and read the row just before a concurrent commit
may store the old row after that commit's invalidation; it lives at most ``OBJECT_CACHE_TIMEOUT``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import django
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.db import connections, models, router, transaction
from django.db.models.signals import post_delete, post_save

from .conf import fa_settings

#: Bump when the key layout or the pickled payload changes.
CACHE_FORMAT = 1

_fingerprints: dict[tuple[type[models.Model], str], str] = {}
_registered: set[str] = set()


def backend() -> BaseCache:
    return caches[fa_settings.OBJECT_CACHE_ALIAS]


def fingerprint(model: type[models.Model], using: str | None = None) -> str:
    """A short digest of the model's schema as this code sees it: table, and per concrete field its
    name, attname, column, internal and database type and nullability."""
    using = using or router.db_for_read(model)
    key = (model, using)
    if key not in _fingerprints:
        connection = connections[using]
        schema = [
            CACHE_FORMAT,
            list(django.VERSION[:2]),
            model._meta.label_lower,
            model._meta.db_table,
            [
                [f.name, f.attname, f.column, f.get_internal_type(), f.db_type(connection), f.null]
                for f in model._meta.concrete_fields
            ],
        ]
        digest = hashlib.sha256(json.dumps(schema, default=str).encode()).hexdigest()
        _fingerprints[key] = digest[:16]
    return _fingerprints[key]


def _pk(model: type[models.Model], pk: Any) -> str:
    return str(model._meta.pk.to_python(pk))


def cache_key(model: type[models.Model], pk: Any, using: str | None = None) -> str:
    return f"fastadmin:obj:{model._meta.label_lower}:{fingerprint(model, using)}:{_pk(model, pk)}"


def get_object(model: type[models.Model], pk: Any, *, using: str | None = None) -> models.Model:
    """The instance with primary key ``pk``: from the cache, else from the database (then cached).

    Raises ``model.DoesNotExist`` like ``objects.get()``; ``ValidationError`` for a malformed pk.
    """
    found = get_many(model, [pk], using=using)
    try:
        return next(iter(found.values()))
    except StopIteration:
        raise model.DoesNotExist(f"{model._meta.object_name} matching pk={pk!r} does not exist.") from None


def get_many(
    model: type[models.Model], pks: Iterable[Any], *, using: str | None = None
) -> dict[Any, models.Model]:
    """``{pk: instance}`` for the ``pks`` that exist; misses are read in one query and cached."""
    register(model)
    using = using or router.db_for_read(model)
    pks = [model._meta.pk.to_python(pk) for pk in pks]
    keys = {cache_key(model, pk, using): pk for pk in pks}
    cache = backend()
    hits = cache.get_many(list(keys))
    found: dict[Any, models.Model] = {}
    for key, obj in hits.items():
        # Unpickling resolves the class by label, so compare labels (migration-state models differ).
        if getattr(getattr(obj, "_meta", None), "label_lower", None) == model._meta.label_lower:
            found[keys[key]] = obj
    missing = [pk for pk in pks if pk not in found]
    if missing:
        rows = model._base_manager.using(using).filter(pk__in=missing)
        fresh = {obj.pk: obj for obj in rows}
        if fresh:
            cache.set_many(
                {cache_key(model, pk, using): obj for pk, obj in fresh.items()},
                timeout=fa_settings.OBJECT_CACHE_TIMEOUT,
            )
        found.update(fresh)
    return {pk: found[pk] for pk in pks if pk in found}


def invalidate(model: type[models.Model], pks: Iterable[Any], *, using: str | None = None) -> None:
    """Drop the cached instances when the current transaction commits (at once outside one)."""
    db = using or router.db_for_write(model)
    keys = [cache_key(model, pk, router.db_for_read(model)) for pk in pks]
    if keys:
        transaction.on_commit(lambda: backend().delete_many(keys), using=db)


def register(model: type[models.Model]) -> None:
    """Invalidate ``model``'s cached instances on every ``post_save``/``post_delete`` (idempotent)."""
    label = model._meta.label_lower
    if label in _registered:
        return
    _registered.add(label)
    concrete = model._meta.concrete_model
    post_save.connect(_on_change, sender=concrete, weak=False, dispatch_uid=f"fastadmin.cache.save:{label}")
    post_delete.connect(
        _on_change, sender=concrete, weak=False, dispatch_uid=f"fastadmin.cache.delete:{label}"
    )


def is_registered(model: type[models.Model]) -> bool:
    return model._meta.label_lower in _registered


def _on_change(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    invalidate(sender, [instance.pk], using=using)
