"""Deleting a large selection: what it cascades to, what stops it, and running it all-or-nothing.

Stock ``delete_selected`` asks Django's collector, which loads every object the delete will touch (one
query per related model per batch of objects) before the confirmation page shows. For a selection of
millions of rows fastadmin reasons about *models* instead, each step bounded by the schema:

* :func:`cascade_models` walks the models whose rows go with the selection: ``CASCADE`` relations,
  recursively (auto-created many-to-many through tables included, as the collector deletes their rows),
  multi-table-inheritance parents and ``GenericRelation`` targets. :func:`lacking_delete_permissions`
  then asks each model's admin on the same site ``has_delete_permission(request)``, as
  ``django.contrib.admin.utils.get_deleted_objects`` does per object (unregistered models are not
  checked, as there).
* :func:`protected_sample` finds rows that ``PROTECT`` (or ``RESTRICT``, from a model the delete does
  not reach) the rows to delete: one ``LIMIT``-ed query per protecting relation and cascade path, at
  most :data:`MAX_PATHS` paths. Paths that revisit a model (a self-referencing cascade) are cut; what
  this pre-check misses the collector still finds during the delete (see below).
* :func:`delete_in_chunks` deletes in primary-key chunks of :data:`CHUNK_SIZE` rows, each through the
  admin's own ``log_deletions`` and ``delete_queryset`` (so a project's overrides run), all inside
  **one transaction**. A failure anywhere (``ProtectedError``/``RestrictedError`` from the collector, a
  deferred foreign-key violation, a signal receiver raising) rolls back every chunk and its log
  entries: the rows are either all deleted or all still there, never a silent half. One transaction
  was chosen over per-chunk commits because a partial delete can't be reported reliably (the request
  may die with the failure) and a retry of "the rest" would need the selection again; the cost is that
  the deleted rows stay locked until the end, which a delete of that size takes anyway.

Limits: permissions are checked per model, not per object (``has_delete_permission(request)`` without
``obj``); a ``RESTRICT`` reference from a model the delete also reaches is left to the collector, which
sees one chunk at a time and may refuse where stock (one collector for everything) would not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.admin import AdminSite
from django.contrib.admin.utils import quote
from django.db import connections, models, transaction
from django.db.models.deletion import get_candidate_relations_to_delete
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

#: Rows deleted per ``delete_queryset`` call (each chunk's objects are collected by Django's collector).
CHUNK_SIZE = 1_000
#: Most cascade paths whose protecting relations are pre-checked before a delete.
MAX_PATHS = 50

# Django 6.1 adds database-level on_delete handlers; rows they reach are deleted all the same.
CASCADING = tuple(h for h in (models.CASCADE, getattr(models, "DB_CASCADE", None)) if h is not None)


def deleted_with(model: type[models.Model]) -> Iterator[type[models.Model]]:
    """Models some of whose rows a delete of ``model``'s rows deletes directly."""
    opts = model._meta
    for relation in get_candidate_relations_to_delete(opts):
        if relation.on_delete in CASCADING:
            yield relation.related_model
    for field in opts.concrete_fields:  # multi-table inheritance: the parent's row goes too
        if field.one_to_one and field.remote_field.parent_link:
            yield field.related_model
    for field in opts.private_fields:  # GenericRelation: the collector deletes the tagged rows
        if hasattr(field, "bulk_related_objects"):
            yield field.related_model


def cascade_models(model: type[models.Model]) -> list[type[models.Model]]:
    """``model`` and every model reachable from it by :func:`deleted_with`, breadth first."""
    found = [model]
    for current in found:  # grows while iterating: a breadth-first walk over models, never objects
        for child in deleted_with(current):
            if child not in found:
                found.append(child)
    return found


def lacking_delete_permissions(site: AdminSite, request: HttpRequest, deleted: list[type[models.Model]]) -> list[str]:
    """Verbose names of the models in ``deleted`` whose admin on ``site`` refuses ``request`` deletion."""
    lacking = []
    for model in deleted:
        if site.is_registered(model) and not site.get_model_admin(model).has_delete_permission(request):
            lacking.append(str(model._meta.verbose_name))
    return sorted(set(lacking))


