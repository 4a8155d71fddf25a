"""The ModelAdmin side of search: ``get_search_results`` delegates to a search backend strategy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib import messages
from django.contrib.admin.options import ModelAdmin as StockModelAdmin
from django.db.models import QuerySet, Value
from django.http import HttpRequest

from fastadmin.conf import fa_settings
from fastadmin.exceptions import BadParameter

from .backends import BaseSearchBackend, SearchResult
from .sidecar import resolve_backend

#: The searches run inside :func:`collect_searches` (None outside: nothing is kept).
_collected: ContextVar[list[SearchResult] | None] = ContextVar("fastadmin_searches", default=None)


@contextmanager
def collect_searches() -> Iterator[list[SearchResult]]:
    """The :class:`SearchResult` of every search ``get_search_results`` runs in the block, in order.

    ``get_search_results`` returns stock's ``(queryset, may_have_duplicates)``; the changelist reads
    what else the backend said (its count of matches) from here, without changing that signature.
    """
    results: list[SearchResult] = []
    token = _collected.set(results)
    try:
        yield results
    finally:
        _collected.reset(token)


class SearchAdminMixin:
    """Hands the search box to ``search_backend`` (default ``FASTADMIN["SEARCH_BACKEND"]``).

    Only the changelist shows the backend's notices and its 400 page for unsearchable input; other
    callers of ``get_search_results`` (the autocomplete view) get an empty result instead.
    """

    #: Search backend class or dotted path; None means ``FASTADMIN["SEARCH_BACKEND"]``.
    search_backend: type[BaseSearchBackend] | str | None = None
    #: Order search results by trigram similarity unless the user sorts by a column (costs a sort
    #: of every match: fine for rare terms, a timeout for terms matching millions of rows).
    search_relevance: bool = False
    #: List the search namespaces under the search box ("Search one field with name:, email: …")
    #: when the admin sets no ``search_help_text``. Off by default: stock shows no help line.
    search_namespace_help: bool = False

    def get_search_backend(self, request: HttpRequest | None = None) -> BaseSearchBackend:
        backend = self.search_backend or fa_settings.SEARCH_BACKEND
        return resolve_backend(backend)(self)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """The backend's search, unless a class after this mixin in the MRO (a project's or a
        third-party mixin placed after ``fastadmin.ModelAdmin``) overrides ``get_search_results``:
        then that override runs, as it would on stock admin."""
        own = next_get_search_results(self)
        # options.ModelAdmin, not admin.ModelAdmin: a project (or a test harness) may rebind the latter.
        if getattr(own, "__func__", None) is not StockModelAdmin.get_search_results:
            return own(request, queryset, search_term)
        if not search_term or not self.get_search_fields(request):
            return queryset, False
        in_changelist = _is_changelist(request, self)
        try:
            result = self.get_search_backend(request).search(request, queryset, search_term)
        except BadParameter:
            if in_changelist:
                raise
            return queryset.filter(Value(False)), False
        if result.notice and in_changelist:
            messages.info(request, result.notice, fail_silently=True)
        collected = _collected.get()
        if collected is not None:
            collected.append(result)
        return result.queryset, result.may_have_duplicates

    @property
    def search_help_text(self) -> str | None:  # type: ignore[override]
        """Stock's help line under the search box: None, as in stock, unless ``search_namespace_help``
        asks for the namespaces (a ``search_help_text`` set on a subclass or an instance wins)."""
        if "search_help_text" in vars(self):
            return vars(self)["search_help_text"]
        if not self.search_namespace_help or not self.search_fields:
            return None
        pairs = self.get_search_backend().namespace_labels()
        if not pairs:
            return None
        example = pairs[0][1]
        fields = ", ".join(f"{text} ({name}:)" for text, name in pairs)
        return (
            f"Search one field by typing its name and a colon: {fields} — e.g. {example}:value, "
            f'{example}:^start, {example}:"two words". Words must all match.'
        )

    @search_help_text.setter
    def search_help_text(self, value: str | None) -> None:
        # Stock's attribute is assignable on an instance (Django's own tests do so): keep it that way.
        vars(self)["search_help_text"] = value


def next_get_search_results(model_admin: Any):
    """``get_search_results`` of the class after :class:`SearchAdminMixin` in ``model_admin``'s MRO
    (stock's, unless something overrides it there), bound to ``model_admin``."""
    if isinstance(model_admin, SearchAdminMixin):
        return super(SearchAdminMixin, model_admin).get_search_results
    return model_admin.get_search_results


def _is_changelist(request: Any, model_admin: Any) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return True  # called directly (tests, custom views): behave like the changelist
    opts = model_admin.model._meta
    return match.url_name == f"{opts.app_label}_{opts.model_name}_changelist"
