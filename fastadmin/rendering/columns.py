"""Each ``list_display`` column compiled once per request into a cell closure.

Stock ``items_for_result`` re-derives everything for every cell of every row: the field lookup, the
empty value, ``isinstance`` chains over the field type, the link's ``reverse()`` and preserved-filter
parsing, one ``format_html`` per step. Here those decisions are taken once per column and per
request (the locale, the time zone and the preserved filters are fixed for a request); a row is then
a list of closure calls. The output is byte-for-byte what the installed Django's ``items_for_result``
produces, 5.2 or 6.x (``tests/test_rendering.py`` compares the two); anything this module does not
recognise (generic relations, reverse one-to-ones, ``a__b`` paths, instance attributes, ...) gets
:func:`.values._stock_repr`, a per-row replay of stock's own steps.

Where 6.0 changed stock, :data:`DJANGO_6` picks its behaviour: 5.2's ``items_for_result`` turns a
blank string into ``""`` before displaying it, 6.0's ``display_for_value`` strips every string that is
not marked safe (and shows an empty one as empty, a boolean column's empty value as "unknown"),
displays a ``user.password`` with its hash summary, and formats an ``a__b`` column with its terminal
field (``display_for_field``, ``nowrap`` for dates) instead of ``display_for_value``.

Contract of a compiled :class:`Column`: ``cell(obj) -> str`` is the whole ``<td>``/``<th>``;
``missing(obj)`` is that cell when the value's lookup raised ``ObjectDoesNotExist``; ``open_tag`` is
the cell's opening tag when its class does not depend on the value (None otherwise), used for
``list_editable`` widgets.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value
from django.contrib.admin.views.main import ChangeList as StockChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.templatetags.static import static
from django.urls import NoReverseMatch
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.translation import gettext

from .dates import datetime_formatter
from .values import DJANGO_6, _blank_to_empty, _value_repr, escape_cell

_escape = html.escape

_PK_TOKEN = "fastadminpk0"  # unchanged by admin's quote() and by URL quoting


@dataclass(slots=True)
class Column:
    key: Any  # the list_display entry (a form field name for list_editable)
    link: bool
    cell: Callable[[Any], str]
    missing: Callable[[Any], str]
    open_tag: str | None


class Env:
    """What every column of one request shares: empty value, icons, link parts."""

    def __init__(self, cl) -> None:
        self.empty = cl.model_admin.get_empty_value_display()
        names = ((True, "yes"), (False, "no"), (None, "unknown"))
        self.icon_url = {v: static(f"admin/img/icon-{n}.svg") for v, n in names}
        self.icons = {v: f'<img src="{_escape(url)}" alt="{v}">' for v, url in self.icon_url.items()}
        self.href = _href_builder(cl)
        if cl.is_popup:
            attr = str(cl.to_field) if cl.to_field else cl.lookup_opts.pk.attname
            self.popup = lambda obj: f' data-popup-opener="{conditional_escape(obj.serializable_value(attr))}"'
        else:
            self.popup = None

    def icon(self, value: Any) -> str:
        """Stock's ``_boolean_icon``: the icon of ``{True, False, None}[value]``, alt text ``str(value)``."""
        if value is True or value is False or value is None:
            return self.icons[value]
        url = self.icon_url[{True: True, False: False, None: None}[value]]
        return format_html('<img src="{}" alt="{}">', url, value)


def _href_builder(cl) -> Callable[[Any], str | None]:
    """The escaped change URL of a row (with the preserved filters), or None (no URL: no link).

    Stock reverses and re-parses the URL per row. Built once for a token pk and split around it, an
    integer pk is then pasted in; any other pk (or an overridden ``url_for_result``) takes stock's
    per-row way."""

    def per_row(obj) -> str | None:
        try:
            url = cl.url_for_result(obj)
        except NoReverseMatch:
            return None
        return _escape(add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url))

    if type(cl).url_for_result is not StockChangeList.url_for_result:
        return per_row
    try:
        url = cl.url_for_result(SimpleNamespace(**{cl.pk_attname: _PK_TOKEN}))
    except NoReverseMatch:
        return lambda obj: None
    url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
    parts = _escape(url).split(_PK_TOKEN)
    if len(parts) != 2:
        return per_row
    before, after = parts
    attname = cl.pk_attname

    def href(obj) -> str | None:
        pk = getattr(obj, attname)
        return f"{before}{pk}{after}" if type(pk) is int else per_row(obj)

    return href


