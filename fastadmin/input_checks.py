"""Changelist lookups that stock admin passes to the database (or to ``datetime``) unchecked, checked
where they enter: the value is refused with a 400 page naming the parameter instead of a 500.

* ``<path>__regex`` / ``<path>__iregex``: PostgreSQL's regular-expression dialect is not Python's, so
  the pattern is compiled by PostgreSQL itself (``SELECT '' ~ pattern``, one tiny statement per regex
  parameter) before any query uses it.
* ``<path>__range``: stock hands the string to the ORM, which takes its characters for the bounds
  (two characters) or fails (any other length); the address form is ``__gte`` and ``__lte``.
* A lookup the ModelAdmin does not allow (``lookup_allowed``): stock's ``DisallowedModelAdminLookup``
  becomes the same 400 and the same ``django.security`` log entry, but on the page that names the
  parameter (:func:`refused_lookup`) rather than Django's bare "Bad Request (400)".
* Action POSTs: stock filters ``pk__in=<the posted keys>`` before the action runs, so a key the primary
  key cannot take (``_selected_action=abc``) raises ``ValueError`` inside stock's ``response_action``,
  for every ModelAdmin, stock ones included. :func:`checked_changelist` wraps each changelist view the
  site serves (``AdminSite.admin_view``) and answers such a POST as stock answers an empty selection:
  a message saying which key is wrong, and the redirect back to the list.
* Values only the database adapter converts (``GenericIPAddressField``'s ``ipaddress``, a backend's own
  adapters): stock filters without error and fails when the SQL is compiled, mid-render, with a 500.
  :func:`check_compiles` compiles the filtered query where the lookups enter and turns a conversion
  error into stock's own answer for a bad lookup value (``IncorrectLookupParameters``: the ``?e=1``
  redirect).
* ``date_hierarchy`` parts: stock builds ``datetime(year, month, day)`` and the next year, month or day
  from them; it turns a ``ValueError`` of the first into its ``?e=1`` redirect (kept here: month 13, day
  31 of February), but a number too large for C (``OverflowError``) or the year 9999 (whose "next
  period" is year 10000) escape as 500s. Those get the 400 page.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable

from django.contrib import messages
from django.contrib.admin import ModelAdmin, helpers
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.db import DataError, connections, transaction
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpResponseRedirect

from .exceptions import BadParameter
from .guards import read_alias
from .locking.pages import problem_response
from .pagination import parse_value

REGEX_LOOKUPS = ("regex", "iregex")
#: The last year whose following year (the end of stock's bounded ``date_hierarchy`` range) exists.
MAX_YEAR = 9998
#: Beyond this ``datetime`` raises OverflowError (C int), not the ValueError stock turns into ``?e=1``.
C_INT_MAX = 2**31 - 1


def check_lookup_params(params: Iterable[tuple[str, list[str]]], date_hierarchy: str | None, using: str) -> None:
    """Raise :class:`BadParameter` for the first parameter the database or ``datetime`` would refuse."""
    for name, values in params:
        if name.rsplit(LOOKUP_SEP, 1)[-1] in REGEX_LOOKUPS:
            for value in values:
                check_regex(name, value, using)
        if name.endswith(LOOKUP_SEP + "range"):
            # Stock passes the string itself, which the ORM iterates character by character.
            raise BadParameter("A range cannot be given in the address; use __gte and __lte instead.", param=name)
        if date_hierarchy and name.startswith(date_hierarchy + LOOKUP_SEP):
            check_date_part(name, name[len(date_hierarchy) + len(LOOKUP_SEP):], values)


def check_nul(params: Iterable[tuple[str, list[str]]]) -> None:
    """No parameter name or value may hold NUL (PostgreSQL text cannot); ``q`` is left to stock's
    search form, which says "Null characters are not allowed."."""
    for name, values in params:
        if name != SEARCH_VAR and ("\x00" in name or any("\x00" in value for value in values)):
            raise BadParameter("The address contains a NUL character, which no value may hold.", param=name)


def check_compiles(queryset) -> None:
    """Compile ``queryset``'s SQL (no query is sent): a value the adapter refuses raises here, as stock's
    ``IncorrectLookupParameters``, instead of while the page renders."""
    where_only = queryset.select_related(None).order_by()  # their errors stay stock's, on first use
    try:
        where_only.query.get_compiler(using=queryset.db).as_sql()
    except (EmptyResultSet, FullResultSet):
        pass  # a valid query that needs no WHERE or matches nothing
    except (ValueError, TypeError, ValidationError, OverflowError) as exc:
        raise IncorrectLookupParameters(exc) from exc


def check_regex(name: str, pattern: str, using: str) -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=using), connection.cursor() as cursor:  # a savepoint inside the view's
            cursor.execute("SELECT '' ~ %s", [pattern])
    except DataError as exc:
        reason = str(getattr(exc, "__cause__", None) or exc).splitlines()[0]
        raise BadParameter(f"“{pattern[:100]}” is not a valid regular expression ({reason}).", param=name) from None


def check_date_part(name: str, part: str, values: list[str]) -> None:
    if part not in ("year", "month", "day") or not values:
        return
    try:
        number = int(values[-1])  # stock reads the last value
    except ValueError:
        return  # stock's own answer: the ?e=1 redirect
    if abs(number) > C_INT_MAX or (part == "year" and number > MAX_YEAR):
        limit = MAX_YEAR if part == "year" else 31 if part == "day" else 12
        raise BadParameter(f"“{values[-1][:40]}” is out of range: the {part} must be at most {limit}.", param=name)


def refused_lookup(changelist, request, exc: DisallowedModelAdminLookup) -> BadParameter:
    """Stock's refusal as a :class:`BadParameter` naming the lookup; logged as Django logs it."""
    logging.getLogger("django.security.DisallowedModelAdminLookup").error(
        str(exc), exc_info=exc, extra={"status_code": 400, "request": request}
    )
    refused = next(
        (key for key, values in changelist.get_filters_params().items()
         for value in values if not changelist.model_admin.lookup_allowed(key, value, request)),
        None,
    )
    return BadParameter("Filtering by this field is not allowed in this list.", param=refused)