@dataclass(frozen=True)
class CascadePath:
    """Rows of ``model`` deleted through one chain of ``CASCADE`` relations from the selection."""

    model: type[models.Model]
    rows: models.QuerySet
    seen: tuple[type[models.Model], ...]


def cascade_paths(queryset: models.QuerySet, limit: int = MAX_PATHS) -> Iterator[CascadePath]:
    """The selection, then each model its cascades reach with a (nested ``IN``) query of the rows."""
    model = queryset.model
    pending = [CascadePath(model, queryset.order_by(), (model,))]
    produced = 0
    while pending and produced < limit:
        path = pending.pop(0)
        produced += 1
        yield path
        for relation in get_candidate_relations_to_delete(path.model._meta):
            child = relation.related_model
            if relation.on_delete not in CASCADING or child in path.seen:
                continue
            field = relation.field
            rows = child._base_manager.using(queryset.db).filter(
                **{f"{field.name}__in": path.rows.values(field.target_field.attname)}
            )
            pending.append(CascadePath(child, rows, (*path.seen, child)))


def protected_sample(queryset: models.QuerySet, limit: int) -> list[models.Model]:
    """Up to ``limit`` rows that would stop deleting ``queryset`` (``PROTECT``, or ``RESTRICT`` from a
    model the delete does not reach); an empty list when the pre-check finds none."""
    reached = set(cascade_models(queryset.model))
    found: list[models.Model] = []
    for path in cascade_paths(queryset):
        for relation in get_candidate_relations_to_delete(path.model._meta):
            stops = relation.on_delete is models.PROTECT or (
                relation.on_delete is models.RESTRICT and relation.related_model not in reached
            )
            if not stops:
                continue
            field = relation.field
            referencing = relation.related_model._base_manager.using(queryset.db).filter(
                **{f"{field.name}__in": path.rows.values(field.target_field.attname)}
            )
            found += referencing[: limit - len(found)]
            if len(found) >= limit:
                return found
    return found


def describe(site: AdminSite, obj: models.Model) -> str:
    """``"Verbose name: obj"``, linked to its change page when ``site`` serves it (as stock lists them)."""
    opts = obj._meta
    label = capfirst(opts.verbose_name)
    if site.is_registered(type(obj)):
        try:
            url = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_change", args=(quote(obj.pk),))
        except NoReverseMatch:
            pass
        else:
            return format_html('{}: <a href="{}">{}</a>', label, url, obj)
    return format_html("{}: {}", label, obj)


def delete_in_chunks(modeladmin, request: HttpRequest, queryset: models.QuerySet, chunk_size: int | None = None) -> int:
    """Delete ``queryset``'s rows in primary-key chunks, all in one transaction; the number deleted.

    Each chunk is ``modeladmin.get_queryset(request)`` narrowed to its keys (the admin's own QuerySet
    class, so a project's ``QuerySet.delete`` runs) and goes through ``log_deletions`` and
    ``delete_queryset``. Deferred foreign-key constraints are checked before the transaction ends, so
    a violation rolls everything back here rather than at a later commit.
    """
    using = queryset.db
    chunk_size = chunk_size or CHUNK_SIZE
    selection = queryset.order_by("pk").values_list("pk", flat=True)
    base = modeladmin.get_queryset(request).using(using).order_by()
    deleted, last = 0, None
    with transaction.atomic(using=using):
        while True:
            window = selection if last is None else selection.filter(pk__gt=last)
            pks = list(window[:chunk_size])
            if not pks:
                break
            chunk = base.filter(pk__in=pks)
            modeladmin.log_deletions(request, chunk)
            modeladmin.delete_queryset(request, chunk)
            deleted += len(pks)
            last = pks[-1]
        connection = connections[using]
        if connection.vendor == "postgresql":
            connection.check_constraints()  # SET CONSTRAINTS ALL IMMEDIATE, then back to DEFERRED
    return deleted