def coerce_name(name: Any, index: int) -> str:
    """Stock's column name for classes: a callable's ``__name__`` (``lambda<i>`` for a lambda)."""
    if callable(name):
        return f"lambda{index}" if name.__name__ == "<lambda>" else name.__name__
    return name


def compile_columns(cl) -> list[Column]:
    env = Env(cl)
    links = cl.list_display_links
    first = True
    columns = []
    for index, name in enumerate(cl.list_display):
        link = False if links is None else (first and not links) or name in links
        tag = "th" if link and first else "td"
        if link:
            first = False
        columns.append(_column(env, cl, name, index, link, tag))
    return columns


def _column(env: Env, cl, name: Any, index: int, link: bool, tag: str) -> Column:
    field_class = f"field-{coerce_name(name, index)}"
    field = _model_field(cl.lookup_opts, name)
    if field is not None and not field.auto_created:
        nowrap = isinstance(field, (models.DateField, models.TimeField, models.ForeignKey))
        repr_ = _field_repr(env, field, link)
        return _static(env, name, link, tag, f"{field_class} nowrap" if nowrap else field_class, repr_, field_class)
    if name == "action_checkbox":
        checkbox = _fast_checkbox(cl.model_admin)
        if checkbox is not None:
            return _static(env, name, link, tag, "action-checkbox", checkbox, field_class)
    repr_ = _value_repr(env, cl, name, field, field_class, link)
    return _dynamic(env, name, link, tag, field_class, repr_)


def _model_field(opts, name: Any):
    """The field stock's ``lookup_field`` displays with ``display_for_field``, if it is a plain one:
    a concrete column or forward foreign key (not a GFK, reverse relation, many-to-many or ``<fk>_id``)."""
    if not isinstance(name, str):
        return None
    try:
        field = opts.get_field(name)
    except FieldDoesNotExist:
        return None
    if not field.concrete or field.many_to_many or (field.is_relation and field.attname == name):
        return None
    return field


def _static(env: Env, key, link: bool, tag: str, classes: str, repr_: Callable[[Any], str],
            field_class: str) -> Column:
    """A column whose classes are fixed: the opening tag is one constant. A missing related object
    leaves only ``field-<name>`` (stock adds the type's classes after a successful lookup)."""
    open_tag = f'<{tag} class="{classes}">'
    missing_open = f'<{tag} class="{field_class}">'
    close = f"</{tag}>"
    empty = conditional_escape(env.empty)
    if not link:
        return Column(key, False, lambda obj: f"{open_tag}{repr_(obj)}{close}",
                      lambda obj: f"{missing_open}{empty}{close}", open_tag)
    wrap = _link_wrapper(env)
    return Column(key, True, lambda obj: f"{open_tag}{wrap(obj, repr_(obj))}{close}",
                  lambda obj: f"{missing_open}{wrap(obj, empty)}{close}", open_tag)


def _dynamic(env: Env, key, link: bool, tag: str, field_class: str, repr_: Callable[[Any], tuple[str, str]]) -> Column:
    """A column whose classes depend on the value (``nowrap`` for dates, ``action-checkbox``):
    ``repr_`` returns (html, classes)."""
    close = f"</{tag}>"
    empty = conditional_escape(env.empty)
    missing_open = f'<{tag} class="{field_class}">'
    wrap = _link_wrapper(env) if link else None

    def cell(obj) -> str:
        inner, classes = repr_(obj)
        return f'<{tag} class="{classes}">{wrap(obj, inner) if wrap else inner}{close}'

    def missing(obj) -> str:
        return f"{missing_open}{wrap(obj, empty) if wrap else empty}{close}"

    return Column(key, link, cell, missing, None)


