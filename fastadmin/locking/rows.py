"""Reading the row(s) a save is about to write, locked ``FOR UPDATE`` in the save's transaction.

The lock is what makes the merge safe for versioned and versionless models alike: between the read
and ``save(update_fields=...)`` nobody else can write the row, whatever path they write through
(``save(update_fields=[...])`` without the version, ``QuerySet.update()``, raw SQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, router, transaction

from ..fields import version_field
from .values import StaleVersion, update_fields_for


def read_current(
    model: type[models.Model], pk: Any, fields: Mapping[str, models.Field], using: str, lock: bool = True
) -> tuple[dict[str, Any], int | None] | None:
    """The row's current values (and version) by field name, locked ``FOR UPDATE``; None if deleted."""
    rows = lock_rows(model, [pk], fields, using, lock=lock)
    return rows.get(pk)


def lock_rows(
    model: type[models.Model],
    pks: Iterable[Any],
    fields: Mapping[str, models.Field],
    using: str,
    lock: bool = True,
    allowed: models.QuerySet | None = None,
) -> dict[Any, tuple[dict[str, Any], int | None]]:
    """One ``SELECT ... FOR UPDATE`` of ``pks``: ``{pk: (values by field name, version)}``.

    ``allowed`` (the admin's queryset) narrows the rows by pk subquery: ``FOR UPDATE`` itself would be
    refused on a ``get_queryset()`` with DISTINCT or aggregates. Rows are locked in pk order.
    """
    vf = version_field(model)
    attnames = ["pk", *(f.attname for f in fields.values()), *([vf.attname] if vf else [])]
    qs = model._base_manager.using(using).filter(pk__in=list(pks))
    if allowed is not None:
        qs = qs.filter(pk__in=allowed.values("pk"))
    if lock:
        qs = qs.select_for_update()
    out = {}
    for row in qs.order_by("pk").values(*dict.fromkeys(attnames)):
        values = {name: row[f.attname] for name, f in fields.items()}
        out[row["pk"]] = (values, row[vf.attname] if vf else None)
    return out


def save_versioned(
    obj: models.Model,
    update_fields: Iterable[str] | None = None,
    *,
    expected: int | None = None,
    using: str | None = None,
) -> None:
    """Save ``obj`` only if its row is still at version ``expected`` (default: the version it was loaded with).

    The model-level API for code outside the admin: locks the row, compares the version, then runs
    ``obj.save(update_fields=...)`` (``Model.save()`` and its signals run once; the version and
    ``auto_now`` columns are added). Raises :class:`StaleVersion`, having written nothing, otherwise.
    """
    model = type(obj)
    vf = version_field(model)
    if vf is None:
        raise TypeError(f"{model._meta.label} has no VersionField; use save(update_fields=...).")
    using = using or router.db_for_write(model, instance=obj)
    expected = getattr(obj, vf.attname) if expected is None else expected
    if update_fields is None:
        update_fields = [f.name for f in model._meta.concrete_fields if not f.primary_key and f is not vf]
    with transaction.atomic(using=using):
        current = model._base_manager.using(using).select_for_update().filter(pk=obj.pk)
        version = current.values_list(vf.attname, flat=True).first()
        if version != expected:
            raise StaleVersion(f"{model._meta.label} {obj.pk}: the row is no longer at version {expected}.")
        setattr(obj, vf.attname, expected)
        obj.save(using=using, update_fields=update_fields_for(model, update_fields))
        setattr(obj, vf.attname, expected + 1)
