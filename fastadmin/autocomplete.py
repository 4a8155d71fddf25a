"""The ``autocomplete_fields`` endpoint: stock's view with the input checks stock leaves out.

Stock answers 403 when ``field_name`` is not a relation of the source model, but a *reverse* relation
(``model_name=customer&field_name=orders``) has a ``remote_field`` too and slips through, then fails
with ``AttributeError`` (a 500) on ``get_limit_choices_to``. Only a field the source model's forms
could render as an autocomplete widget (a forward relation) is accepted; everything else is 403, as
stock answers for an unknown field. Out-of-range page numbers are the paginator's job
(:class:`fastadmin.pagination.CountlessPaginator`: 404 like stock); out-of-range search terms the
search backend's.
"""

from __future__ import annotations

from django.contrib.admin.views.autocomplete import AutocompleteJsonView as StockAutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignObjectRel


class AutocompleteJsonView(StockAutocompleteJsonView):
    """Stock's view (documented as ``AdminSite.autocomplete_view``'s), refusing reverse relations."""

    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        if isinstance(source_field, ForeignObjectRel) or not hasattr(source_field, "get_limit_choices_to"):
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name
