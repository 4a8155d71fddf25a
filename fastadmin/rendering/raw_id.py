"""Raw-id inputs in ``list_editable`` and inline rows, their objects read once for the page.

Stock's ``ForeignKeyRawIdWidget`` prints the related object's name beside the input, read with one
``.get()`` per row: a hundred queries for a page whose foreign key is in ``raw_id_fields``.
:class:`PageLabels` collects the values of every row first (the formset builds all its forms before
any renders) and reads their objects in one ``IN`` query on the first render; a value that query did
not find (a posted value in another spelling, a deleted object) takes stock's own per-row path.

:func:`raw_id_widget` is the raw-id input a foreign key gets in an editable row when it has more
than ``EDITABLE_MAX_CHOICES`` choices: stock would print every related row as an ``<option>`` in
every row of the page.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator


class PageLabels:
    """The objects of one raw-id field's values across a formset's rows."""

    def __init__(self, widget: ForeignKeyRawIdWidget) -> None:
        self.widget = widget
        self.values: list[Any] = []
        self.found: dict[str, Any] | None = None

    def widget_for(self, field: Any) -> ForeignKeyRawIdWidget:
        """The raw-id widget of one form's ``field``: its own, or the one it was given for a select
        replaced by :func:`raw_id_widget`."""
        return field.widget if isinstance(field.widget, ForeignKeyRawIdWidget) else self.widget

    def add(self, value: Any) -> None:
        if value not in (None, ""):
            self.values.append(value)

    def get(self, value: Any) -> Any:
        if self.found is None:
            self.found = self._read()
        return self.found.get(str(value))

    def _read(self) -> dict[str, Any]:
        rel = self.widget.rel
        key = rel.get_related_field().name
        manager = rel.model._default_manager.using(self.widget.db)
        try:
            return {str(getattr(obj, key)): obj for obj in manager.filter(**{f"{key}__in": set(self.values)})}
        except (ValueError, TypeError, ValidationError):  # a posted value of the wrong type: per row
            return {}


class PageRawIdWidget(ForeignKeyRawIdWidget):
    """Stock's widget (same markup), its object taken from :class:`PageLabels`."""

    labels: PageLabels

    @classmethod
    def sharing(cls, widget: ForeignKeyRawIdWidget, labels: PageLabels) -> PageRawIdWidget:
        """``widget`` (one form's copy, with the attributes its field set) reading from ``labels``."""
        shared = cls.__new__(cls)
        shared.__dict__.update(widget.__dict__)
        shared.labels = labels
        return shared

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        obj = self.labels.get(value)
        if obj is None:
            return super().label_and_url_for_value(value)
        # The rest of stock's method, for the object it would have read.
        try:
            url = reverse(f"{self.admin_site.name}:{obj._meta.app_label}_{obj._meta.model_name}_change",
                          args=(obj.pk,))
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


def raw_id_widget(model: Any, name: str, field: Any, admin_site: Any) -> ForeignKeyRawIdWidget | None:
    """The raw-id input ``raw_id_fields`` would give ``model``'s foreign key ``name`` (its form field
    ``field``), linking to ``admin_site``; None for anything but a concrete foreign key."""
    try:
        db_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not (db_field.many_to_one or db_field.one_to_one) or not db_field.concrete:
        return None
    # What Field.__init__ does to the widget it is given.
    widget = copy.deepcopy(ForeignKeyRawIdWidget(db_field.remote_field, admin_site, using=field.queryset.db))
    widget.is_localized, widget.is_required = field.localize, field.required
    widget.attrs.update(field.widget_attrs(widget))
    return widget
