"""The site-wide ``delete_selected`` action, for every admin :class:`fastadmin.FastAdminSite` serves.

* **Small selections** (the counter answers an exact number, i.e. under ``EXACT_COUNT_THRESHOLD``) get
  stock's action unchanged: the collector's full list of related objects, its object-level
  permission and ``PROTECT`` checks, its template lookup (``delete_selected_confirmation_template``,
  then ``admin/<app>/<model>/…`` and ``admin/<app>/…``). Only the last fallback is fastadmin's
  template, which renders stock's unchanged and adds the page token to its form (see below).
* **Large selections** get a bounded confirmation: the estimated number of rows, the first
  ``DELETE_PREVIEW_LIMIT`` of them, the models the delete cascades to, and a refusal page listing the
  models the user may not delete or a sample of the rows that ``PROTECT`` the selection. "Yes" deletes
  in chunks, all in one transaction (:mod:`fastadmin.deletion` says why and how).
* **Exactly the selection is confirmed.** The confirmation re-posts what the changelist posted: the
  checked keys, ``select_across`` only if the user chose "select all", and (for an explicit selection)
  the page token ``_fa_page_token``, so the stale-selection guard compares the rows again at "Yes". The
  form posts to the same URL, so the filters and search that produced the selection come along.
* **Refusals** are stock's "cannot delete" page: 200 at the confirmation, and at "Yes" 403 (a model the
  user may not delete) or 409 (rows that protect the selection, found then or by the collector during
  the delete, which then rolls back). A database refusal (a deferred foreign key) rolls back too and
  says "Nothing was deleted" on the changelist.
* **Stock admins too.** Admins without ``get_counter`` (stock ModelAdmins the site adopted, such as
  ``auth.UserAdmin``) count with ``FASTADMIN["COUNTER"]`` (:func:`get_counter`).
"""

from __future__ import annotations

import logging
from itertools import islice

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected as stock_delete_selected
from django.contrib.admin.decorators import action
from django.contrib.admin.utils import model_ngettext
from django.db import IntegrityError, OperationalError, router, transaction
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import jobs
from .conf import fa_settings
from .counting import Count
from .deletion import cascade_models, delete_in_chunks, describe, lacking_delete_permissions, protected_sample
from .guards import is_query_canceled, statement_timeout
from .locking.tokens import PAGE_TOKEN  # the changelist form's page token, re-posted by confirmations

logger = logging.getLogger("fastadmin.actions")

#: Stock's last-resort confirmation template, and fastadmin's copy of it that re-posts the page token.
STOCK_TEMPLATE = "admin/delete_selected_confirmation.html"
SMALL_TEMPLATE = "fastadmin/delete_selected_confirmation_stock.html"
LARGE_TEMPLATE = "fastadmin/delete_selected_confirmation.html"


def get_counter(modeladmin, request: HttpRequest):
    """The admin's counter strategy; ``FASTADMIN["COUNTER"]`` for an admin without ``get_counter``."""
    if hasattr(modeladmin, "get_counter"):
        return modeladmin.get_counter(request)
    return import_string(fa_settings.COUNTER)()


def selected_across(request: HttpRequest) -> bool:
    """Whether the user chose "select all N" (stock's ``ActionForm.select_across``)."""
    return forms.BooleanField(required=False).clean(request.POST.get("select_across"))


def reposted_selection(request: HttpRequest, with_keys: bool = True) -> list[tuple[str, str]]:
    """Hidden fields a confirmation re-posts so that "Yes" acts on exactly what the user selected."""
    fields = [(helpers.ACTION_CHECKBOX_NAME, pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)]
    fields = fields if with_keys else []
    if selected_across(request):
        fields.append(("select_across", "1"))  # rows never shown: no page token to compare them with
    elif request.POST.get(PAGE_TOKEN):
        fields.append((PAGE_TOKEN, request.POST[PAGE_TOKEN]))
    return fields


def bounded_protected_sample(queryset: QuerySet, limit: int) -> list:
    """:func:`~fastadmin.deletion.protected_sample` under ``STATEMENT_TIMEOUT_MS``. A pre-check that runs
    out of time finds nothing: the collector still refuses protected rows during the delete (and then
    the whole transaction is rolled back), so the answer is only later, never wrong."""
    try:
        with statement_timeout(fa_settings.STATEMENT_TIMEOUT_MS, queryset.db):
            return protected_sample(queryset, limit)
    except OperationalError as exc:
        if not is_query_canceled(exc):
            raise
        return []


