"""On databases other than PostgreSQL: exact counts capped at the threshold, the same keyset walk."""

import pytest

from fastadmin.counting import EstimatedCounter
from fastadmin.pagination import KeysetPaginator
from tests.helpers import walk_paginator
from tests.testapp.models import Category, Item

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])


@pytest.fixture
def sqlite_items():
    category = Category.objects.using("sqlite").create(name="c")
    Item.objects.using("sqlite").bulk_create(
        Item(name=f"i{i}", kind="abc"[i % 3], rank=None if i % 4 == 0 else i % 5, category=category)
        for i in range(60)
    )


def test_counts_are_exact_up_to_the_threshold(sqlite_items):
    queryset = Item.objects.using("sqlite")
    assert EstimatedCounter(threshold=100).count(queryset).exact
    assert EstimatedCounter(threshold=100).count(queryset).value == 60
    capped = EstimatedCounter(threshold=50).count(queryset)
    assert (capped.value, capped.exact, capped.at_least) == (50, False, True)
    assert str(capped) == "more than 50"


@pytest.mark.parametrize("ordering", [["rank"], ["-rank"], ["kind", "-rank"]])
def test_keyset_walk_on_sqlite(sqlite_items, ordering):
    paginator = KeysetPaginator(Item.objects.using("sqlite").order_by(*ordering), 7)
    seen = walk_paginator(paginator)
    expected = list(paginator.queryset.values_list("pk", flat=True))
    assert seen == expected and len(set(seen)) == 60
    ranks = dict(Item.objects.using("sqlite").values_list("pk", "rank"))
    if ordering == ["rank"]:
        assert ranks[seen[-1]] is None and ranks[seen[0]] == 0  # NULLs last, as on PostgreSQL
