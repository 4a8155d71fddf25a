"""What a Meilisearch index holds for a model, derived once from its ModelAdmin.

* searchable attributes: the ``search_fields`` paths (``customer__name``: FK paths followed);
* filterable attributes: the ``list_filter`` entries that name a field path (plus ``pk``);
* sortable attributes: the sortable ``list_display`` columns and the admin's ordering;
* the document id is the primary key, under the attribute ``pk`` (set explicitly at index creation).

Documents hold only those attributes, nothing else of the row. A document crossing a relation is
stale when the related row changes: :attr:`IndexSpec.dependencies` lists those relations so the
outbox can mark the dependent rows (see :mod:`fastadmin.search_index.outbox`).
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.contrib.admin import ModelAdmin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP

from .fields import LOOKUP, resolve
from .sidecar import resolve_backend

PRIMARY_KEY = "pk"


@dataclass(frozen=True)
class Dependency:
    """Rows of ``model`` read through ``path`` (``Order`` reads ``Customer`` through ``customer``)."""

    related_model: type[models.Model]
    path: str
    #: True when the relation is not a forward FK of ``model``: moving the related row also
    #: changes which documents read it, so the old ones are marked too (before the save).
    reverse: bool
    #: True when documents hold only the related row's key (``list_filter = ["customer"]``): only
    #: its deletion (``SET_NULL`` updates rows without signals) changes them.
    delete_only: bool = False


@dataclass(frozen=True)
class IndexSpec:
    model: type[models.Model]
    searchable: tuple[str, ...]
    filterable: tuple[str, ...]
    sortable: tuple[str, ...]
    dependencies: tuple[Dependency, ...] = field(default=())

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.searchable, *self.filterable, *self.sortable]))

    def settings(self) -> dict[str, Any]:
        """The index settings; applied before the first import and compared before every drain.

        The primary key is sortable too: it ends every changelist ordering (the tie-break), so a
        sorted search asks Meilisearch for the same total order PostgreSQL would use."""
        from .sidecar import max_total_hits

        return {
            "searchableAttributes": list(self.searchable),
            "filterableAttributes": sorted({PRIMARY_KEY, *self.filterable}),
            "sortableAttributes": sorted({PRIMARY_KEY, *self.sortable}),
            "pagination": {"maxTotalHits": max_total_hits()},
        }

    def documents(self, pks: list[Any], using: str | None = None) -> list[dict[str, Any]]:
        """Current documents of the rows among ``pks`` that exist (a missing pk is a delete).

        One query; a path through a multi-valued relation yields a list of its distinct values.
        """
        manager = self.model._base_manager.db_manager(using)
        rows = manager.filter(pk__in=pks).order_by("pk").values_list("pk", *self.attributes)
        docs: dict[Any, dict[str, Any]] = {}
        for pk, *values in rows:
            doc = docs.setdefault(pk, {PRIMARY_KEY: document_id(pk)})
            for name, value in zip(self.attributes, values, strict=True):
                value = to_json(value)
                if name not in doc:
                    doc[name] = value
                elif value is not None:
                    current = doc[name] if isinstance(doc[name], list) else [doc[name]]
                    doc[name] = [v for v in current if v is not None]
                    if value not in doc[name]:
                        doc[name].append(value)
        return list(docs.values())


def document_id(pk: Any) -> str | int:
    return pk if isinstance(pk, int) else str(pk)


def to_json(value: Any) -> Any:
    """A value Meilisearch can filter and sort: datetimes as epoch seconds, decimals as floats."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID | datetime.timedelta):
        return str(value)
    return value


def _field_path(model: type[models.Model], path: str) -> str | None:
    """``path`` if it names a concrete value through forward/reverse relations, else None."""
    try:
        search_field = resolve(model, path)
    except FieldDoesNotExist:
        return None
    if search_field.mode == LOOKUP or search_field.field is None:
        return None
    return search_field.path


def build_spec(model_admin: ModelAdmin) -> IndexSpec:
    """The index of ``model_admin``'s model, from its declarative options (no request)."""
    model = model_admin.model
    searchable = []
    for spec in model_admin.search_fields or ():
        path = _field_path(model, str(spec).lstrip("^=@"))
        if path:
            searchable.append(path)
    filterable = []
    for entry in model_admin.list_filter or ():
        name = entry[0] if isinstance(entry, list | tuple) else entry
        if isinstance(name, str) and (path := _field_path(model, name)):
            filterable.append(path)
    sortable = []
    for name in [*(model_admin.list_display or ()), *(model_admin.ordering or model._meta.ordering or ())]:
        if callable(name):
            name = getattr(name, "admin_order_field", None)
        elif isinstance(name, str) and not _field_path(model, name.lstrip("-")):
            attr = getattr(model_admin, name, None) or getattr(model, name, None)
            name = getattr(attr, "admin_order_field", None)
        if isinstance(name, str) and (path := _field_path(model, name.lstrip("-"))):
            sortable.append(path)
    return IndexSpec(
        model,
        tuple(dict.fromkeys(searchable)),
        tuple(dict.fromkeys(filterable)),
        tuple(dict.fromkeys(sortable)),
        _dependencies(model, [*searchable, *filterable, *sortable]),
    )


def _dependencies(model: type[models.Model], paths: list[str]) -> tuple[Dependency, ...]:
    out: dict[tuple[type[models.Model], str], Dependency] = {}
    for path in paths:
        opts = model._meta
        parts = path.split(LOOKUP_SEP)
        for index, part in enumerate(parts[:-1]):
            relation = opts.get_field(part)
            prefix = LOOKUP_SEP.join(parts[: index + 1])
            related = relation.related_model
            reverse = not (relation.many_to_one or relation.one_to_one) or not relation.concrete
            out[(related, prefix)] = Dependency(related, prefix, reverse)
            opts = related._meta
        last = opts.get_field(parts[-1])
        if last.is_relation and last.concrete and (last.many_to_one or last.one_to_one):
            out.setdefault((last.related_model, path), Dependency(last.related_model, path, False, delete_only=True))
    return tuple(out.values())


def uses_meilisearch(model_admin: Any) -> bool:
    from fastadmin.conf import fa_settings

    backend = getattr(model_admin, "search_backend", None) or fa_settings.SEARCH_BACKEND
    try:
        cls = resolve_backend(backend)
    except ImportError:
        return False  # fastadmin.E102
    from .meili import MeilisearchBackend

    return isinstance(cls, type) and issubclass(cls, MeilisearchBackend) and bool(model_admin.search_fields)


@cache
def registry() -> dict[str, IndexSpec]:
    """``label_lower -> IndexSpec`` for every fastadmin ModelAdmin searching through Meilisearch.

    The first such admin of a model defines its index. Cleared when settings change.
    """
    from .plan import fastadmin_model_admins
    from .sidecar import enabled

    if not enabled():
        return {}
    specs: dict[str, IndexSpec] = {}
    for model_admin in fastadmin_model_admins():
        if uses_meilisearch(model_admin):
            specs.setdefault(model_admin.model._meta.label_lower, build_spec(model_admin))
    return specs


def spec_for(model: type[models.Model]) -> IndexSpec | None:
    return registry().get(model._meta.label_lower)


__all__ = ["Dependency", "IndexSpec", "build_spec", "registry", "spec_for"]
