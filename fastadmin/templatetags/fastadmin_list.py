"""Template tags for fastadmin's changelist blocks (see ``templates/fastadmin/change_list.html``)."""

from __future__ import annotations

from django import template
from django.contrib.admin.templatetags.admin_list import (
    result_list as stock_result_list,
)
from django.contrib.admin.templatetags.admin_list import (
    search_form as stock_search_form,
)
from django.contrib.admin.views.main import IS_FACETS_VAR, IS_POPUP_VAR, SEARCH_VAR
from django.template.base import render_value_in_context
from django.utils.encoding import iri_to_uri
from django.utils.safestring import mark_safe

from fastadmin.date_hierarchy import date_hierarchy
from fastadmin.rendering import compiled_results_template, renders_template, result_list_context
from fastadmin.rendering.sidebar import render_nav_sidebar

register = template.Library()


def _inclusion(
    name: str, func, template_name, takes_context: bool | str = False, extends: str | None = None,
    compile_template=None,
):
    """An inclusion tag whose template can be overridden per model and per app, like the admin's own
    (``admin/<app>/<model>/<name>``, ``admin/<app>/<name>``, ``admin/<name>``), built on public
    template API only (the admin's ``InclusionAdminNode`` changed signature in Django 6).

    ``template_name`` may be a callable of the tag's arguments. ``takes_context="template"`` passes
    ``func`` the selected template instead of the context (to adapt to a project's override).
    ``extends`` names a stock template, looked up the same way and passed as ``stock_template`` for
    ``{% extends stock_template %}``, so fastadmin overrides one block of this Django version's markup
    (and of a project's override). ``compile_template`` maps the selected template (after ``func``
    has seen it) to the one rendered."""

    @register.simple_tag(name=name, takes_context=True)
    def tag(context, *args):
        def lookup(file: str):
            return admin_template(context, file)

        template = lookup(template_name(*args) if callable(template_name) else template_name)
        if takes_context == "template":
            data = func(template, *args)
        else:
            data = func(context, *args) if takes_context else func(*args)
        if compile_template is not None:
            template = compile_template(template)
        new_context = context.new(data.flatten() if hasattr(data, "flatten") else data)
        if extends is not None:
            new_context["stock_template"] = lookup(extends)
        if context.get("csrf_token") is not None:
            new_context["csrf_token"] = context["csrf_token"]
        return template.render(new_context)

    return tag


def admin_template(context, file: str):
    """``file`` as the admin looks it up: per model, per app, then ``admin/<file>``."""
    opts = context["opts"]
    return context.template.engine.select_template([
        f"admin/{opts.app_label}/{opts.model_name}/{file}",
        f"admin/{opts.app_label}/{file}",
        f"admin/{file}",
    ])


def pagination(cl):
    return {"cl": cl}


def _counts_are_exact(cl) -> bool:
    return cl.count.exact and (cl.full_count is None or cl.full_count.exact)


def search_form(cl):
    if _counts_are_exact(cl):
        return stock_search_form(cl)
    return {
        "cl": cl,
        "show_result_count": bool(cl.query) or bool(cl.has_active_filters),
        "search_var": SEARCH_VAR,
        "is_popup_var": IS_POPUP_VAR,
        "is_facets_var": IS_FACETS_VAR,
    }


def search_form_template(cl) -> str:
    """Stock's search form (this Django version's markup) unless a count it shows is an estimate."""
    return "search_form.html" if _counts_are_exact(cl) else "fastadmin/search_form.html"


def actions(context):
    context["action_index"] = context.get("action_index", -1) + 1
    return context


def result_list(template, cl):
    """The compiled renderer's rows (:mod:`fastadmin.rendering`) in Django's own template; a project's
    ``change_list_results.html`` gets stock's context, item by item, as it expects."""
    return result_list_context(cl) if renders_template(template) else stock_result_list(cl)


@register.simple_tag
def fastadmin_page_token(cl):
    """The page token of fastadmin.locking, beside the results (stock's ``hiddenfields`` block
    holds the formset's own hidden fields only)."""
    page_token = getattr(cl.model_admin, "page_token_input", None)
    return page_token(cl) if page_token is not None else ""


@register.simple_tag(takes_context=True)
def fastadmin_nav_sidebar(context):
    """The ``nav-sidebar`` block: Django's, reused while its inputs stay the same
    (:mod:`fastadmin.rendering.sidebar`)."""
    return render_nav_sidebar(context)


@register.simple_tag(takes_context=True)
def fastadmin_filter_choices(context, choices, line_break=False):
    """A filter's ``<li>`` links, as the template loop they replace printed them (one pass over a
    hundred choices instead of a hundred loop iterations with three variable lookups each).
    ``line_break``: Django's ``admin/filter.html`` breaks the line between ``<li>`` and ``<a>``."""
    between = "\n    " if line_break else ""
    items = []
    for choice in choices:
        selected = ' class="selected"' if choice.get("selected") else ""
        href = render_value_in_context(iri_to_uri(choice["query_string"]), context)
        display = render_value_in_context(choice["display"], context)
        items.append(f'\n    <li{selected}>{between}<a href="{href}">{display}</a></li>\n  ')
    return mark_safe("".join(items))


@register.simple_tag(takes_context=True)
def fastadmin_items(context, items):
    """``{% for item in items %}{{ item }}{% endfor %}`` in one pass."""
    return mark_safe("".join([render_value_in_context(item, context) for item in items]))


@register.simple_tag(takes_context=True)
def fastadmin_result_rows(context, results):
    """The row loop of Django's ``change_list_results.html`` in one pass: per row, a line with the
    form's non-field errors (spanning the row) when it has any, then the row's items."""
    out = []
    for result in results:
        out.append("\n")
        form = result.form
        errors = form.non_field_errors() if form else None
        if errors:
            span = render_value_in_context(len(result), context)
            out.append(f'\n    <tr><td colspan="{span}">{render_value_in_context(errors, context)}</td></tr>\n')
        out.append("\n<tr>")
        out.extend([render_value_in_context(item, context) for item in result])
        out.append("</tr>\n")
    return mark_safe("".join(out))


_inclusion("fastadmin_pagination", pagination, "fastadmin/pagination.html")
_inclusion("fastadmin_search_form", search_form, search_form_template)
_inclusion("fastadmin_actions", actions, "fastadmin/actions.html", takes_context=True, extends="actions.html")
_inclusion("fastadmin_date_hierarchy", date_hierarchy, "date_hierarchy.html")
_inclusion("fastadmin_result_list", result_list, "change_list_results.html", takes_context="template",
           compile_template=lambda t: compiled_results_template(t) if renders_template(t) else t)
