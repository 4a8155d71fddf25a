"""The result table's rows: each row one pass over the compiled columns and one join.

The context has the shape stock ``result_list`` gives ``change_list_results.html``, so stock's
template (this Django version's markup) renders it: ``results`` holds, per row, a ``ResultList``
whose single item is the joined row (the template concatenates a row's items with nothing between
them). A row whose form has non-field errors keeps one item per cell, as the template's
``colspan="{{ result|length }}"`` counts them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    items_for_result,
    result_headers,
    result_hidden_fields,
)
from django.core.exceptions import ObjectDoesNotExist
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from .columns import Column, compile_columns


def result_list_context(cl) -> dict[str, Any]:
    """What stock ``result_list(cl)`` returns, with the rows rendered by the compiled columns."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": render_rows(cl),
    }


def render_rows(cl) -> list[ResultList]:
    columns = compile_columns(cl)
    if not cl.formset:
        return [ResultList(None, [SafeString("".join(_cells(columns, obj)))]) for obj in cl.result_list]
    pk_name = cl.model._meta.pk.name
    rows = []
    no_errors: dict[tuple, str] = {}
    for obj, form in zip(cl.result_list, cl.formset.forms, strict=False):
        cells = _form_cells(cl, columns, obj, form, pk_name, no_errors)
        rows.append(ResultList(form, cells if form.non_field_errors() else [SafeString("".join(cells))]))
    return rows


def _cells(columns: list[Column], obj) -> list[str]:
    try:
        return [column.cell(obj) for column in columns]
    except ObjectDoesNotExist:  # a missing related object: stock shows the empty value in that cell
        return [_cell_or_missing(column, obj) for column in columns]


def _cell_or_missing(column: Column, obj) -> str:
    try:
        return column.cell(obj)
    except ObjectDoesNotExist:
        return column.missing(obj)


def _form_cells(cl, columns: list[Column], obj, form, pk_name: str, no_errors: dict[tuple, str]) -> list[str]:
    """A list_editable row: the form's fields (errors, then widget) in their columns, the visible
    primary key field last; a row whose editable cell has a value-dependent class is stock's.

    An empty error list renders its template once per request (``no_errors``, keyed by what that
    output depends on: class, renderer, template and CSS class), not once per cell."""
    fields = form.fields
    pk_hidden = form[pk_name].is_hidden
    cells = []
    for column in columns:
        key = column.key
        if column.link or key not in fields or (key == pk_name and pk_hidden):
            cells.append(_cell_or_missing(column, obj))
        elif column.open_tag is None:
            return [str(item) for item in items_for_result(cl, obj, form)]
        else:
            bound = form[key]
            cells.append(f"{column.open_tag}{_errors_html(bound.errors, no_errors)}{bound}</td>")
    if not pk_hidden:
        cells.append(f"<td>{conditional_escape(form[pk_name])}</td>")
    return cells


def _errors_html(errors, no_errors: dict[tuple, str]) -> str:
    if errors:
        return str(errors)
    key = (type(errors), id(getattr(errors, "renderer", None)), getattr(errors, "template_name", None),
           getattr(errors, "error_class", None))
    html = no_errors.get(key)
    if html is None:
        html = no_errors[key] = str(errors)
    return html
