"""``VersionField``: a row version that every save bumps, so code outside the admin can detect stale writes.

The admin itself merges by values under ``SELECT ... FOR UPDATE`` (a write that skipped the version
is still seen) and adds the version to every ``save(update_fields=...)``, so it is bumped on every
admin save path; :func:`fastadmin.update_rows` bumps it too, and
:func:`fastadmin.locking.rows.save_versioned` is a compare-and-set for scripts. Plain ``Model.save()``
calls bump the column as well: :meth:`pre_save` hands Django ``F(version) + 1`` for an UPDATE. That
uses only the public field API (no ``Model._do_update`` override), so it behaves the same on Django
5.2 and 6.x.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F


class VersionField(models.PositiveBigIntegerField):
    """Row version for optimistic locking; not editable in forms; one per model (check E203)."""

    description = "Row version for optimistic locking"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", 1)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("help_text", "Incremented by every save; used to detect concurrent edits.")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") == 1:
            kwargs.pop("default")
        if kwargs.get("editable") is False:
            kwargs.pop("editable")
        kwargs.pop("help_text", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        """INSERT keeps the value; an UPDATE through ``save()`` writes ``version + 1`` in SQL.

        The in-memory value is advanced too, so a second ``save()`` of the same instance keeps bumping.
        (Only an estimate if another writer raced; :func:`~fastadmin.locking.save_versioned` is exact.)
        """
        value = getattr(model_instance, self.attname)
        if add or value is None:
            return value
        setattr(model_instance, self.attname, value + 1)
        return F(self.attname) + 1


def version_field(model: type[models.Model]) -> VersionField | None:
    """The model's :class:`VersionField`, or None for a versionless model."""
    for field in model._meta.concrete_fields:
        if isinstance(field, VersionField):
            return field
    return None
