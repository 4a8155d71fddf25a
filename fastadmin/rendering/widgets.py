"""A form renderer for the changelist's formset: Django's own ``<input>`` widget templates in Python.

A ``list_editable`` page renders two or three widgets per row (each field, the hidden primary key),
and each is a template render (``text.html`` includes ``input.html`` includes ``attrs.html``):
most of the page's time. :class:`InputRenderer` wraps the formset's renderer; for a widget
template that is, verbatim, Django's own include of ``input.html`` (text, number, email, url,
hidden, checkbox, date, ... inputs), with ``input.html`` and ``attrs.html`` also Django's own, it
produces the same string in Python; any other template (a project's override, a select, another
Django version's markup) goes to the wrapped renderer. The admin's raw-id input
(``foreign_key_raw_id.html``, an input and its lookup link) is written the same way.
``tests/test_rendering.py`` compares the list_editable tables with stock's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import django.forms
from django.contrib.admin import helpers
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.template import TemplateDoesNotExist
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData
from django.utils.timezone import template_localtime

from fastadmin.conf import fa_settings

_FORMS_TEMPLATES = str(Path(django.forms.__file__).parent / "templates") + "/"
_ADMIN_TEMPLATES = str(Path(helpers.__file__).parent / "templates") + "/"
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
SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
SOURCES[SELECT] = (
    '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
    "{% for group_name, group_choices, group_index in widget.optgroups %}{% if group_name %}\n"
    '  <optgroup label="{{ group_name }}">{% endif %}{% for option in group_choices %}\n'
    "  {% include option.template_name with widget=option %}{% endfor %}{% if group_name %}\n"
    "  </optgroup>{% endif %}{% endfor %}\n</select>\n"
)
SOURCES[OPTION] = (
    "<option value=\"{{ widget.value|stringformat:'s' }}\"{% include \"django/forms/widgets/attrs.html\" %}>"
    "{{ widget.label }}</option>\n"
)

RAW_ID = "admin/widgets/foreign_key_raw_id.html"
SOURCES[RAW_ID] = (
    "{% if related_url %}<div>{% endif %}{% include 'django/forms/widgets/input.html' %}{% if related_url %}"
    '<a href="{{ related_url }}" class="related-lookup" id="lookup_id_{{ widget.name }}" title="{{ link_title }}">'
    "</a>{% endif %}{% if link_label %}\n<strong>{% if link_url %}<a href=\"{{ link_url }}\">{{ link_label }}</a>"
    "{% else %}{{ link_label }}{% endif %}</strong>{% endif %}{% if related_url %}</div>{% endif %}\n"
)


class InputRenderer(BaseRenderer):
    """Wraps ``inner`` (the renderer the formset would use); same output, input widgets without templates."""

    def __init__(self, inner: BaseRenderer) -> None:
        self.inner = inner
        self.form_template_name = inner.form_template_name
        self.formset_template_name = inner.formset_template_name
        self.field_template_name = inner.field_template_name
        self.bound_field_class = getattr(inner, "bound_field_class", None)
        self._compiled: dict[str, Callable[[dict[str, Any]], str | None] | None] = {}

    def get_template(self, template_name: str):
        return self.inner.get_template(template_name)

    def render(self, template_name: str, context: dict[str, Any], request=None) -> str:
        if template_name not in self._compiled:
            self._compiled[template_name] = self._compile(template_name)
        compiled = self._compiled[template_name]
        html = None
        if compiled is not None and request is None:
            html = compiled(context) if compiled is raw_id_html else compiled(context["widget"])
        return self.inner.render(template_name, context, request) if html is None else html

    def _compile(self, template_name: str) -> Callable[[dict[str, Any]], str | None] | None:
        """The function that writes ``template_name`` (None: it is not Django's own markup here)."""
        if self._source(ATTRS) != SOURCES[ATTRS]:
            return None
        source = self._source(template_name)
        if source == INCLUDES_INPUT and self._source(INPUT) == SOURCES[INPUT]:
            return input_html
        if source == SOURCES[SELECT] and self._source(OPTION) == SOURCES[OPTION]:
            return select_html
        if source == SOURCES[RAW_ID] and self._source(INPUT) == SOURCES[INPUT]:
            return raw_id_html
        return None

    def _source(self, name: str) -> str | None:
        """The source of ``name`` if the wrapped renderer finds Django's own file for it."""
        try:
            template = self.inner.get_template(name)
        except TemplateDoesNotExist:
            return None
        template = getattr(template, "template", template)  # a backend's wrapper holds the engine's
        origin = getattr(template, "origin", None)
        if origin is None or not str(origin.name).startswith((_FORMS_TEMPLATES, _ADMIN_TEMPLATES)):
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


def _shown(value: Any) -> str:
    """``{{ value }}`` of any value: localized like the template engine does (numbers, dates)."""
    return conditional_escape(str(localize(template_localtime(value))))


def _attrs(attrs: dict[str, Any]) -> str:
    """``attrs.html``."""
    return "".join(
        f" {_text(name)}" if attr is True else f' {_text(name)}="{_formatted(attr)}"'
        for name, attr in attrs.items()
        if attr is not False
    )


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
    out.append(_attrs(widget["attrs"]))
    out.append(">")
    return "".join(out)


def select_html(widget: dict[str, Any]) -> str | None:
    """``select.html`` (its options through ``select_option.html``), stripped; None when an option
    names another template (a widget subclass's own)."""
    out = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:
                return None
            out.append(f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                       f'{_shown(option["label"])}</option>\n')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def raw_id_html(context: dict[str, Any]) -> str:
    """``foreign_key_raw_id.html`` for one widget's whole context (the link, the object's name)."""
    related_url, label, url = context.get("related_url"), context.get("link_label"), context.get("link_url")
    out = ["<div>" if related_url else "", input_html(context["widget"]), "\n"]
    if related_url:
        name, title = _shown(context["widget"]["name"]), _shown(context.get("link_title"))
        out.append(f'<a href="{_shown(related_url)}" class="related-lookup" id="lookup_id_{name}" title="{title}"></a>')
    if label:
        shown = f'<a href="{_shown(url)}">{_shown(label)}</a>' if url else _shown(label)
        out.append(f"\n<strong>{shown}</strong>")
    if related_url:
        out.append("</div>")
    return "".join(out).strip()


@lru_cache(maxsize=8)
def _wrapping(inner: BaseRenderer) -> InputRenderer:
    return InputRenderer(inner)


def input_renderer(inner: BaseRenderer | None = None) -> InputRenderer:
    """An :class:`InputRenderer` around ``inner`` (default: the project's form renderer), one per
    renderer, so each widget template is checked once per process, not once per request."""
    return _wrapping(inner or get_default_renderer())


class ActionForm(helpers.ActionForm):
    """Stock's changelist action form, its select and hidden input written by :class:`InputRenderer`
    (fastadmin's ``ModelAdmin.action_form``; a project's own ``action_form`` replaces it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if fa_settings.COMPILED_RESULT_LIST and kwargs.get("renderer") is None:
            kwargs["renderer"] = input_renderer()
        super().__init__(*args, **kwargs)
