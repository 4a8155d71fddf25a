"""The related filter's "Other" box: a value typed there may be a name, not only a key.

A bounded related filter lists the first ``FILTER_MAX_CHOICES`` objects; staff find the others by
typing. Typing a key (``17``) filters by it as before. Typing anything that is not a valid key
(``smith``), where the related model has an admin that searches, is looked up by the changelist view
before the ChangeList is built (:func:`typed_names_response`; the ChangeList itself keeps stock's
``IncorrectLookupParameters`` for a value it cannot use), with that admin's search (``search_fields``, its
``get_search_results`` and its ``get_queryset``), as ``autocomplete_fields`` would, and only for a user
who may view that model: one match filters by it, none or several answer a 400 page that says
so, never stock's silent ``?e=1``. In the browser the box suggests matches as you type, from the
admin's autocomplete view (the same permission checks).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import OperationalError, models, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from .exceptions import BadParameter
from .guards import is_query_canceled, read_alias, statement_timeout

#: Budget of the one search a typed name costs.
LOOKUP_TIMEOUT_MS = 500


def searching_admin(model_admin: Any, field: Any, request: Any) -> Any | None:
    """The related model's admin on this site when it searches (else None)."""
    if isinstance(field, models.ForeignObjectRel) or not getattr(field, "remote_field", None):
        return None
    try:
        admin = model_admin.admin_site.get_model_admin(field.remote_field.model)
    except NotRegistered:
        return None
    return admin if admin.get_search_fields(request) else None


def related_admin(model_admin: Any, field: Any, request: Any) -> Any | None:
    """:func:`searching_admin` when this user may view the related model (else None)."""
    admin = searching_admin(model_admin, field, request)
    return admin if admin is not None and admin.has_view_permission(request) else None


def is_key(field: Any, value: str) -> bool:
    try:
        field.target_field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def typed_names_response(model_admin: Any, request: Any) -> HttpResponse | None:
    """A redirect to the same list with each typed name replaced by its object's key (a clean,
    bookmarkable address), or None when no relation filter parameter holds a name."""
    from .filters import related_choices

    params = request.GET.copy()
    changed = False
    for field, param in relation_filter_params(model_admin, request):
        values = params.getlist(param)
        if values and not all(is_key(field, v) for v in values):
            resolved = resolve_typed(field, request, model_admin, values, param, related_choices(field))
            # Unchanged (no admin searches the related model): no redirect, which would only lead
            # back here; the ChangeList answers the value as stock does.
            if resolved != values:
                params.setlist(param, resolved)
                changed = True
    return HttpResponseRedirect(f"{request.path}?{params.urlencode()}") if changed else None


def relation_filter_params(model_admin: Any, request: Any) -> list[tuple[Any, str]]:
    """``(field, parameter)`` of each ``list_filter`` entry on a forward relation (``customer`` ->
    ``customer__id__exact``, the parameter stock's ``RelatedFieldListFilter`` reads)."""
    found = []
    for entry in model_admin.get_list_filter(request):
        path = entry[0] if isinstance(entry, tuple | list) else entry
        if not isinstance(path, str):
            continue
        try:
            field = get_fields_from_path(model_admin.model, path)[-1]
        except (FieldDoesNotExist, NotRelationField):
            continue
        if getattr(field, "remote_field", None) is not None and not isinstance(field, models.ForeignObjectRel) \
                and getattr(field, "target_field", None) is not None:
            found.append((field, f"{path}__{field.target_field.name}__exact"))
    return found


def resolve_typed(field: Any, request: Any, model_admin: Any, values: list[str], param: str,
                  choices: models.QuerySet) -> list[str]:
    """``values`` with every typed name replaced by the key of the one related object it finds.

    Unchanged when the related model has no searching admin on this site: nothing could find a name
    there, and stock's answer stays (``IncorrectLookupParameters``, the ``?e=1`` page).
    """
    if searching_admin(model_admin, field, request) is None:
        return values
    admin = related_admin(model_admin, field, request)
    noun = field.remote_field.model._meta.verbose_name
    resolved = []
    for value in values:
        if is_key(field, value):
            resolved.append(value)
            continue
        if admin is None:
            raise BadParameter(_("“%(value)s” is not a %(noun)s ID: type the ID, or pick one from the list.")
                               % {"value": value, "noun": noun}, param=param)
        target = field.target_field.attname
        using = read_alias(field.remote_field.model)
        searched, _dupes = admin.get_search_results(request, choices.using(using), value)
        try:
            with transaction.atomic(using=using), statement_timeout(LOOKUP_TIMEOUT_MS, using):
                keys = list(searched.order_by().values_list(target, flat=True).distinct()[:2])
        except OperationalError as exc:
            if not is_query_canceled(exc):
                raise
            raise BadParameter(_("Looking up “%(value)s” took too long: type more of it, or its ID.")
                               % {"value": value}, param=param) from None
        if not keys:
            raise BadParameter(_("No %(noun)s matches “%(value)s”. Type more of it, or its ID.")
                               % {"noun": noun, "value": value}, param=param)
        if len(keys) > 1:
            raise BadParameter(_("“%(value)s” matches more than one %(noun)s: type more of it, or pick one "
                                 "of the suggestions.") % {"value": value, "noun": noun}, param=param)
        resolved.append(str(keys[0]))
    return resolved


def autocomplete_params(model_admin: Any, field: Any, request: Any) -> dict[str, str] | None:
    """Query parameters of the admin's autocomplete view for this field (None: no suggestions)."""
    if related_admin(model_admin, field, request) is None or field.model is not model_admin.model:
        return None
    opts = model_admin.model._meta
    return {"app_label": opts.app_label, "model_name": opts.model_name, "field_name": field.name}
