"""The request side of a background action: decide, record the job, enqueue it on commit, redirect.

* :func:`wants_background` — ``fastadmin.update_action`` and ``delete_selected`` leave the request when
  the selection holds more than ``FASTADMIN["BACKGROUND_ACTION_THRESHOLD"]`` rows (the admin's
  counter for a select-across, the ticked boxes otherwise) and Celery is installed.
* :func:`action` — ``@fastadmin.action(background=True, ...)``: stock's decorator, plus "always run
  me as a job, one chunk at a time" (the function is then called per chunk, in the worker).
* :func:`start_job` — the :class:`~fastadmin.models.Job` row (with the selection as
  :func:`~fastadmin.jobs.selection.capture` stores it), an admin log entry, the task enqueued when the
  request's transaction commits (a broker that is down then only delays it: the sweep enqueues queued
  jobs too), and a redirect to the job page.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

from django.contrib import messages
from django.contrib.admin import action as stock_action
from django.contrib.admin import helpers
from django.db import router, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import fa_settings
from ..counting import Count
from .strategies import MARKER, BackgroundAction, CallAction

logger = logging.getLogger("fastadmin.jobs")


def celery_installed() -> bool:
    return find_spec("celery") is not None


def wants_background(modeladmin: Any, request: HttpRequest, queryset: QuerySet,
                     count: Count | None = None) -> Count | None:
    """The selection's size when it is too large for the request (see the module docstring), else None."""
    if not celery_installed():
        return None
    from ..actions import get_counter, selected_across

    if selected_across(request):
        count = count or get_counter(modeladmin, request).count(queryset)
    else:
        count = Count(len(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)), True)
    return count if count.value > fa_settings.BACKGROUND_ACTION_THRESHOLD else None


def action(function: Callable | None = None, *, permissions: Any = None, description: Any = None,
           background: bool = False) -> Callable:
    """``@admin.action`` with ``background=True``: the action always runs as a job (see :class:`CallAction`)."""

    def decorator(func: Callable) -> Callable:
        if not background:
            return stock_action(permissions=permissions, description=description)(func)

        @functools.wraps(func)
        def start(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
            return start_job(modeladmin, request, queryset, CallAction(func))

        setattr(start, MARKER, CallAction(func))
        return stock_action(permissions=permissions, description=description)(start)

    return decorator if function is None else decorator(function)


def start_job(modeladmin: Any, request: HttpRequest, queryset: QuerySet, strategy: BackgroundAction,
              count: Count | None = None) -> HttpResponse:
    """Record and enqueue the job for this request's selection; the redirect to its page."""
    from django.contrib.admin.models import ADDITION, LogEntry

    from ..actions import get_counter, selected_across
    from ..models import Job
    from .selection import capture, posted_action_name

    across = selected_across(request)
    spec = capture(request, across)
    if count is None:
        count = get_counter(modeladmin, request).count(queryset) if across else Count(len(spec["ids"] or ()), True)
    name = posted_action_name(request)
    opts = modeladmin.model._meta
    actions = modeladmin.get_actions(request)
    described = actions[name] if name in actions else None
    label = getattr(described, "description", None) or (described[2] if described else name)
    label = str(label) % {"verbose_name": opts.verbose_name, "verbose_name_plural": opts.verbose_name_plural}
    now = timezone.now()
    job = Job.objects.create(
        user=request.user, site=modeladmin.admin_site.name, model=opts.label_lower, action=name,
        description=label[:300], selection=spec, total=count.value, heartbeat=now, enqueued_at=now,
    )
    LogEntry.objects.log_actions(
        request.user.pk, [job], ADDITION, single_object=True,
        change_message=_("Started %(action)s on %(count)s %(items)s in the background.")
        % {"action": name, "count": f"{'' if count.exact else '≈ '}{count.value:,}", "items": opts.verbose_name_plural},
    )
    transaction.on_commit(functools.partial(enqueue, job.pk), using=router.db_for_write(Job))
    modeladmin.message_user(request, _("Job #%(id)s started: %(what)s runs in the background.")
                            % {"id": job.pk, "what": label}, messages.SUCCESS)
    return HttpResponseRedirect(job_url(modeladmin.admin_site, job))


def job_url(site: Any, job: Any) -> str:
    """The job page on ``site``, else on ``fastadmin.site`` (where fastadmin registers jobs)."""
    for name in dict.fromkeys((site.name, "admin")):
        try:
            return reverse(f"{name}:fastadmin_job_change", args=(job.pk,))
        except NoReverseMatch:
            continue
    return reverse(f"{site.name}:index")


def enqueue(job_id: int) -> None:
    """Send the job to Celery; a failure is logged only (the sweep enqueues it again)."""
    try:
        from fastadmin.tasks.actions import run_job

        run_job.delay(job_id)
    except Exception:
        logger.warning("Could not enqueue job %s; the sweep will retry", job_id, exc_info=True)
