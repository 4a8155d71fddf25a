"""The ``list_editable`` formset, built for a hundred rows.

Django's ``BaseForm.__init__`` translates the label suffix (``gettext(":")``) for every form: on a
page of a hundred rows that is a hundred lookups of the active language, about as much CPU as the
rows' widgets. :class:`OneLabelSuffix` translates it once per formset and hands every form the same
string, which is what each form would have set itself.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

from django.utils.translation import gettext


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
