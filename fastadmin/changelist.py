"""fastadmin's ChangeList: stock filtering, ordering and search, then keyset paging and estimated counts.

The flow of one changelist GET, each step delegating to the ModelAdmin's strategy objects::

    filters (bounded) -> search backend -> paginator.page(cursor) -> counter.count() -> templates
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import cached_property
from typing import Any

from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.utils import display_for_value
from django.contrib.admin.views.main import ALL_VAR, PAGE_VAR
from django.contrib.admin.views.main import ChangeList as StockChangeList
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _

from . import count_token
from .counting import Count
from .exceptions import BadParameter
from .filters import changelist_filters, other_params
from .guards import read_alias, stage
from .input_checks import check_compiles, check_lookup_params, check_nul, refused_lookup
from .pagination import Page
from .query_strings import QueryStrings
from .rendering import compiled_filter_template
from .search_index.admin import collect_searches

#: Set while fastadmin's changelist view shows a list (a GET): its page is about to be rendered, so
#: reading it while counting costs nothing more. A ChangeList built anywhere else (Django's own admin
#: tests build them for their queryset alone) reads its page on first use only, as stock's does.
showing_list: ContextVar[bool] = ContextVar("fastadmin_showing_list", default=False)

CURSOR_VAR = "cursor"
SEEK_VAR = "seek"
COUNT_VAR = "_count"
# Parameters the changelist reads itself; stock ChangeList would take them for field lookups.
FASTADMIN_PARAMS = (CURSOR_VAR, SEEK_VAR, COUNT_VAR)
NO_FASTADMIN_PARAMS: dict[str, None] = dict.fromkeys(FASTADMIN_PARAMS)  # None removes the key


#: Attributes stock's ``get_results`` assigns that fastadmin derives from the keyset page (the counts
#: too: a page that holds every row knows their number exactly, whatever the counter said).
PAGE_DERIVED = ("result_list", "multi_page", "show_admin_actions",
                "count", "result_count", "full_count", "full_result_count")


class _FromPage:
    """A non-data descriptor: on keyset pages the attribute follows ``cl.page``; an assignment (stock's
    ``get_results``, on numbered pages) shadows it in the instance, as stock expects."""

    def __init__(self, derive: Callable[[Any, Page], Any]) -> None:
        self.derive = derive

    def __get__(self, cl: Any, owner: type | None = None) -> Any:
        return self if cl is None else self.derive(cl, cl.page)


class _Derived(_FromPage):
    """Like :class:`_FromPage`, for attributes that read the page only when they need it."""

    def __get__(self, cl: Any, owner: type | None = None) -> Any:
        return self if cl is None else self.derive(cl)


class ChangeList(StockChangeList):
    """A ChangeList whose ``get_results`` pages by cursor and counts by estimate.

    Stock numbered paging (``get_paginator``, ``?p=``, ``?all=``) is kept where it is cheap or asked
    for: when the ModelAdmin sets its own ``paginator`` class (or ``get_paginator``), and for ``?p=`` /
    ``?all=`` on a list whose count is exact (under ``EXACT_COUNT_THRESHOLD``). ``numbered`` tells the
    templates which. On keyset pages the rows are read on first use, like stock's lazy ``object_list``.
    """

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        check_nul(request.GET.lists())
        self.cursor = request.GET.get(CURSOR_VAR) or None
        self.seek = request.GET.get(SEEK_VAR, "").strip() or None
        self.count_exactly = request.GET.get(COUNT_VAR) == "exact"
        self.count_token = None if self.count_exactly else request.GET.get(COUNT_VAR)  # see count_token.py
        self.user_key = str(getattr(request.user, "pk", ""))
        self.carries_count = False  # the page links carry an exact count the user asked for
        self.wants_page_number = PAGE_VAR in request.GET or ALL_VAR in request.GET
        self.numbered = False
        self.search_count: Count | None = None  # the search backend's own count of its matches
        super().__init__(request, *args, **kwargs)
        # What templates copy into forms and links (stock's search form, filter forms) leaves the
        # page parameters out: a new search or filter starts from the first page.
        for name in FASTADMIN_PARAMS:
            self.params.pop(name, None)
            self.filter_params.pop(name, None)

    def get_filters_params(self, params: dict | None = None) -> dict:
        """Stock's lookups minus fastadmin's page parameters (as stock leaves out ``p``, ``o``, ``q``)."""
        lookup_params = super().get_filters_params(params)
        for name in FASTADMIN_PARAMS:
            lookup_params.pop(name, None)
        return lookup_params

    def get_query_string(self, new_params: dict | None = None, remove: list | None = None) -> str:
        """Links (sorting, filters, facets) start from the first page: a cursor belongs to one ordering
        and one set of rows. Only the page links pass a cursor on, explicitly. Stock's string, with
        each parameter encoded once per page (:mod:`.query_strings`)."""
        strings = self.__dict__.get("_query_strings")
        if strings is None or strings.params is not self.filter_params:
            strings = self.__dict__["_query_strings"] = QueryStrings(self.filter_params)
        return strings.build({**NO_FASTADMIN_PARAMS, **(new_params or {})}, remove)

    def get_filters(self, request: HttpRequest):
        """Stock's specs, built from :func:`~fastadmin.filters.changelist_filters` (bounded classes,
        estimated facets). ``self.list_filter`` stays what ``get_list_filter`` returned, which projects
        and Django's tests read back; stock reads it only here, so it holds the converted list just
        while stock builds the specs."""
        if not getattr(self, "lookups_checked", False):  # facets rebuild the filters once per spec
            check_lookup_params(request.GET.lists(), self.date_hierarchy, read_alias(self.model))
            self.lookups_checked = True
        declared = self.list_filter
        self.list_filter = changelist_filters(declared, self.model_admin)
        try:
            filters = super().get_filters(request)
            for spec in filters[0]:
                spec.template = compiled_filter_template(spec.template)
            return filters
        except DisallowedModelAdminLookup as exc:
            raise refused_lookup(self, request, exc) from None
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
        with stage("filtering and searching the rows"), collect_searches() as searches:
            queryset = super().get_queryset(request, exclude_parameters)
            check_compiles(queryset)
        if exclude_parameters is None:  # the list itself, not a facet's
            # The search's own count of its matches, unless something narrowed the rows after it (a
            # project's get_search_results filtering further, stock's de-duplicating Exists()).
            last = searches[-1] if searches else None
            counted = last is not None and last.count is not None and last.queryset.query.where == queryset.query.where
            self.search_count = last.count if counted else None
        return queryset.using(read_alias(self.model))

    def get_results(self, request: HttpRequest) -> None:
        model_admin = self.model_admin
        counter = model_admin.get_counter(request)
        if self.uses_own_paginator():
            return self._numbered_results(request)
        counted = self.queryset.select_related(None)  # the joins that display rows never change their number
        self.keyset_paginator = model_admin.get_keyset_paginator(request, self.queryset, self.list_per_page)
        for name in ("page", *PAGE_DERIVED):  # left by an earlier call: follow the new page
            self.__dict__.pop(name, None)
        with stage("counting the rows"):
            if self.search_count is not None:
                count = counter.count_search(counted, self.search_count)
            elif self.count_exactly:
                count = counter.exact(counted)
                self.carries_count = count.exact
            elif (carried := count_token.carried(self.count_token, count_token.scope(self))) is not None:
                count, self.carries_count = Count(carried, exact=True), True
            elif showing_list.get() and not (self.cursor or self.seek or self.wants_page_number):
                count = counter.count_list(counted, self._rows_if_few)
            else:
                count = counter.count(counted)
        if self.wants_page_number and not self.cursor and not self.seek:
            if count.exact:
                return self._numbered_results(request)
            if self.show_all or request.GET.get(PAGE_VAR) not in (None, "", "1"):
                raise BadParameter(
                    "Page numbers and “Show all” are available only on lists small enough to count "
                    "exactly; use the page links, or narrow the list.",
                    param=ALL_VAR if self.show_all else PAGE_VAR,
                )
        with stage("counting the rows"):
            full_count = self._full_count(counter, count)

        self.numbered = False
        # Stock's attribute keeps stock's API (``count``, ``page_range``) for code that reads it; it
        # counts only if asked.
        self.paginator = model_admin.get_paginator(request, self.queryset, self.list_per_page)
        self.counted, self.full_counted = count, full_count  # the counter's answers; see page_count
        self.show_full_result_count = model_admin.show_full_result_count
        self.can_show_all = False

    def _rows_if_few(self, _estimate: int | None = None) -> int | None:
        """The counter's shortcut (``BaseCounter.count_list``): the first page, read now rather than
        while rendering, is the count if it is also the last. (The argument, ignored, keeps counters
        written when the contract passed the estimate working.)"""
        page = self.page
        return len(page.rows) if page is not None and page.is_first and page.is_last else None

    @cached_property
    def page(self) -> Page | None:
        """The keyset page, read on first use (stock's ``object_list`` is lazy too). A changelist
        view reads it while rendering, inside the statement timeout of ``changelist_view``."""
        with stage("reading the page of rows"):
            return self.keyset_paginator.page(cursor=self.cursor, seek=self.seek)

    def page_count(self) -> Count:
        """The counter's answer, unless it is inexact and the page is both first and last: then the
        page holds every row and its length is the count, exactly (an estimate says "≈ 23.7k" after
        a large delete emptied the list; the empty page knows it is 0). An exact answer is kept
        without reading the page (stock's ``result_count`` never reads the rows). A search service's
        count (Meilisearch's ``estimatedTotalHits``) is kept too: its pages end at ``maxTotalHits``."""
        if self.search_count is None and not self.counted.exact and self.page.is_first and self.page.is_last:
            return Count(len(self.page.rows), exact=True)
        return self.counted

    def page_full_count(self) -> Count | None:
        """The unfiltered total; when nothing narrows the list it is the list's own count."""
        if self.full_counted is self.counted:
            return self.count
        return self.full_counted

    count = _Derived(page_count)
    result_count = _Derived(lambda cl: cl.count.value)
    full_count = _Derived(page_full_count)
    full_result_count = _Derived(lambda cl: None if cl.full_count is None else cl.full_count.value)
    result_list = _FromPage(lambda cl, page: page.rows)
    multi_page = _FromPage(lambda cl, page: not (page.is_first and page.is_last))
    show_admin_actions = _FromPage(lambda cl, page: bool(page.rows) or not page.is_first or cl.result_count > 0)

    def uses_own_paginator(self) -> bool:
        """A project that sets ``ModelAdmin.paginator`` or overrides ``get_paginator`` chose numbered
        pages, and their counts."""
        from .options import FastAdminMixin

        own_hook = type(self.model_admin).get_paginator is not FastAdminMixin.get_paginator
        return own_hook or self.model_admin.paginator is not Paginator

    def _numbered_results(self, request: HttpRequest) -> None:
        """Stock's paging: ``get_paginator``, ``?p=``, ``?all=``, exact counts."""
        with stage("reading the page of rows"):
            super().get_results(request)
        self.numbered = True
        self.page = self.keyset_paginator = None
        self.count = Count(self.result_count, exact=True)
        full = self.full_result_count
        self.full_count = Count(full, exact=True) if full is not None else None

    def _full_count(self, counter: Any, count: Count) -> Count | None:
        if not self.model_admin.show_full_result_count:
            return None
        if not self._is_narrowed() and self.queryset.query.where == self.root_queryset.query.where:
            return count  # nothing narrowed the rows, not even a filter that applies by default
        return counter.count(self.root_queryset.using(self.queryset.db).select_related(None))

    def _is_narrowed(self) -> bool:
        return bool(self.query) or bool(self.has_active_filters)

    # ------------------------------------------------------------------ links for the templates
    # Cached: the templates read each twice ({% if cl.next_url %}…{{ cl.next_url }}), and the page is
    # fixed once read.
    def page_url(self, cursor: str | None) -> str:
        return self.get_query_string({CURSOR_VAR: cursor, **self.carried_count_param})

    @cached_property
    def carried_count_param(self) -> dict[str, str]:
        """``{"_count": token}`` when an exact count the user asked for goes on to the next pages."""
        if not self.carries_count:
            return {}
        return {COUNT_VAR: count_token.sign(self.counted.value, count_token.scope(self))}

    @cached_property
    def first_url(self) -> str | None:
        return None if self.page.is_first else self.page_url(None)

    @cached_property
    def prev_url(self) -> str | None:
        return self.page_url(self.page.prev_cursor) if self.page.prev_cursor else None

    @cached_property
    def next_url(self) -> str | None:
        return self.page_url(self.page.next_cursor) if self.page.next_cursor else None

    @cached_property
    def last_url(self) -> str | None:
        return None if self.page.is_last else self.page_url(self.page.last_cursor)

    @cached_property
    def count_exact_url(self) -> str | None:
        if self.count.exact or self.search_count is not None:  # a search service's count is its own
            return None
        return self.get_query_string({COUNT_VAR: "exact", CURSOR_VAR: self.cursor})

    @cached_property
    def seek_key(self):
        """The leading sort key when it can be jumped to (a model field, several pages), else None."""
        if self.numbered or not self.multi_page:
            return None
        return self.keyset_paginator.seek_key  # the paginator's contract says what can be jumped to

    @cached_property
    def position(self) -> str | None:
        """Where this page is in the list ("This page: placed at 1 Jun 2025, 23:58 → 31 May 2025, 09:12"):
        the leading sort column's values on its first and last rows, in the user's time zone. Keyset
        pages have no page number, and after a jump the user must see where the list now starts."""
        lead = self.seek_key
        rows = self.page.rows if lead is not None and self.page is not None else []
        if not rows:
            return None
        first, last = (display_for_value(getattr(row, lead.attname), self.model_admin.get_empty_value_display())
                       for row in (rows[0], rows[-1]))
        return _("This page: %(column)s %(first)s → %(last)s") % {
            "column": lead.field.verbose_name, "first": first, "last": last}

    @cached_property
    def seek_hidden_params(self) -> list[tuple[str, str]]:
        """The active filters and search (and a carried exact count), kept by the jump box's GET form."""
        return other_params(self, FASTADMIN_PARAMS) + list(self.carried_count_param.items())


#: The name this class had before it took stock's (``repr`` says ``ChangeList`` like stock's).
FastChangeList = ChangeList