def checked_changelist(view: Callable) -> Callable:
    """``view`` (a ModelAdmin's ``changelist_view``; other views unchanged) refusing action POSTs whose
    selected keys the model's primary key cannot take, and, for a stock ModelAdmin the site serves
    (whose ChangeList checks nothing), the lookups :func:`check_lookup_params` refuses."""
    model_admin = getattr(view, "__self__", None)
    if getattr(view, "__name__", "") != "changelist_view" or not isinstance(model_admin, ModelAdmin):
        return view

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        if request.method == "POST" and "action" in request.POST:
            bad = invalid_key(model_admin.model, request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
            if bad is not None:
                name = model_admin.opts.verbose_name
                message = f"“{bad[:40]}” is not a valid key for {name}. No items have been changed."
                model_admin.message_user(request, message, messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())
        elif not checks_its_own_lookups(model_admin, request):
            try:
                check_nul(request.GET.lists())
                check_lookup_params(request.GET.lists(), model_admin.date_hierarchy, read_alias(model_admin.model))
            except BadParameter as exc:
                return problem_response(model_admin, request, 400, exc)
        return view(request, *args, **kwargs)

    return checked


def checks_its_own_lookups(model_admin: ModelAdmin, request) -> bool:
    from .changelist import ChangeList  # imports this module

    changelist = model_admin.get_changelist(request)
    return isinstance(changelist, type) and issubclass(changelist, ChangeList)


def invalid_key(model, keys: list[str]) -> str | None:
    """The first of ``keys`` the primary key of ``model`` cannot take (out of its range included)."""
    for key in keys:
        try:
            if parse_value(model._meta.pk, key) is None:
                return key
        except (ValidationError, ValueError, TypeError, OverflowError):
            return key
    return None
