"""Form plumbing: the hidden token field of the change form and the list_editable formset over a page."""

from __future__ import annotations

from typing import Any

from django import forms

from .tokens import TOKEN


class EditTokenField(forms.CharField):
    """Hidden carrier of the signed edit token; never "changed", never written to the model."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "")
        super().__init__(**kwargs)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return False


def token_form(form_class: type[forms.BaseModelForm]) -> type[forms.BaseModelForm]:
    """``form_class`` plus the hidden token field (filled in by ``render_change_form``)."""
    if TOKEN in getattr(form_class, "declared_fields", {}):
        return form_class
    return type(form_class.__name__, (form_class,), {TOKEN: EditTokenField(), "__module__": form_class.__module__})


class PageFormSetMixin:
    """A changelist formset over ``cl.result_list``: fastadmin's page is a list of rows, not a
    QuerySet (stock ``BaseModelFormSet.get_queryset`` calls ``.ordered`` on it)."""

    def get_queryset(self):
        if isinstance(self.queryset, list | tuple):
            return list(self.queryset)
        return super().get_queryset()
