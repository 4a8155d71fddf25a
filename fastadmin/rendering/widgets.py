"""A form renderer for the changelist's formset: Django's own ``<input>`` widget templates in Python.

A ``list_editable`` page renders two or three widgets per row (each field, the hidden primary key),
and each is a template render (``text.html`` includes ``input.html`` includes ``attrs.html``):
most of the page's time. :class:`InputRenderer` wraps the formset's renderer; for a widget
template that is, verbatim, Django's own include of ``input.html`` (text, number, email, url,
hidden, checkbox, date, ... inputs), with ``input.html`` and ``attrs.html`` also Django's own, it
produces the same string in Python; any other template (a project's override, a select, another
Django version's markup) goes to the wrapped renderer. ``tests/test_rendering.py`` compares the
list_editable tables with stock's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django.forms
from django.forms.renderers import BaseRenderer
from django.template import TemplateDoesNotExist
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData

_FORMS_TEMPLATES = str(Path(django.forms.__file__).parent / "templates") + "/"
INPUT = "django/forms/widgets/input.html"
ATTRS = "django/forms/widgets/attrs.html"
#: The sources this module reproduces (Django 5.2's); any other source is rendered by its template.
SOURCES = {
    INPUT: '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %} '
           "value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
           '{% include "django/forms/widgets/attrs.html" %}>\n',
    ATTRS: "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
           "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}{% endfor %}",
}
INCLUDES_INPUT = '{% include "django/forms/widgets/input.html" %}\n'


class InputRenderer(BaseRenderer):
    """Wraps ``inner`` (the renderer the formset would use); same output, input widgets without templates."""

    def __init__(self, inner: BaseRenderer) -> None:
        self.inner = inner
        self.form_template_name = inner.form_template_name
        self.formset_template_name = inner.formset_template_name
        self.field_template_name = inner.field_template_name
        self.bound_field_class = getattr(inner, "bound_field_class", None)
        self._compiled: dict[str, bool] = {}

    def get_template(self, template_name: str):
        return self.inner.get_template(template_name)

    def render(self, template_name: str, context: dict[str, Any], request=None) -> str:
        compiled = self._compiled.get(template_name)
        if compiled is None:
            compiled = self._compiled[template_name] = self._is_stock_input(template_name)
        if compiled and request is None:
            return input_html(context["widget"])
        return self.inner.render(template_name, context, request)

    def _is_stock_input(self, template_name: str) -> bool:
        return (
            self._source(template_name) == INCLUDES_INPUT
            and self._source(INPUT) == SOURCES[INPUT]
            and self._source(ATTRS) == SOURCES[ATTRS]
        )

    def _source(self, name: str) -> str | None:
        """The source of ``name`` if the wrapped renderer finds Django's own file for it."""
        try:
            template = self.inner.get_template(name)
        except TemplateDoesNotExist:
            return None
        template = getattr(template, "template", template)  # a backend's wrapper holds the engine's
        origin = getattr(template, "origin", None)
        if origin is None or not str(origin.name).startswith(_FORMS_TEMPLATES):
            return None
        return getattr(template, "source", None)


def _text(value: Any) -> str:
    """``{{ value }}`` of a string in an autoescaping template."""
    return conditional_escape(value if isinstance(value, str) else str(value))


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: the filter keeps safe input safe (``is_safe=True``)."""
    if isinstance(value, tuple):
        value = str(value)
    try:
        out = "%s" % value  # noqa: UP031 - the filter's own operation
    except (ValueError, TypeError):
        out = ""
    return out if isinstance(value, SafeData) else conditional_escape(out)


def input_html(widget: dict[str, Any]) -> str:
    """``input.html`` with ``attrs.html`` for one widget context, stripped as the renderer strips it."""
    out = [f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"']
    value = widget["value"]
    try:
        has_value = value != None  # noqa: E711 - the template's `!= None`, not `is not None`
    except Exception:  # smartif treats a failing comparison as false
        has_value = False
    if has_value:
        out.append(f' value="{_formatted(value)}"')
    for name, attr in widget["attrs"].items():
        if attr is not False:
            out.append(f" {_text(name)}" if attr is True else f' {_text(name)}="{_formatted(attr)}"')
    out.append(">")
    return "".join(out)
