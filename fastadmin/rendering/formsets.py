"""The ``list_editable`` and inline formsets, built for a hundred rows.

Django's ``BaseForm.__init__`` translates the label suffix (``gettext(":")``) for every form: on a
page of a hundred rows that is a hundred lookups of the active language, about as much CPU as the
rows' widgets. :class:`OneLabelSuffix` translates it once per formset and hands every form the same
string, which is what each form would have set itself.

A foreign key in ``list_editable`` is a ``<select>`` per row, and each row's select reads the related
table again (its ``ModelChoiceIterator`` runs the field's queryset when rendered): a hundred queries
for one page. :class:`SharedChoices` reads the choices once per formset and gives every row's widget
the same list, so the page has the same options and one query. A foreign key in ``raw_id_fields``
names its object beside each row's input, one ``.get()`` per row in stock; those objects are read in
one query too (:mod:`.raw_id`).
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

from django.contrib.admin.widgets import AutocompleteMixin, ForeignKeyRawIdWidget
from django.forms import ModelChoiceField
from django.forms.models import ModelChoiceIterator
from django.forms.widgets import ChoiceWidget
from django.utils.translation import gettext

from fastadmin.conf import fa_settings

from .raw_id import PageLabels, PageRawIdWidget, raw_id_widget


class OneLabelSuffix:
    """Formset mixin: every form gets the label suffix translated once for the formset (a
    ``label_suffix`` in ``form_kwargs`` is kept)."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if "label_suffix" not in kwargs:
            if not hasattr(self, "_label_suffix"):
                self._label_suffix = gettext(":")
            kwargs["label_suffix"] = self._label_suffix
        return kwargs


def takes_label_suffix(form_class: type) -> bool:
    """Whether ``form_class(label_suffix=…)`` is accepted: Django's forms, and forms whose own
    ``__init__`` takes ``label_suffix`` or ``**kwargs`` (not one with a closed signature)."""
    return _init_takes_label_suffix(form_class.__init__)


@cache  # by __init__, not by class: the admin builds a new form class on every request
def _init_takes_label_suffix(init: Any) -> bool:
    try:
        parameters = inspect.signature(init).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "label_suffix" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def with_one_label_suffix(formset_class: type) -> type:
    """``formset_class`` with :class:`OneLabelSuffix`, when its form accepts the argument."""
    if not takes_label_suffix(formset_class.form):
        return formset_class
    return type(formset_class.__name__, (OneLabelSuffix, formset_class), {})


class SharedChoices:
    """Formset mixin: the choices of each model-choice ``<select>``, and the objects named by each
    raw-id input (stock's widget class itself, not a project's subclass), are read once for all forms.

    The choices are read with ``LIMIT EDITABLE_MAX_CHOICES + 1``: a foreign key with more is a raw-id
    input instead (as ``raw_id_fields`` would make it), as a hundred rows of a million-option select is
    no page.
    Only where every form's field has the same queryset: the form class has no ``__init__`` beyond
    Django's (a project's own ``__init__`` may narrow each row's queryset by its instance). Other
    widgets (hidden primary key, autocomplete) are left alone."""

    #: The admin site a raw-id input's lookup link opens (None: selects stay selects).
    admin_site: Any = None

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        shared = self.__dict__.setdefault("_shared", {})
        for name, field in form.fields.items():
            if not isinstance(field, ModelChoiceField):
                continue
            if name not in shared:  # read once per field name; the later forms reuse it
                if _lists_choices(field.widget):
                    shared[name] = self._choices(type(form.instance), name, field)
                elif type(field.widget) is ForeignKeyRawIdWidget:
                    shared[name] = PageLabels(field.widget)
            found = shared.get(name)
            if isinstance(found, list):
                field.widget.choices = found
            elif isinstance(found, PageLabels):
                field.widget = PageRawIdWidget.sharing(found.widget_for(field), found)
                found.add(form[name].value())

    def _choices(self, model: Any, name: str, field: ModelChoiceField) -> list | PageLabels:
        """Every choice of ``field``, or, past ``EDITABLE_MAX_CHOICES`` for a foreign key, the labels
        of a raw-id input standing in for the select."""
        if self.admin_site is not None:
            choices = read_choices(field, fa_settings.EDITABLE_MAX_CHOICES)
            if choices is not None:
                return choices
            widget = raw_id_widget(model, name, field, self.admin_site)
            if widget is not None:
                return PageLabels(widget)
        # Not list(): it asks the iterator's __len__, a COUNT(*) of the related table.
        return [choice for choice in field.widget.choices]


def read_choices(field: ModelChoiceField, limit: int) -> list | None:
    """What ``field``'s ``ModelChoiceIterator`` yields, its rows read with ``LIMIT limit + 1``: None
    when there are more than ``limit``. A project's own iterator class is iterated whole."""
    iterator = field.widget.choices
    if type(iterator) is not ModelChoiceIterator:
        return [choice for choice in iterator]
    rows = list(iterator.queryset[: limit + 1])
    if len(rows) > limit:
        return None
    head = [("", field.empty_label)] if field.empty_label is not None else []
    return head + [iterator.choice(obj) for obj in rows]


def _lists_choices(widget: Any) -> bool:
    inner = getattr(widget, "widget", widget)  # the admin's RelatedFieldWidgetWrapper
    return isinstance(inner, ChoiceWidget) and not isinstance(inner, AutocompleteMixin)


def _own_init_only(form_class: type) -> bool:
    """Whether every ``__init__`` in ``form_class``'s MRO is Django's (or this module's)."""
    return all("__init__" not in vars(cls) or cls is object or cls.__module__.startswith(("django.", __name__))
               for cls in form_class.__mro__)


def with_shared_choices(formset_class: type, admin_site: Any = None) -> type:
    """``formset_class`` with :class:`SharedChoices`, when its form class allows it; ``admin_site``
    turns a foreign key with too many choices into a raw-id input linking to that site."""
    if not _own_init_only(formset_class.form):
        return formset_class
    return type(formset_class.__name__, (SharedChoices, formset_class), {"admin_site": admin_site})
