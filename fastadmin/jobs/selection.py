"""The selection of a background action as what produced it, and its queryset rebuilt in the worker.

The request stores (:func:`capture`) the changelist's query string (filters, search, ordering), the
ids the user ticked when the selection is explicit (a page's worth at most, never a select-across's
millions) and the page token those rows were shown with. The worker (:func:`rebuild`) makes a GET
request for the same changelist as the same user, re-checks that the user may still use the admin and
the action (``get_actions`` applies the action's ``allowed_permissions``), and asks the ModelAdmin for
the queryset exactly as the changelist builds it: ``get_queryset`` + filters + search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.sites import all_sites
from django.contrib.admin.views.main import ORDER_VAR
from django.core.exceptions import FieldError, ValidationError
from django.db import models, router
from django.http import HttpRequest
from django.test import RequestFactory
from django.urls import get_resolver

from ..exceptions import BadParameter
from ..locking.tokens import PAGE_TOKEN, PageToken
from ..locking.values import BadEditToken
from ..models import Job
from .strategies import MARKER, BackgroundAction


class JobRefused(Exception):
    """The job cannot run (any more): the message is shown on the job page."""


def posted_action_name(request: HttpRequest) -> str:
    """The action's name as stock ``response_action`` picks it (the form at ``index``)."""
    names = request.POST.getlist("action")
    try:
        return names[int(request.POST.get("index", 0))]
    except (ValueError, IndexError):
        return names[0] if names else ""


def capture(request: HttpRequest, select_across: bool) -> dict[str, Any]:
    """What produced the selection, JSON-ready (see the module docstring)."""
    explicit = not select_across
    return {
        "path": request.path,
        "query": request.GET.urlencode(),
        "ordering": request.GET.get(ORDER_VAR, ""),
        "select_across": select_across,
        "ids": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if explicit else None,
        "page_token": (request.POST.get(PAGE_TOKEN) or None) if explicit else None,
    }


@dataclass
class Work:
    """Everything a chunk needs, rebuilt once per task run."""

    job: Job
    model: type[models.Model]
    modeladmin: Any
    request: HttpRequest
    queryset: models.QuerySet
    strategy: BackgroundAction
    page: PageToken | None
    using: str


def find_site(name: str, model: type[models.Model]):
    """The admin site called ``name`` serving ``model`` (fastadmin's preferred over a namesake)."""
    get_resolver().url_patterns  # noqa: B018 - imports the URLconf, which creates and fills the sites
    from ..sites import FastAdminSite

    candidates = [s for s in all_sites if s.name == name and s.is_registered(model)]
    candidates.sort(key=lambda s: not isinstance(s, FastAdminSite))
    if not candidates:
        raise JobRefused(f"No admin site {name!r} serves {model._meta.label} any more.")
    return candidates[0]


def action_strategy(modeladmin: Any, request: HttpRequest, name: str) -> BackgroundAction:
    """The action's :class:`BackgroundAction` if ``request.user`` may still run it."""
    action = modeladmin.get_actions(request).get(name)
    if action is None:
        raise JobRefused(f"The action {name!r} is not available to this user any more (permissions changed?).")
    func = action.func if hasattr(action, "func") else action[0]
    strategy = getattr(func, MARKER, None)
    if not isinstance(strategy, BackgroundAction):
        raise JobRefused(f"The action {name!r} cannot run in the background.")
    return strategy


def rebuild(job: Job) -> Work:
    """The job's :class:`Work`, or :class:`JobRefused` saying why it cannot run."""
    try:
        model = apps.get_model(job.model)
    except (LookupError, ValueError):
        raise JobRefused(f"The model {job.model!r} does not exist any more.") from None
    user = job.user
    if user is None or not user.is_active:
        raise JobRefused("The user who started this job is gone or inactive.")
    using = router.db_for_write(model)
    if using != router.db_for_write(Job):
        raise JobRefused(f"{model._meta.label} is written on {using!r}, jobs on {router.db_for_write(Job)!r}: "
                         "a chunk and its checkpoint must commit together.")
    spec = job.selection
    site = find_site(job.site, model)
    request = RequestFactory().get(spec["path"], data=None, QUERY_STRING=spec["query"])
    request.user = user
    if not site.has_permission(request):
        raise JobRefused("The user who started this job may not use the admin any more.")
    modeladmin = site.get_model_admin(model)
    strategy = action_strategy(modeladmin, request, job.action)
    try:
        changelist = modeladmin.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        if spec.get("ids") is not None:
            queryset = queryset.filter(pk__in=spec["ids"])
        page = PageToken.read(model, spec["page_token"], str(user.pk)) if spec.get("page_token") else None
    except BadEditToken as exc:
        raise JobRefused(f"The page this selection was made on can no longer be checked: {exc}") from None
    except (BadParameter, IncorrectLookupParameters, FieldError, ValidationError, ValueError) as exc:
        raise JobRefused(f"The selection's filters no longer apply: {exc}") from None
    return Work(job, model, modeladmin, request, queryset.using(using), strategy, page, using)
