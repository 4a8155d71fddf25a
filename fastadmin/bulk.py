"""Bulk actions as one ``UPDATE ... WHERE`` with ``F()`` expressions, never a load-modify-save loop.

A load-modify-save loop costs two queries per row and writes back every column it loaded, undoing
concurrent edits of other columns. :func:`update_rows` is a single statement that also bumps a
:class:`~fastadmin.fields.VersionField` (so open forms see the change) and drops cached instances::

    class OrderAdmin(fastadmin.ModelAdmin):
        actions = [fastadmin.update_action("Mark as shipped", status="shipped"),
                   fastadmin.update_action("Raise priority", priority=F("priority") + 1)]

Inside fastadmin's action guard the queryset already excludes rows changed since the page was shown
and, for versioned models, filters on the versions shown: the UPDATE is a compare-and-set.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin import action
from django.db import router, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import ngettext

from . import cache as object_cache
from . import search_index  # mark_dirty resolves lazily (it needs the app registry)
from .fields import version_field
from .jobs.strategies import UpdateRows, marked


def update_rows(queryset: QuerySet, **values: Any) -> int:
    """``queryset.update(**values)`` plus ``version + 1`` and ``auto_now`` columns; returns the row count."""
    model = queryset.model
    vf = version_field(model)
    if vf is not None:
        values.setdefault(vf.attname, F(vf.attname) + 1)
    for f in model._meta.concrete_fields:
        if getattr(f, "auto_now", False):
            values.setdefault(f.attname, timezone.now())
    # A changelist's queryset may read a replica (READ_DATABASE): the UPDATE goes to the primary.
    queryset = queryset.using(router.db_for_write(model))
    with transaction.atomic(using=queryset.db):
        # Before the UPDATE: it may change which rows the queryset's filter selects.
        search_index.mark_dirty(queryset)
        if object_cache.is_registered(model):
            pks = list(queryset.values_list("pk", flat=True))
            object_cache.invalidate(model, pks, using=queryset.db)
            queryset = model._base_manager.using(queryset.db).filter(pk__in=pks)
        return queryset.update(**values)


def update_action(description: str, *, permissions: tuple[str, ...] = ("change",), **values: Any):
    """An admin action that sets ``values`` (constants or ``F()`` expressions) on the selected rows."""

    def run(modeladmin, request, queryset):
        from . import jobs  # a selection over BACKGROUND_ACTION_THRESHOLD rows becomes a job

        if (size := jobs.wants_background(modeladmin, request, queryset)) is not None:
            return jobs.start_job(modeladmin, request, queryset, jobs.UpdateRows(values), size)
        count = update_rows(queryset, **values)
        opts = modeladmin.model._meta
        name = opts.verbose_name if count == 1 else opts.verbose_name_plural
        modeladmin.message_user(
            request,
            ngettext("%(count)d %(name)s updated.", "%(count)d %(name)s updated.", count)
            % {"count": count, "name": name},
            messages.SUCCESS,
        )

    run.__name__ = run.__qualname__ = "update_" + slugify(description).replace("-", "_")
    run = marked(UpdateRows(values))(run)  # what the worker runs per chunk (fastadmin.jobs)
    return action(description=description, permissions=list(permissions))(run)