def _link_wrapper(env: Env) -> Callable[[Any, str], str]:
    href, popup = env.href, env.popup

    def wrap(obj, inner: str) -> str:
        url = href(obj)
        if url is None:
            return inner
        return f'<a href="{url}"{popup(obj) if popup else ""}>{inner}</a>'

    return wrap


def _field_repr(env: Env, field, link: bool) -> Callable[[Any], str]:
    """Stock's ``display_for_field`` branch for ``field``, chosen once: returns the escaped cell text."""
    name, empty = field.name, env.empty
    empty_html = conditional_escape(empty)
    if field.is_relation:  # forward FK / one-to-one: str() of the related object

        def related(obj) -> str:
            value = getattr(obj, name)
            return empty_html if value is None else escape_cell(value)

        return related
    if DJANGO_6 and name == "password":  # 6.0: a user model's password shows its hash summary
        return _generic_field(field, empty, link)
    if getattr(field, "flatchoices", None):
        try:
            labels = {k: conditional_escape(v) for k, v in dict(field.flatchoices).items()}
        except TypeError:  # list-like choices: stock's hashable fallback, per row
            return _generic_field(field, empty, link)
        get = labels.get

        def choice(obj) -> str:
            value = _blank_to_empty(getattr(obj, name))
            try:
                return get(value, empty_html)
            except TypeError:  # an unhashable value: stock's make_hashable path
                return escape_cell(display_for_field(value, field, empty))

        return choice
    if isinstance(field, models.BooleanField):
        icon = env.icon
        return lambda obj: icon(_blank_to_empty(getattr(obj, name)))
    empty_values = field.empty_values
    if isinstance(field, models.DateTimeField):
        fmt = _text(datetime_formatter())
    elif isinstance(field, (models.DateField, models.TimeField)):
        fmt = _text(formats.localize)
    elif isinstance(field, models.DecimalField):
        places = field.decimal_places
        fmt = _text(lambda value: formats.number_format(value, places))
    elif isinstance(field, (models.IntegerField, models.FloatField)):
        fmt = _text(formats.number_format)
    elif isinstance(field, (models.FileField, models.URLField, models.JSONField)):
        return _generic_field(field, empty, link)
    else:
        fmt = _text(lambda value: display_for_value(value, empty))

    def formatted(obj) -> str:
        value = _blank_to_empty(getattr(obj, name))
        return empty_html if value in empty_values else fmt(value)

    return formatted


def _text(fmt: Callable[[Any], Any]) -> Callable[[Any], str]:
    """``fmt`` followed by the escaping ``format_html`` applies (safe strings pass unchanged)."""

    def escaped(value: Any) -> str:
        out = fmt(value)
        return out if hasattr(out, "__html__") else _escape(str(out))

    return escaped


def _generic_field(field, empty, link: bool) -> Callable[[Any], str]:
    name = field.name

    def generic(obj) -> str:
        value = _blank_to_empty(getattr(obj, name))
        return escape_cell(display_for_field(value, field, empty, avoid_link=link))

    return generic


def _fast_checkbox(model_admin) -> Callable[[Any], str] | None:
    """fastadmin's own ``action_checkbox`` (not a project's override), with its label translated once."""
    from fastadmin.options import FastAdminMixin

    if type(model_admin).action_checkbox is not FastAdminMixin.action_checkbox:
        return None
    label = gettext("Select this object for an action - {}")

    def checkbox(obj) -> str:
        text = label.format(_escape(str(obj)))
        return (f'<input type="checkbox" name="_selected_action" value="{_escape(str(obj.pk))}" '
                f'class="action-select" aria-label="{text}">')

    return checkbox


