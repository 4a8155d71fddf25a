"""Site-wide actions that scale: ``delete_selected`` without a collector walk over millions of rows.

Stock ``delete_selected`` builds the full tree of objects to delete (one query per related model per
batch of objects) before it shows the confirmation page. For a selection above the counter's exact
threshold fastadmin shows a bounded preview instead: the estimated number of rows, the first few, and
which related models would be deleted with them; the deletion then runs in primary-key chunks, each in
its own transaction, with one admin log entry per deleted object (``ModelAdmin.log_deletions``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected as stock_delete_selected
from django.contrib.admin.decorators import action
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import PermissionDenied
from django.db import models, router, transaction
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .conf import fa_settings

CHUNK_SIZE = 1_000


def cascades(model: type[models.Model]) -> list[type[models.Model]]:
    """Models whose rows are deleted along with ``model``'s (CASCADE), without counting them."""
    found = []
    for relation in model._meta.related_objects:
        on_delete = getattr(relation, "on_delete", None)
        if on_delete is models.CASCADE and relation.related_model not in found:
            found.append(relation.related_model)
    return found


@action(permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s"))
def delete_selected(modeladmin, request, queryset):
    """Stock behaviour for small selections; a bounded confirmation and chunked delete for large ones."""
    count = modeladmin.get_counter(request).count(queryset)
    if count.exact:
        return stock_delete_selected(modeladmin, request, queryset)

    opts = modeladmin.model._meta
    related = cascades(modeladmin.model)
    perms_lacking = [
        str(m._meta.verbose_name_plural)
        for m in related
        if not request.user.has_perm(f"{m._meta.app_label}.delete_{m._meta.model_name}")
    ]
    if request.POST.get("post"):
        if perms_lacking:
            raise PermissionDenied
        deleted = delete_in_chunks(modeladmin, request, queryset)
        modeladmin.message_user(
            request,
            _("Successfully deleted %(count)d %(items)s.") % {"count": deleted, "items": model_ngettext(opts, deleted)},
            messages.SUCCESS,
        )
        return None

    preview = list(queryset.order_by("pk")[: fa_settings.DELETE_PREVIEW_LIMIT])
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Delete multiple objects"),
        "subtitle": None,
        "objects_name": str(model_ngettext(queryset)),
        "count": count,
        "preview": preview,
        "related": [m._meta.verbose_name_plural for m in related],
        "perms_lacking": perms_lacking,
        "queryset": queryset,
        "opts": opts,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "fastadmin/delete_selected_confirmation.html", context)


def delete_in_chunks(modeladmin, request, queryset) -> int:
    """Delete ``queryset`` in primary-key order, ``CHUNK_SIZE`` rows per transaction."""
    model = queryset.model
    using = router.db_for_write(model)
    base = model._default_manager.using(using)
    selection = queryset.order_by("pk").values_list("pk", flat=True)
    last, deleted = None, 0
    while True:
        window = selection if last is None else selection.filter(pk__gt=last)
        pks = list(window.using(using)[:CHUNK_SIZE])
        if not pks:
            return deleted
        with transaction.atomic(using=using):
            chunk = base.filter(pk__in=pks)
            modeladmin.log_deletions(request, chunk)
            modeladmin.delete_queryset(request, chunk)
        deleted += len(pks)
        last = pks[-1]
