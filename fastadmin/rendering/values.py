"""Columns shown with ``display_for_value`` (admin and model callables, properties, the auto primary
key) and the per-row replay of stock's steps for anything :mod:`.columns` does not compile; plus the
string handling Django 6.0 changed (:data:`DJANGO_6`). Contract as in :mod:`.columns`: each returns
``repr_(obj) -> (cell html, classes)``.
"""

from __future__ import annotations

import datetime
import decimal
import html
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import django
from django.contrib.admin.utils import display_for_field, display_for_value, get_fields_from_path, lookup_field
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import EMPTY_VALUES
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.utils import formats
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from .columns import Env

_DATE_TYPES = (datetime.date, datetime.time)
#: Stock's row rendering as changed in Django 6.0 (see :mod:`.columns`).
DJANGO_6 = django.VERSION >= (6, 0)


def escape_cell(value: Any) -> str:
    """Django's ``conditional_escape``, without the lazy-string wrapper its ``escape`` carries (a
    call per cell of every row)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return SafeString(html.escape(str(value)))


def _blank_to_empty(value: Any) -> Any:
    """5.2's ``items_for_result`` step; on 6.x ``display_for_value`` strips strings itself."""
    if DJANGO_6:
        return value
    return "" if isinstance(value, str) and value.strip() == "" else value


def _stripped(value: str) -> str:
    """A string cell's text before display: 6.x strips it (unless marked safe), 5.2 only blanks it."""
    if DJANGO_6:
        return value if isinstance(value, SafeString) else value.strip()
    return "" if value.strip() == "" else value


def _value_repr(env: Env, cl, name: Any, field, field_class: str, link: bool) -> Callable[[Any], tuple[str, str]]:
    """Columns shown with ``display_for_value``: admin and model callables, properties, the auto
    primary key; anything else replays stock's lookup per row."""
    model_admin, model, admin_empty = cl.model_admin, cl.model, env.empty
    classes = "action-checkbox" if name == "action_checkbox" else field_class
    if field is not None:  # auto-created primary key: no attr, the value itself
        def get(obj):
            return getattr(obj, name)
        attr = None
    elif callable(name):
        attr = name
        get = attr
    elif isinstance(name, str) and hasattr(model_admin, name) and name != "__str__":
        attr = getattr(model_admin, name)
        get = attr
    elif isinstance(name, str) and _is_method_or_property(model, name):
        attr = getattr(model, name)

        def get(obj):
            value = getattr(obj, name)
            return value() if callable(value) else value
    else:
        return _stock_repr(env, cl, name, field_class, link)
    empty = getattr(attr, "empty_value_display", admin_empty)
    boolean = getattr(attr, "boolean", False)
    if isinstance(attr, property) and hasattr(attr, "fget"):
        boolean = getattr(attr.fget, "boolean", False)
    return _display_value(env, get, empty, boolean, classes)


def _is_method_or_property(model, name: str) -> bool:
    static_attr = inspect.getattr_static(model, name, None)
    return inspect.isfunction(static_attr) or isinstance(static_attr, property)


def _display_value(env: Env, get, empty, boolean: bool, classes: str) -> Callable[[Any], tuple[str, str]]:
    empty_html = conditional_escape(empty)
    nowrap = f"{classes} nowrap"
    icon = env.icon

    def value_repr(obj) -> tuple[str, str]:
        value = get(obj)
        if isinstance(value, str):
            value = _stripped(value)
            if value and not boolean:  # display_for_value(str) is str(value)
                return escape_cell(value), classes
        if boolean:
            shown = icon(None if DJANGO_6 and value in EMPTY_VALUES else value)
        elif value in EMPTY_VALUES:
            shown = empty_html
        elif isinstance(value, (int, decimal.Decimal, float)) and not isinstance(value, bool):
            shown = escape_cell(formats.number_format(value))
        else:
            shown = escape_cell(display_for_value(value, empty))
        return shown, (nowrap if isinstance(value, _DATE_TYPES) else classes)

    return value_repr


def _stock_repr(env: Env, cl, name: Any, field_class: str, link: bool) -> Callable[[Any], tuple[str, str]]:
    """Stock's steps for one cell, per row (``lookup_field`` then ``display_for_value``/``_field``)."""
    model_admin, admin_empty = cl.model_admin, env.empty

    def stock(obj) -> tuple[str, str]:
        f, attr, value = lookup_field(name, obj, model_admin)
        empty = getattr(attr, "empty_value_display", admin_empty)
        value = _blank_to_empty(value)
        classes = [field_class]
        if DJANGO_6 and f is None and isinstance(name, str) and LOOKUP_SEP in name:
            try:  # 6.0: a chain of relations is displayed by its terminal field
                f = get_fields_from_path(cl.model, name)[-1]
            except FieldDoesNotExist:
                pass
        if f is None or f.auto_created:
            boolean = getattr(attr, "boolean", False)
            if isinstance(attr, property) and hasattr(attr, "fget"):
                boolean = getattr(attr.fget, "boolean", False)
            if boolean and not DJANGO_6:
                shown = env.icon(value)
            else:
                shown = display_for_value(value, empty, boolean)
            if isinstance(value, _DATE_TYPES):
                classes.append("nowrap")
        else:
            if isinstance(f.remote_field, models.ManyToOneRel):
                related = value if DJANGO_6 else getattr(obj, f.name)
                shown = empty if related is None else related
            else:
                shown = display_for_field(value, f, empty, avoid_link=link)
            if isinstance(f, (models.DateField, models.TimeField, models.ForeignKey)):
                classes.append("nowrap")
        return escape_cell(shown), " ".join(classes)

    return stock
