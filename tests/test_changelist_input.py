"""Bad input in the changelist URL is answered as stock answers it: a disallowed lookup is a 400
(DisallowedModelAdminLookup), a value a field cannot take is the ``?e=1`` redirect
(IncorrectLookupParameters); fastadmin's own parameters (cursor, seek) are 400 pages. Never a 500."""

import pytest

URLS = [
    "?category__name__regex=x",  # a real path, not allowed by list_filter: 400
    "?note__text=1",  # a reverse relation, not allowed: 400
    "?password__startswith=x",  # not a field at all: ?e=1
    "?rank=abc",  # not an integer: ?e=1
    "?rank__in=abc",
    "?created__gte=abc",
    "?kind__exact=a&rank=abc",
    "?o=6&rank=abc",  # a related sort with a bad filter value
]


@pytest.mark.parametrize("query", URLS)
def test_bad_lookup_is_answered_like_stock(admin_client, items, query):
    ours = admin_client.get("/admin/testapp/item/" + query)
    stock = admin_client.get("/stock/testapp/item/" + query)
    assert stock.status_code in (302, 400)  # the reference itself is an error answer
    assert ours.status_code == stock.status_code
    if stock.status_code == 302:
        assert ours["Location"] == "/admin/testapp/item/?e=1"


@pytest.mark.parametrize("params", [{"o": "6", "cursor": "x"}, {"o": "3", "seek": "1e99"},
                                    {"o": "3", "seek": "99999999999999"}, {"o": "-5", "seek": "not a date"}])
def test_cursor_and_seek_values_are_checked_where_they_enter(admin_client, items, params):
    response = admin_client.get("/admin/testapp/item/", params)
    assert response.status_code == 400
    assert b"fastadmin-bad-request" in response.content


def test_seek_on_a_related_sort_takes_the_related_models_values(admin_client, items):
    """The FK column sorts by Category.name through the join, so its jump box takes a name."""
    from tests.helpers import row_pks
    from tests.testapp.models import Item

    response = admin_client.get("/admin/testapp/item/", {"o": "6", "seek": "cat 1"})
    assert response.status_code == 200
    names = dict(Item.objects.values_list("pk", "category__name"))
    shown = [names[pk] for pk in row_pks(response)]
    assert shown and shown[0] == "cat 1" and all(n is None or n >= "cat 1" for n in shown)
