"""The pages locking answers with: 409 conflict (change, inline, delete) and 400 bad token.

Only values of the token's fields appear here (what the admin showed the user anyway).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.contrib.admin.utils import display_for_field
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from ..exceptions import BadParameter
from ..tokens import dump_value
from .strategy import RESOLVE, RESOLVE_ALL
from .tokens import TOKEN, EditToken, dump
from .values import EditConflict

#: POST keys the conflict page does not re-post verbatim.
NOT_REPOSTED = ("csrfmiddlewaretoken", TOKEN)


def display(model_field: models.Field | None, value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if model_field is None:
        return str(value)
    return str(display_for_field(value, model_field, "—"))


def conflict_response(
    model_admin: Any, request: HttpRequest, conflict: EditConflict, token: EditToken | None, *, deleting: bool = False
) -> HttpResponse:
    """HTTP 409: per conflicting field base / theirs / mine, who changed it and when, and a form
    that re-posts my data with a token carrying the values seen here."""
    model = model_admin.model
    obj = conflict.obj
    changes = recent_changes(model, obj.pk, token.shown_at if token else 0)
    rows = []
    for c in conflict.conflicts:
        f = c.model_field
        label = c.label or (capfirst(f.verbose_name) if f is not None else c.name)
        who, when = who_changed(changes, label)
        rows.append({"name": c.name, "label": label, "base": display(f, c.base), "theirs": display(f, c.theirs),
                     "mine": display(f, c.mine), "who": who, "when": when})
    new_token = None
    if token is not None:
        if deleting:  # "delete anyway" confirms the row as it is now
            new_token = EditToken(token.pk, token.user, conflict.version, dump(conflict.theirs))
        else:
            seen = {**token.seen, **{c.name: dump_value(c.theirs) for c in conflict.conflicts}}
            new_token = EditToken(token.pk, token.user, token.version, token.base, token.inlines, seen,
                                  token.shown_at)
    fields = {f.name: f for f in model._meta.concrete_fields}
    repost = [(k, v) for k in request.POST for v in request.POST.getlist(k)
              if k not in NOT_REPOSTED and not k.startswith(RESOLVE)]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model._meta,
        "original": obj,
        "title": _("Someone else changed this %(name)s") % {"name": model._meta.verbose_name},
        "conflicts": rows,
        "theirs_changed": [capfirst(fields[n].verbose_name) for n in conflict.theirs_changed if n in fields],
        "deleted": conflict.deleted,
        "deleting": deleting,
        "repost": repost,
        "token_name": TOKEN,
        "token": new_token.sign(model) if new_token else "",
        "resolve_prefix": RESOLVE,
        "resolve_all": RESOLVE_ALL,
        "had_files": bool(request.FILES),
        "action_url": request.get_full_path(),
    }
    request.current_app = model_admin.admin_site.name
    template = getattr(model_admin, "conflict_template", "fastadmin/conflict.html")
    return TemplateResponse(request, template, context, status=409).render()


def problem_response(model_admin: Any, request: HttpRequest, status: int, exc: BadParameter) -> HttpResponse:
    from ..problem import problem_page

    return problem_page(model_admin, request, status, "fastadmin/bad_request.html", _("cannot be shown"),
                        message=exc.message, param=exc.param)


def recent_changes(model: type[models.Model], pk: Any, since: float) -> list:
    """Admin log entries for the object since the form was shown (newest first)."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(model, for_concrete_model=False)
    since_dt = datetime.datetime.fromtimestamp(max(since - 1, 0), tz=datetime.UTC)
    return list(
        LogEntry.objects.filter(content_type_id=ct.id, object_id=str(pk), action_time__gte=since_dt)
        .select_related("user")
        .order_by("-action_time")[:50]
    )


def who_changed(entries: list, label: str) -> tuple[str, Any]:
    for entry in entries:
        try:
            parts = json.loads(entry.change_message or "[]")
        except ValueError:
            parts = []
        for part in parts if isinstance(parts, list) else []:
            fields = (part.get("changed") or {}).get("fields", []) if isinstance(part, dict) else []
            if any(str(f) in label for f in fields):
                return str(entry.user), entry.action_time
    return _("not recorded in the admin log (a script or another application?)"), None
