"""The page a changelist or form answers when a request cannot be served: a bad parameter (400), a
statement timeout or spent request budget (503).

One renderer for all of them, so they look like admin pages: titled "Orders: cannot be shown", the
error first (above any queued messages), and the search box prefilled when the admin searches, so
the user can correct a bad search instead of retyping it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.main import SEARCH_VAR
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst


def problem_page(model_admin: Any, request: HttpRequest, status: int, template: str, what: str,
                 **context: Any) -> HttpResponse:
    opts = model_admin.model._meta
    site = model_admin.admin_site
    context = {
        **site.each_context(request),
        "opts": opts,
        "title": f"{capfirst(opts.verbose_name_plural)}: {what}",
        "changelist_url": reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist"),
        "has_search": bool(model_admin.get_search_fields(request)),
        "search_term": request.GET.get(SEARCH_VAR, ""),
        **context,
    }
    request.current_app = site.name
    return TemplateResponse(request, template, context, status=status).render()
