"""A schema-safe cache of model instances over Django's cache framework.

Why "schema-safe": a pickled instance is only valid for the code that pickled it. During a rolling
deploy that adds, drops or retypes a column, old and new processes share one cache; an instance
pickled by the old code would lazy-load the new field per instance in the new code, or select a
dropped column (``ProgrammingError``) after a refresh. Every key therefore carries a
:func:`fingerprint` of the model's schema (table, field names, columns, database types, Django's
major version), so each code version only ever reads the pickles it wrote itself. Keys also carry
the database alias: the same primary key on two databases is two rows.

API::

    fastadmin.cache.get_object(Customer, 42)         # cache, else the database (then cached)
    fastadmin.cache.get_many(Customer, [1, 2, 3])    # {pk: instance}, one cache round trip + one query
    fastadmin.cache.get_many(Customer, [1], queryset=admin.get_queryset(request))  # misses read there
    fastadmin.cache.invalidate(Customer, [42])       # on commit of the current transaction

Misses are read through the queryset the caller passes, else the model's default manager (never
``_base_manager``, which would serve rows a soft-delete manager hides). The cache is shared per
model, so that queryset must not hide rows the default manager shows: fastadmin's admin passes its
``get_queryset`` only when the project doesn't override it (``fastadmin.W202``).

Models read through this module are invalidated on ``post_save``/``post_delete`` (on commit) of the
model, its proxies and its multi-table inheritance relatives (parents, children, siblings: the models
whose primary key is the same value through parent links). Writes that send no signals
(``QuerySet.update``) must call :func:`invalidate`; fastadmin's own bulk paths do. Known limits: a
reader that missed and read the row just before a concurrent commit may store the old row after that
commit's invalidation, for at most ``OBJECT_CACHE_TIMEOUT``; invalidation drops the keys of the
written database and the model's read databases (``router.db_for_read``, ``READ_DATABASE``), not of
aliases a caller named explicitly elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import django
from django.apps import apps
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.db import connections, models, router, transaction
from django.db.models.signals import post_delete, post_save

from .conf import fa_settings
from .guards import read_alias

#: Bump when the key layout or the pickled payload changes.
CACHE_FORMAT = 2

_fingerprints: dict[tuple[type[models.Model], str], str] = {}
#: label -> model of every model read through this module, and the labels of their inheritance roots
#: (labels, not classes: migration states and reloaded apps build other classes for the same model).
_registered: dict[str, type[models.Model]] = {}
_roots: set[str] = set()


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
    using = using or router.db_for_read(model)
    return f"fastadmin:obj:{model._meta.label_lower}:{using}:{fingerprint(model, using)}:{_pk(model, pk)}"


def get_object(
    model: type[models.Model], pk: Any, *, using: str | None = None, queryset: models.QuerySet | None = None
) -> models.Model:
    """The instance with primary key ``pk``: from the cache, else from the database (then cached).

    Raises ``model.DoesNotExist`` like ``objects.get()``; ``ValidationError`` for a malformed pk.
    """
    found = get_many(model, [pk], using=using, queryset=queryset)
    try:
        return next(iter(found.values()))
    except StopIteration:
        raise model.DoesNotExist(f"{model._meta.object_name} matching pk={pk!r} does not exist.") from None


def get_many(
    model: type[models.Model],
    pks: Iterable[Any],
    *,
    using: str | None = None,
    queryset: models.QuerySet | None = None,
) -> dict[Any, models.Model]:
    """``{pk: instance}`` for the ``pks`` that exist; misses are read in one query and cached.

    Misses are read through ``queryset`` (e.g. the ModelAdmin's ``get_queryset(request)``), else
    ``model._default_manager``; on ``using``, else the queryset's database.
    """
    register(model)
    if queryset is None:
        queryset = model._default_manager.all()
    if using:
        queryset = queryset.using(using)
    using = queryset.db
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
        fresh = {obj.pk: obj for obj in queryset.filter(pk__in=missing)}
        if fresh:
            cache.set_many(
                {cache_key(model, pk, using): obj for pk, obj in fresh.items()},
                timeout=fa_settings.OBJECT_CACHE_TIMEOUT,
            )
        found.update(fresh)
    return {pk: found[pk] for pk in pks if pk in found}


def inheritance_root(model: type[models.Model]) -> type[models.Model]:
    """The concrete model at the top of ``model``'s primary-key parent links: every model with the
    same root stores a row's data under the same primary key value (proxies, MTI parents and children)."""
    model = model._meta.concrete_model
    pk = model._meta.pk
    while pk.remote_field is not None and pk.remote_field.parent_link:
        model = pk.remote_field.model._meta.concrete_model
        pk = model._meta.pk
    return model


def related_cached_models(model: type[models.Model]) -> list[type[models.Model]]:
    """The registered models whose cached copies a write to ``model`` makes stale."""
    root = _root_label(model)
    return [other for other in _registered.values() if _root_label(other) == root]


def invalidate(model: type[models.Model], pks: Iterable[Any], *, using: str | None = None) -> None:
    """Drop the cached instances (of ``model`` and its proxies and MTI relatives) with these primary
    keys when the current transaction commits (at once outside one)."""
    db = using or router.db_for_write(model)
    pks = list(pks)
    keys = [
        cache_key(other, pk, alias)
        for other in related_cached_models(model)
        for alias in {db, router.db_for_read(other), read_alias(other)}
        for pk in pks
    ]
    if keys:
        transaction.on_commit(lambda: backend().delete_many(keys), using=db)


def register(model: type[models.Model]) -> None:
    """Invalidate ``model``'s cached instances on every ``post_save``/``post_delete`` of it, its
    proxies and its MTI relatives (idempotent)."""
    label = model._meta.label_lower
    if label in _registered:
        return
    _registered[label] = model
    _roots.add(_root_label(model))
    # A proxy or an MTI relative sends the signal under its own class, so each sharing model gets the
    # receiver; never every sender: a model with delete receivers loses Django's fast delete.
    root = _root_label(model)
    for other in {model, *(m for m in apps.get_models() if _root_label(m) == root)}:
        uid = other._meta.label_lower
        post_save.connect(_on_change, sender=other, weak=False, dispatch_uid=f"fastadmin.cache.save:{uid}")
        post_delete.connect(_on_change, sender=other, weak=False, dispatch_uid=f"fastadmin.cache.delete:{uid}")


def is_registered(model: type[models.Model]) -> bool:
    """True when writes to ``model`` may leave stale cached copies (of it or of a relative)."""
    return _root_label(model) in _roots


def _root_label(model: type[models.Model]) -> str:
    return inheritance_root(model)._meta.label_lower


def _on_change(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    if _root_label(sender) in _roots:
        invalidate(sender, [instance.pk], using=using)
