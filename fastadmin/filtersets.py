"""A django-filter ``FilterSet`` as the changelist's filter sidebar (``ModelAdmin.filterset_class``).

The FilterSet is declared once, django-filter style, and rendered as one more sidebar section whose
form keeps the other active filters; its fields (ranges, date ranges, ...) filter the queryset
before the keyset paginator and the counter see it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import MultiWidget
from django.utils.translation import gettext_lazy as _

from .exceptions import BadParameter
from .filters import other_params


def parameter_names(filterset_class: type) -> list[str]:
    """The query-string keys a FilterSet reads (a range widget reads ``name_min`` and ``name_max``)."""
    names = []
    for name, form_field in filterset_class().form.fields.items():
        widget = form_field.widget
        if hasattr(widget, "suffixed"):  # django-filter's SuffixedMultiWidget: name_min, name_after, ...
            names += [widget.suffixed(name, suffix) for suffix in widget.suffixes]
        elif isinstance(widget, MultiWidget):
            names += [f"{name}{suffix}" for suffix in widget.widgets_names]
        else:
            names.append(name)
    return names


def filterset_list_filter(filterset_class: type) -> type[admin.ListFilter]:
    """A ``ListFilter`` class wrapping ``filterset_class`` for ``list_filter``."""

    keys = parameter_names(filterset_class)

    class FilterSetListFilter(admin.ListFilter):
        title = getattr(filterset_class.Meta, "title", None) or _("More filters")
        template = "fastadmin/filterset.html"

        def __init__(self, request, params, model, model_admin) -> None:
            super().__init__(request, params, model, model_admin)
            self.data: dict[str, Any] = {}
            for key in keys:
                if key in params:
                    value = params.pop(key)
                    self.data[key] = value[-1] if isinstance(value, list) else value
            self.filterset = filterset_class(data=self.data or None, request=request,
                                             queryset=model_admin.get_queryset(request))
            self.form = self.filterset.form

        def has_output(self) -> bool:
            return True

        def expected_parameters(self) -> list[str]:
            return keys

        def choices(self, changelist):  # the template renders the form instead
            self.changelist = changelist
            return []

        def queryset(self, request, queryset):
            if not self.data:
                return queryset
            filterset = filterset_class(data=self.data, request=request, queryset=queryset)
            if not filterset.is_valid():
                problems = "; ".join(
                    f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()
                )
                raise BadParameter(f"Invalid filter value — {problems}")
            return filterset.qs

        def hidden_params(self) -> list[tuple[str, str]]:
            return other_params(self.changelist, keys)

    FilterSetListFilter.__name__ = f"{filterset_class.__name__}ListFilter"
    return FilterSetListFilter
