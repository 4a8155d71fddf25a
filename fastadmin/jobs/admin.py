"""The job pages, registered under fastadmin on ``fastadmin.site`` (``fastadmin/admin.py``).

Any staff user sees the jobs they started; superusers see every job. Another user's job answers 404
(page, JSON and Cancel alike), so ids reveal nothing. The job page polls its own URL with
``?format=json`` (also ``Accept: application/json``): ``{"status", "done", "total", "rate", "errors"}``.
Cancel is a POST (the admin's CSRF protection applies) answered by a redirect to the page, or 409 in
JSON when the job had already ended.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from ..models import Job
from . import runner


def wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get("Accept", "")


class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "description", "model", "status", "done", "total", "skipped", "error_count", "user",
                    "created"]
    list_display_links = ["id", "description"]
    list_filter = ["status"]
    list_select_related = ["user"]
    actions = None
    job_template = "fastadmin/job.html"

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user.pk)

    # Every staff user may follow their own jobs; nobody adds or edits one by hand.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request) and (
            obj is None or request.user.is_superuser or obj.user_id == request.user.pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and (obj is None or obj.status not in Job.ACTIVE)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_cancel"
        return [path("<path:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view), name=name),
                *super().get_urls()]

    def visible_job(self, request: HttpRequest, object_id: str) -> Job:
        try:
            job = self.get_queryset(request).filter(pk=int(object_id)).first()
        except ValueError:
            job = None
        if job is None or not self.has_view_permission(request, job):
            raise Http404(_("No such job."))
        return job

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None) -> HttpResponse:
        job = self.visible_job(request, object_id)
        if wants_json(request):
            return JsonResponse(job.progress())
        context = {
            **self.admin_site.each_context(request),
            "title": _("Job #%(id)s") % {"id": job.pk},
            "subtitle": job.description,
            "opts": self.opts,
            "job": job,
            "progress": job.progress(),
            "active": job.status in Job.ACTIVE,
            "cancel_url": reverse(f"{self.admin_site.name}:fastadmin_job_cancel", args=(job.pk,)),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.job_template, context)

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self.visible_job(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        cancelled = runner.cancel(job, request.user)
        if wants_json(request):
            job.refresh_from_db()
            return JsonResponse(job.progress(), status=200 if cancelled else 409)
        if cancelled:
            self.message_user(request, _("Job #%(id)s cancelled; chunks already committed stay done.")
                              % {"id": job.pk}, messages.SUCCESS)
        else:
            self.message_user(request, _("Job #%(id)s had already ended (%(status)s).")
                              % {"id": job.pk, "status": job.status}, messages.WARNING)
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:fastadmin_job_change", args=(job.pk,)))
