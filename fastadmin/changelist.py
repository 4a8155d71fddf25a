"""fastadmin's ChangeList: stock filtering, ordering and search, then keyset paging and estimated counts.

The flow of one changelist GET, each step delegating to the ModelAdmin's strategy objects::

    filters (bounded) -> search backend -> paginator.page(cursor) -> counter.count() -> templates
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest, QueryDict

from .counting import Count
from .exceptions import BadParameter
from .filters import changelist_filters, other_params
from .guards import read_alias, stage

CURSOR_VAR = "cursor"
SEEK_VAR = "seek"
COUNT_VAR = "_count"
# Parameters the changelist reads itself; stock ChangeList would take them for field lookups.
FASTADMIN_PARAMS = (CURSOR_VAR, SEEK_VAR, COUNT_VAR)


class FastChangeList(ChangeList):
    """A ChangeList whose ``get_results`` pages by cursor and counts by estimate."""

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise BadParameter("The address contains a NUL character, which no value may hold.", param=name)
        self.cursor = request.GET.get(CURSOR_VAR) or None
        self.seek = request.GET.get(SEEK_VAR, "").strip() or None
        self.count_exactly = request.GET.get(COUNT_VAR) == "exact"
        if any(name in request.GET for name in FASTADMIN_PARAMS):
            # Stock ChangeList treats every unknown parameter as a field lookup; hide ours from it.
            request.GET = _without(request.GET, FASTADMIN_PARAMS)
        super().__init__(request, *args, **kwargs)

    def get_filters(self, request: HttpRequest):
        """Stock's specs, built from :func:`~fastadmin.filters.changelist_filters` (bounded classes,
        estimated facets). ``self.list_filter`` stays what ``get_list_filter`` returned, which projects
        and Django's tests read back; stock reads it only here, so it holds the converted list just
        while stock builds the specs."""
        declared = self.list_filter
        self.list_filter = changelist_filters(declared, self.model_admin)
        try:
            return super().get_filters(request)
        finally:
            self.list_filter = declared

    def apply_select_related(self, queryset):
        """Stock joins only non-null foreign keys shown in ``list_display`` (``select_related()``),
        so a nullable one costs a query per row; join every shown foreign key instead."""
        if self.list_select_related is False:
            shown = [name for name in self.list_display if self._is_shown_relation(name)]
            if shown:
                return queryset.select_related(*shown)
        return super().apply_select_related(queryset)

    def _is_shown_relation(self, name: Any) -> bool:
        if not isinstance(name, str):
            return False
        try:
            field = self.lookup_opts.get_field(name)
        except FieldDoesNotExist:
            return False
        return bool(field.many_to_one or field.one_to_one) and field.concrete

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None):
        with stage("filtering and searching the rows"):
            queryset = super().get_queryset(request, exclude_parameters)
        return queryset.using(read_alias(self.model))

    def get_results(self, request: HttpRequest) -> None:
        model_admin = self.model_admin
        counter = model_admin.get_counter(request)
        paginator = model_admin.get_keyset_paginator(request, self.queryset, self.list_per_page)
        if self.show_all:
            raise BadParameter(
                "“Show all” is not available on fastadmin changelists; use the page links.", param="all"
            )
        with stage("reading the page of rows"):
            page = paginator.page(cursor=self.cursor, seek=self.seek)
        with stage("counting the rows"):
            count = counter.exact(self.queryset) if self.count_exactly else counter.count(self.queryset)
            full_count: Count | None = None
            if model_admin.show_full_result_count:
                full_count = count if not self._is_narrowed() else counter.count(
                    self.root_queryset.using(self.queryset.db)
                )

        self.page = page
        self.paginator = paginator
        self.count = count
        self.full_count = full_count
        self.result_count = count.value
        self.full_result_count = full_count.value if full_count is not None else None
        self.show_full_result_count = model_admin.show_full_result_count
        self.show_admin_actions = bool(page.rows) or not page.is_first or count.value > 0
        self.result_list = page.rows
        self.can_show_all = False
        self.multi_page = not (page.is_first and page.is_last)

    def _is_narrowed(self) -> bool:
        return bool(self.query) or bool(self.has_active_filters)

    # ------------------------------------------------------------------ links for the templates
    def page_url(self, cursor: str | None) -> str:
        return self.get_query_string({CURSOR_VAR: cursor}, remove=[SEEK_VAR, COUNT_VAR])

    @property
    def first_url(self) -> str | None:
        return None if self.page.is_first else self.page_url(None)

    @property
    def prev_url(self) -> str | None:
        return self.page_url(self.page.prev_cursor) if self.page.prev_cursor else None

    @property
    def next_url(self) -> str | None:
        return self.page_url(self.page.next_cursor) if self.page.next_cursor else None

    @property
    def last_url(self) -> str | None:
        return None if self.page.is_last else self.page_url(self.page.last_cursor)

    @property
    def count_exact_url(self) -> str | None:
        if self.count.exact:
            return None
        return self.get_query_string({COUNT_VAR: "exact", CURSOR_VAR: self.cursor}, remove=[SEEK_VAR])

    @property
    def seek_key(self):
        """The leading sort key when it can be jumped to (a model field), else None."""
        key = self.paginator.keys[0]
        return key if key.field is not None and key.field is not self.opts.pk else None

    @property
    def seek_hidden_params(self) -> list[tuple[str, str]]:
        """The active filters and search, kept by the jump box's GET form."""
        return other_params(self, FASTADMIN_PARAMS)


def _without(query: QueryDict, names: tuple[str, ...]) -> QueryDict:
    copy = query.copy()
    for name in names:
        copy.pop(name, None)
    copy._mutable = False
    return copy
