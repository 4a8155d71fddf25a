"""Saving a list_editable page: stock's loop over the admin's hooks, with one locked read of the rows.

Like stock, all rows are saved in one transaction (a failure rolls back every row) and each changed
row goes through ``save_form`` → ``save_model`` (``obj.save(update_fields=...)``) → ``save_related``
→ ``log_change``. Unlike stock, the rows are locked first, each is merged against the page token's
values, and a row that conflicts is not written but named on the next page.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .pages import display
from .rows import lock_rows
from .tokens import PAGE_TOKEN
from .values import BadEditToken, editable_fields


def save_list_editable(locking: Any) -> HttpResponse | None:
    """The redirect after saving; None to let stock handle the POST (tokenless, or invalid input)."""
    ma, request, model = locking.model_admin, locking.request, locking.model
    if not ma.has_change_permission(request):
        raise PermissionDenied
    page = locking.read_page()
    if page is None:
        return None
    FormSet = ma.get_changelist_formset(request)
    prefix = FormSet.get_default_prefix()
    pk_field = model._meta.pk
    pattern = re.compile(rf"^{re.escape(prefix)}-\d+-{re.escape(pk_field.name)}$")
    try:
        pks = [pk_field.to_python(v) for k, v in request.POST.items() if pattern.match(k)]
    except ValidationError:
        raise BadEditToken(_("A row id in this list is malformed. Reload the page."), param=prefix) from None
    for pk in pks:
        if str(pk) not in page.rows:
            raise BadEditToken(_("Row %(pk)s was not on the page you submitted. Reload the page.") % {"pk": pk},
                               param=PAGE_TOKEN)
    formset = FormSet(request.POST, request.FILES, queryset=ma.get_queryset(request).filter(pk__in=pks))
    if not formset.is_valid():
        return None
    fields = editable_fields(model, ma.list_editable)
    saved = []
    with transaction.atomic(using=locking.using):
        locking.current = lock_rows(model, pks, fields, locking.using, allowed=ma.get_queryset(request))
        for form in formset.forms:
            if not form.has_changed():
                continue
            obj = ma.save_form(request, form, change=True)
            ma.save_model(request, obj, form, change=True)
            if locking.written.get(obj.pk):
                ma.save_related(request, form, formsets=[], change=True)
                ma.log_change(request, obj, ma.construct_change_message(request, form, None))
                saved.append(obj)
    report(locking, saved)
    return HttpResponseRedirect(request.get_full_path())


def report(locking: Any, saved: list) -> None:
    ma, request, opts = locking.model_admin, locking.request, locking.model._meta
    if saved:
        count = len(saved)
        name = opts.verbose_name if count == 1 else opts.verbose_name_plural
        ma.message_user(request, ngettext("%(count)s %(name)s was changed successfully.",
                                          "%(count)s %(name)s were changed successfully.", count)
                        % {"count": count, "name": name}, messages.SUCCESS)
    for obj, names, form in locking.list_merged:
        labels = ", ".join(str(form.fields[n].label or n) for n in names)
        ma.message_user(request, _("“%(obj)s”: meanwhile someone else changed %(fields)s; their values were kept.")
                        % {"obj": obj, "fields": labels}, messages.INFO)
    for obj, conflicts, form in locking.list_conflicts:
        detail = "; ".join(
            _("%(field)s is now “%(theirs)s” (you entered “%(mine)s”)")
            % {"field": form.fields[c.name].label or c.name, "theirs": display(c.model_field, c.theirs),
               "mine": display(c.model_field, c.mine)}
            for c in conflicts
        ) or _("it was deleted")
        ma.message_user(request, _("“%(obj)s” was NOT saved: someone else changed it since the page was shown. "
                                   "%(detail)s. Re-enter your change if it still applies.")
                        % {"obj": obj, "detail": detail}, messages.ERROR)
