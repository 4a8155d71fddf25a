"""The navigation sidebar, rendered once per distinct input and then reused.

Django's ``admin/nav_sidebar.html`` includes ``admin/app_list.html``: about 150 template nodes for a
dozen models (three ``request.path|urlencode`` per model), re-rendered on every changelist page
although its output changes only with what it reads: the apps and models the user may see
(``available_apps``: names, labels, URLs, view-only), ``request.path`` and the active language. Those
inputs are the memo key, so a permission change, a new model or another page renders anew.

Only Django's own templates (5.2 to 6.1 read exactly these inputs) and Django's own ``nav-sidebar``
block are memoized; a project's override of either template, or of the block in its
``base_site.html``, is rendered as it is, every time (``block.super``).
"""

from __future__ import annotations

from typing import Any

import django
from django.template.loader_tags import BLOCK_CONTEXT_KEY
from django.utils.translation import get_language

from fastadmin.conf import fa_settings

from . import SUPPORTED_DJANGO, is_djangos_own

#: How many outputs are kept per process (each a few kB) before the memo starts over.
MEMO_SIZE = 512
_memo: dict[tuple, str] = {}


def render_nav_sidebar(context: Any) -> str:
    """The ``nav-sidebar`` block's output: the memoized one when the block and its templates are
    Django's own, else the parent block (what the page renders without fastadmin)."""
    block = context.get("block")
    key = _memo_key(context) if block is not None else None
    if key is None:
        return block.super() if block is not None else ""
    html = _memo.get(key)
    if html is None:
        html = block.super()
        if len(_memo) >= MEMO_SIZE:
            _memo.clear()
        _memo[key] = html
    return html


def _memo_key(context: Any) -> tuple | None:
    """The inputs of Django's sidebar, or None when the output may depend on anything else."""
    if not fa_settings.COMPILED_RESULT_LIST or django.VERSION[:2] not in SUPPORTED_DJANGO:
        return None
    block_context = context.render_context.get(BLOCK_CONTEXT_KEY)
    parent = block_context.get_block("nav-sidebar") if block_context is not None else None
    if parent is None or not is_djangos_own(parent) or parent.origin.template_name != "admin/base.html":
        return None
    engine = context.template.engine
    for name in ("admin/nav_sidebar.html", "admin/app_list.html"):
        if not is_djangos_own(engine.get_template(name)):
            return None
    request = context.get("request")
    apps = context.get("available_apps")
    if request is None or not isinstance(apps, list):
        return None
    try:
        fingerprint = tuple(_app_key(app) for app in apps)
    except (AttributeError, TypeError):  # a project's get_app_list with entries of its own shape
        return None
    return (id(engine), get_language(), request.path, fingerprint)


def _app_key(app: dict) -> tuple:
    models = tuple(
        (str(m.get("name")), str(m.get("object_name")), str(m.get("admin_url")), str(m.get("add_url")),
         bool(m.get("view_only")))
        for m in app.get("models") or ()
    )
    return (str(app.get("name")), str(app.get("app_label")), str(app.get("app_url")), models)