@jobs.strategies.marked(jobs.DeleteRows())
@action(permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s"))
def delete_selected(modeladmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
    """Stock behaviour for small selections; a bounded confirmation and chunked delete for large ones."""
    count = get_counter(modeladmin, request).count(queryset)
    # The changelist may read from a replica (READ_DATABASE); deleting happens on the model's write alias.
    queryset = queryset.using(router.db_for_write(queryset.model))
    background = jobs.wants_background(modeladmin, request, queryset, count) is not None
    if count.exact and not background:
        return delete_small_selection(modeladmin, request, queryset)
    return delete_large_selection(modeladmin, request, queryset, count, background)


def delete_small_selection(modeladmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
    """Stock's action; its confirmation falls back to stock's template wrapped by fastadmin's, which
    adds the page token to the form (stock's form re-posts each selected key itself, never
    ``select_across``, so with "select all" there is no token: those rows were never shown)."""
    try:
        # One transaction: rows may gain a PROTECT reference between stock's check and its delete, and
        # the collector then refuses after stock logged the deletions; roll back both, show the refusal.
        with transaction.atomic(using=queryset.db):
            response = stock_delete_selected(modeladmin, request, queryset)
    except (ProtectedError, RestrictedError) as exc:
        count = Count(queryset.count(), exact=True)  # the small path: an exact count is cheap
        deleted_models = cascade_models(modeladmin.model)
        return confirmation_page(modeladmin, request, queryset, count, deleted_models, [], stopping_rows(exc), True)
    if isinstance(response, TemplateResponse) and not response.is_rendered:
        response.context_data["fastadmin_repost"] = reposted_selection(request, with_keys=False)
        if isinstance(response.template_name, list | tuple):
            response.template_name = [SMALL_TEMPLATE if n == STOCK_TEMPLATE else n for n in response.template_name]
    return response


def delete_large_selection(modeladmin, request: HttpRequest, queryset: QuerySet, count: Count,
                           background: bool = False) -> HttpResponse | None:
    """Confirm with a bounded preview, refuse when permissions or ``PROTECT`` stop it, else delete. In the
    ``background`` (a job, :mod:`fastadmin.jobs`) protected rows are shown, then skipped and reported."""
    opts = modeladmin.model._meta
    site = modeladmin.admin_site
    limit = fa_settings.DELETE_PREVIEW_LIMIT
    deleted_models = cascade_models(modeladmin.model)
    perms_lacking = lacking_delete_permissions(site, request, deleted_models)
    protected = [] if perms_lacking else bounded_protected_sample(queryset, limit)
    confirmed = bool(request.POST.get("post"))
    if confirmed and background and not perms_lacking:
        return jobs.start_job(modeladmin, request, queryset, jobs.DeleteRows(), count)
    if confirmed and not perms_lacking and not protected:
        try:
            deleted = delete_in_chunks(modeladmin, request, queryset)
        except (ProtectedError, RestrictedError) as exc:  # found by the collector, not the pre-check
            protected = stopping_rows(exc)
        except IntegrityError:  # e.g. a DO_NOTHING relation whose rows still point here
            logger.warning("Delete of %s %s rolled back", count, opts.label, exc_info=True)
            modeladmin.message_user(
                request,
                _("Nothing was deleted: the database refused the delete (other rows still refer to these)."),
                messages.ERROR,
            )
            return None
        else:
            modeladmin.message_user(
                request,
                _("Successfully deleted %(count)d %(items)s.")
                % {"count": deleted, "items": model_ngettext(opts, deleted)},
                messages.SUCCESS,
            )
            return None

    return confirmation_page(modeladmin, request, queryset, count, deleted_models, perms_lacking, protected, confirmed,
                             background)


def stopping_rows(exc: ProtectedError | RestrictedError) -> list:
    """Up to ``DELETE_PREVIEW_LIMIT`` of the rows the collector found stopping a delete."""
    stopping = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    return list(islice(stopping, fa_settings.DELETE_PREVIEW_LIMIT))


def confirmation_page(modeladmin, request: HttpRequest, queryset: QuerySet, count: Count, deleted_models: list,
                      perms_lacking: list[str], protected: list, confirmed: bool,
                      background: bool = False) -> TemplateResponse:
    """The bounded confirmation, or the "cannot delete" page when ``perms_lacking`` or ``protected``
    (a ``background`` delete shows its protected rows and skips them)."""
    opts = modeladmin.model._meta
    site = modeladmin.admin_site
    limit = fa_settings.DELETE_PREVIEW_LIMIT
    objects_name = str(model_ngettext(queryset))
    refused = bool(perms_lacking or (protected and not background))
    context = {
        **site.each_context(request),
        "title": _("Cannot delete %(name)s") % {"name": objects_name} if refused else _("Delete multiple objects"),
        "subtitle": None,
        "objects_name": objects_name,
        "count": count,
        "preview": [] if refused else list(queryset.order_by("pk")[:limit]),
        "related": [str(m._meta.verbose_name_plural) for m in deleted_models[1:]],
        "perms_lacking": perms_lacking,
        "background": background,
        "protected": [describe(site, obj) for obj in protected],
        "fastadmin_repost": reposted_selection(request),
        "opts": opts,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    # Refused at "Yes": 403 for permissions, 409 for rows that now protect the selection.
    status = (403 if perms_lacking else 409 if protected else 200) if confirmed else 200
    request.current_app = site.name
    return TemplateResponse(request, LARGE_TEMPLATE, context, status=status)
