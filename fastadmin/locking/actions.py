"""The stale-selection guard: an action runs only on selected rows unchanged since the page showed them.

Every action (stock or project) is wrapped by ``OptimisticLockingMixin.get_actions``; the wrapper
hands the call to :meth:`fastadmin.locking.strategy.BaseLocking.run_action`. The guard also runs on
an action's confirmation step (``post=yes``): the confirmation re-posts ``_fa_page_token``.
"""

from __future__ import annotations

import dataclasses
import functools
import weakref
from collections.abc import Callable
from operator import or_
from typing import Any

from django.contrib import messages
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import ngettext

from .. import cache as object_cache
from ..conf import fa_settings
from ..fields import version_field

#: The wrappers made by :func:`guard`, so an action is never wrapped twice.
_GUARDS: weakref.WeakSet = weakref.WeakSet()


def guard(func: Callable, get_locking: Callable) -> Callable:
    """``func`` run through the request's locking object (``get_locking(request)``)."""
    if func in _GUARDS:
        return func

    @functools.wraps(func)
    def guarded(modeladmin, request, queryset):
        return get_locking(request).run_action(func, modeladmin, queryset)

    _GUARDS.add(guarded)
    return guarded


def replace_func(action: Any, wrap: Callable) -> Any:
    """``action`` with its callable wrapped, for a 5.2 tuple or a 6.1 ``Action`` dataclass."""
    if dataclasses.is_dataclass(action):
        return dataclasses.replace(action, func=wrap(action.func))
    func, *rest = action
    return (wrap(func), *rest)


def run_guarded(locking: Any, func: Callable, modeladmin: Any, queryset: models.QuerySet) -> Any:
    request, model = locking.request, locking.model
    if request.POST.get("select_across") == "1":
        return func(modeladmin, request, queryset)  # rows never shown: nothing to compare
    page = locking.read_page()  # 400 if altered/expired/another user's; None if tokenless
    if page is None:
        return func(modeladmin, request, queryset)
    with transaction.atomic(using=locking.using):
        fresh, stale = split_stale(model, queryset, page, locking.using)
        if stale:
            shown = model._base_manager.using(locking.using).filter(pk__in=stale)[:20]
            names = ", ".join(f"“{o}”" for o in shown) or ", ".join(map(str, stale))
            if fa_settings.STALE_SELECTION == "refuse" or not fresh:
                modeladmin.message_user(request, ngettext(
                    "Nothing was done: %(count)d selected row changed since the page was shown "
                    "(%(names)s). Reload the page and check it first.",
                    "Nothing was done: %(count)d selected rows changed since the page was shown "
                    "(%(names)s). Reload the page and check them first.",
                    len(stale)) % {"count": len(stale), "names": names}, messages.ERROR)
                return None
            modeladmin.message_user(request, ngettext(
                "Skipped %(count)d row changed since the page was shown: %(names)s.",
                "Skipped %(count)d rows changed since the page was shown: %(names)s.",
                len(stale)) % {"count": len(stale), "names": names}, messages.WARNING)
        vf = version_field(model)
        narrowed = queryset.filter(pk__in=[pk for pk, _v in fresh])
        if vf and fresh:  # compare-and-set: the action's UPDATE only touches unchanged versions
            narrowed = narrowed.filter(functools.reduce(or_, (Q(pk=pk, **{vf.attname: v}) for pk, v in fresh)))
        response = func(modeladmin, request, narrowed)
        if object_cache.is_registered(model):
            object_cache.invalidate(model, [pk for pk, _v in fresh], using=locking.using)
        return response


def split_stale(model: type[models.Model], queryset: models.QuerySet, page: Any, using: str):
    """Lock the selected rows; ``(fresh [(pk, version)], stale [pk])`` against the page token."""
    vf = version_field(model)
    hashed = {f.name: f for f in model._meta.concrete_fields if f.name in page.hashed}
    attnames = [f.attname for f in hashed.values()]
    if vf and vf.attname not in attnames:
        attnames.append(vf.attname)
    rows = (model._base_manager.using(using).select_for_update()
            .filter(pk__in=queryset.values("pk")).values("pk", *attnames))
    fresh, stale = [], []
    for row in rows:
        shown = page.rows.get(str(row["pk"]))
        version = row[vf.attname] if vf else None
        digest = page.digest(model, {n: row[f.attname] for n, f in hashed.items()})
        if shown is None or (vf and shown[0] != version) or shown[1] != digest:
            stale.append(row["pk"])
        else:
            fresh.append((row["pk"], version))
    return fresh, stale
