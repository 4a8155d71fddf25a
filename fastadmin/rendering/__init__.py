"""Compiled result-list rendering (the changelist's table body); see :mod:`.columns` and :mod:`.rows`.

:func:`renders_template` says whether a ``change_list_results.html`` is one this renderer reproduces
(Django's own, on a Django version whose ``items_for_result`` :mod:`.columns` mirrors); a project's
override, or another Django version, keeps stock rendering.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
import django.contrib.admin
from django.template.loader import get_template

from fastadmin.conf import fa_settings

from .rows import result_list_context

__all__ = ["compiled_filter_template", "compiled_results_template", "renders_template", "result_list_context"]

#: Django versions whose ``items_for_result`` the compiled columns reproduce (tests/test_rendering.py).
SUPPORTED_DJANGO = {(5, 2), (6, 0), (6, 1)}
_STOCK_TEMPLATES = str(Path(django.contrib.admin.__file__).parent / "templates") + "/"


def renders_template(template) -> bool:
    """True when ``template`` is Django's own ``change_list_results.html`` and the renderer is on."""
    if not fa_settings.COMPILED_RESULT_LIST or django.VERSION[:2] not in SUPPORTED_DJANGO:
        return False
    return is_djangos_own(template)


def is_djangos_own(template) -> bool:
    """Whether ``template`` was loaded from Django's admin, not from a project's override."""
    origin = getattr(template, "origin", None)
    return bool(origin and origin.name and str(origin.name).startswith(_STOCK_TEMPLATES))


#: The loops of Django's ``change_list_results.html`` (5.2 to 6.1) and the tags that print the same
#: output in one pass each: a hundred rows, or hidden fields, cost a hundred template loop iterations.
_LOOPS = {
    "{% for item in result_hidden_fields %}{{ item }}{% endfor %}":
        "{% fastadmin_items result_hidden_fields %}",
    "{% for result in results %}\n"
    "{% if result.form and result.form.non_field_errors %}\n"
    '    <tr><td colspan="{{ result|length }}">{{ result.form.non_field_errors }}</td></tr>\n'
    "{% endif %}\n"
    "<tr>{% for item in result %}{{ item }}{% endfor %}</tr>\n"
    "{% endfor %}": "{% fastadmin_result_rows results %}",
}
_compiled_results: dict[tuple[int, str], Any] = {}


def compiled_results_template(template):
    """Django's own ``change_list_results.html`` (this version's markup, header included) with its
    loops replaced by :data:`_LOOPS`' tags; the template itself when its loops are not the known ones.

    Built from the template's source, so no copy of Django's markup is kept here; cached per engine."""
    source = getattr(template, "source", None)
    if not source or not all(loop in source for loop in _LOOPS):
        return template
    key = (id(template.engine), source)
    compiled = _compiled_results.get(key)
    if compiled is None:
        for loop, tag in _LOOPS.items():
            source = source.replace(loop, tag)
        # {% load %} prints nothing, so the output keeps the stock template's first byte.
        compiled = _compiled_results[key] = template.engine.from_string("{% load fastadmin_list %}" + source)
    return compiled


def compiled_filter_template(name: str) -> str:
    """``fastadmin/filter.html`` (the same markup, its choices printed in one pass) for a filter that
    uses Django's own ``admin/filter.html``; any other template, or a project's override, unchanged."""
    if name != "admin/filter.html" or not fa_settings.COMPILED_RESULT_LIST:
        return name
    return "fastadmin/filter.html" if is_djangos_own(get_template(name)) else name
