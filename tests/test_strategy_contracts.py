"""Each strategy has a base class stating its contract (as DRF's ``BasePagination`` does): the
abstract methods raise NotImplementedError, the defaults subclass them, and ``fastadmin`` exports them."""

import pytest
from django.core.checks import Error
from django.test.utils import override_settings
from fastadmin.search_index.backends import DjangoSearchBackend, TrigramSearchBackend
from fastadmin.search_index.checks import check_search
from shop.models import Customer

import fastadmin
from fastadmin.counting import EstimatedCounter
from fastadmin.pagination import KeysetPaginator
from tests.testapp.models import Item


def test_base_classes_are_exported_and_subclassed_by_the_defaults():
    assert {"BasePaginator", "BaseCounter", "BaseSearchBackend"} <= set(fastadmin.__all__)
    assert issubclass(KeysetPaginator, fastadmin.BasePaginator)
    assert issubclass(EstimatedCounter, fastadmin.BaseCounter)
    assert issubclass(TrigramSearchBackend, fastadmin.BaseSearchBackend)
    assert issubclass(DjangoSearchBackend, fastadmin.BaseSearchBackend)


def test_unimplemented_contract_methods_raise_not_implemented(db):
    paginator = fastadmin.BasePaginator(Item.objects.order_by("pk"), 10)
    with pytest.raises(NotImplementedError, match="page"):
        paginator.page()
    assert paginator.seek_key is None  # seeking is optional
    counter = fastadmin.BaseCounter()
    with pytest.raises(NotImplementedError, match="count"):
        counter.count(Item.objects.all())
    with pytest.raises(NotImplementedError, match="exact"):
        counter.exact(Item.objects.all())
    backend = fastadmin.BaseSearchBackend(fastadmin.site.get_model_admin(Customer))
    with pytest.raises(NotImplementedError, match="search"):
        backend.search(None, Customer.objects.all(), "anne")
    assert backend.namespaces() == []


def test_keyset_paginator_offers_its_leading_column_for_seeking(db):
    assert KeysetPaginator(Item.objects.order_by("rank"), 10).seek_key.name == "rank"
    assert KeysetPaginator(Item.objects.order_by("-pk"), 10).seek_key is None


def test_search_backend_setting_must_subclass_the_base():
    with override_settings(FASTADMIN={"SEARCH_BACKEND": "fastadmin.pagination.KeysetPaginator"}):
        errors = [m for m in check_search() if isinstance(m, Error) and m.id == "fastadmin.E102"]
    assert errors and "BaseSearchBackend" in errors[0].msg
