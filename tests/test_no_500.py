"""Regression tests for input that once answered 500 (issue 9): each is answered where it enters."""

import datetime

import pytest
from django.utils import timezone
from shop.models import Customer, Lead, Order

AUTOCOMPLETE = "/admin/autocomplete/"


@pytest.fixture
def shop(db):
    customers = Customer.objects.bulk_create(
        Customer(name=f"customer {i}", email=f"c{i}@example.com", city="Paris") for i in range(5)
    )
    when = timezone.make_aware(datetime.datetime(2024, 3, 1))
    Order.objects.bulk_create(
        Order(customer=customers[i % 2], number=f"N{i}", total=10, placed_at=when) for i in range(6)
    )
    Lead.objects.bulk_create(Lead(name=f"lead {i}", email=f"l{i}@example.com", customer=customers[0]) for i in range(4))
    return customers


def autocomplete(client, **params):
    query = {"app_label": "shop", "model_name": "lead", "field_name": "customer", **params}
    return client.get(AUTOCOMPLETE, query)


@pytest.mark.parametrize(
    ("model_name", "field_name"),
    [("customer", "orders"), ("customer", "leads"), ("order", "nosuch"), ("lead", "name")],
)
def test_autocomplete_refuses_reverse_relations_and_non_relations(admin_client, shop, model_name, field_name):
    response = autocomplete(admin_client, model_name=model_name, field_name=field_name)
    assert response.status_code == 403


@pytest.mark.parametrize("params", [{"app_label": ""}, {"model_name": ""}, {"app_label": "nosuch"}])
def test_autocomplete_unknown_model_is_403(admin_client, shop, params):
    assert autocomplete(admin_client, **params).status_code == 403


@pytest.mark.parametrize("term", ["id:99999999999999999999", "id:-99999999999999999999", "id:1e400", "id:\x00"])
def test_autocomplete_out_of_range_pk_term_finds_nothing(admin_client, shop, term):
    response = autocomplete(admin_client, term=term)
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("page", ["9223372036854775807", "99999999999999999999999", "461168601842738791"])
def test_autocomplete_page_beyond_the_end_is_404(admin_client, shop, page):
    assert autocomplete(admin_client, page=page).status_code == 404


def test_autocomplete_still_answers(admin_client, shop):
    response = autocomplete(admin_client, term="customer 1")
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["customer 1"]


@pytest.mark.parametrize("pattern", ["[]", "\\", "{0}", "+5", "(a", "a)", "*"])
@pytest.mark.parametrize("lookup", ["name__regex", "email__iregex"])
def test_invalid_regex_is_a_400_naming_the_parameter(admin_client, shop, lookup, pattern):
    response = admin_client.get("/admin/shop/customer/", {lookup: pattern})
    assert response.status_code == 400
    assert b"fastadmin-bad-request" in response.content
    assert f"<code>{lookup}</code>".encode() in response.content


def test_valid_regex_still_filters(admin_client, shop):
    response = admin_client.get("/admin/shop/customer/", {"name__regex": "^customer [12]$"})
    assert response.status_code == 200
    assert b"customer 1" in response.content and b"customer 3" not in response.content


@pytest.mark.parametrize(
    "params",
    [
        {"placed_at__year": "9999", "placed_at__month": "12"},
        {"placed_at__year": "99999999999999999999999"},
        {"placed_at__year": "-9223372036854775809"},
        {"placed_at__year": "0"},
        {"placed_at__year": "2024", "placed_at__month": "13"},
        {"placed_at__year": "2024", "placed_at__month": "2", "placed_at__day": "30"},
        {"placed_at__year": "2024", "placed_at__month": "99999999999999999999"},
    ],
)
def test_date_hierarchy_out_of_range_is_answered(admin_client, shop, params):
    response = admin_client.get("/admin/shop/order/", params)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1")
    else:
        assert b"fastadmin-bad-request" in response.content


def test_date_hierarchy_in_range_still_works(admin_client, shop):
    response = admin_client.get("/admin/shop/order/", {"placed_at__year": "2024", "placed_at__month": "3"})
    assert response.status_code == 200
    assert b"N1" in response.content


def test_protected_rows_get_the_cannot_delete_page(admin_client, shop):
    """Customers 0 and 1 have orders (PROTECT)."""
    pks = [c.pk for c in shop]
    response = admin_client.post(
        "/admin/shop/customer/", {"action": "delete_selected", "_selected_action": pks, "post": "yes"}
    )
    assert response.status_code in (200, 409)
    assert b"Cannot delete" in response.content
    assert Customer.objects.count() == 5


def test_rows_protected_between_check_and_delete_get_the_cannot_delete_page(
    transactional_db, admin_client, shop, monkeypatch
):
    """An order placed for a selected customer by another session (committed, on its own connection)
    after stock's PROTECT check, before its delete."""
    import threading

    from django.db import connection
    from shop.admin import CustomerAdmin

    free = [c for c in shop[2:]]
    original = CustomerAdmin.get_deleted_objects

    def place_order() -> None:
        try:
            Order.objects.create(customer=free[0], number="RACE", total=1)
        finally:
            connection.close()

    def check_then_race(self, objs, request):
        answer = original(self, objs, request)
        racer = threading.Thread(target=place_order)
        racer.start()
        racer.join()
        return answer

    monkeypatch.setattr(CustomerAdmin, "get_deleted_objects", check_then_race)
    response = admin_client.post(
        "/admin/shop/customer/",
        {"action": "delete_selected", "_selected_action": [c.pk for c in free], "post": "yes"},
    )
    assert response.status_code == 409
    assert b"Cannot delete" in response.content and b"RACE" in response.content
    assert Customer.objects.filter(pk__in=[c.pk for c in free]).count() == 3
    from django.contrib.admin.models import LogEntry

    assert not LogEntry.objects.exists()  # stock's log entries rolled back with the delete


@pytest.mark.parametrize("value", ["99999999999999999999", "1,5", "ab"])
def test_a_range_lookup_in_the_address_is_a_400(admin_client, shop, value):
    """Found by the fuzz suite: stock hands the string to the ORM, which iterates its characters."""
    response = admin_client.get("/admin/shop/lead/", {"status__range": value})
    assert response.status_code == 400
    assert b"<code>status__range</code>" in response.content


def test_a_disallowed_lookup_is_a_400_page_naming_it_and_logged_like_stock(admin_client, shop, caplog):
    with caplog.at_level("ERROR", logger="django.security.DisallowedModelAdminLookup"):
        response = admin_client.get("/admin/shop/order/", {"customer__email__startswith": "c1"})
    assert response.status_code == 400
    assert b"<code>customer__email__startswith</code>" in response.content
    assert [r.name for r in caplog.records] == ["django.security.DisallowedModelAdminLookup"]


@pytest.mark.parametrize("url", ["/admin/shop/customer/", "/admin/auth/group/"])  # fastadmin and adopted stock
@pytest.mark.parametrize("key", ["abc", "99999999999999999999", ""])
def test_an_action_on_an_invalid_key_changes_nothing_and_says_so(admin_client, shop, url, key):
    """Found by the fuzz suite: stock's response_action raised ValueError filtering ``pk__in``."""
    response = admin_client.post(url, {"action": "delete_selected", "_selected_action": [str(shop[4].pk), key],
                                       "post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "is not a valid key" in response.content.decode()
    assert Customer.objects.count() == 5


@pytest.mark.parametrize("params", [{"id__regex": "+5"}, {"name__iregex": "a\x00b"}, {"name": "\x00"}])
def test_stock_admins_the_site_serves_get_the_lookup_checks(admin_client, shop, params):
    """Found by the fuzz suite on auth.Group (stock GroupAdmin, adopted): DataError / ValueError."""
    response = admin_client.get("/admin/auth/group/", params)
    assert response.status_code == 400
    assert f"<code>{next(iter(params))}</code>".encode() in response.content


@pytest.mark.parametrize("value", ["1", "not an address", "300.1.1.1"])
def test_a_value_only_the_database_adapter_refuses_is_stocks_bad_lookup_redirect(admin_client, value):
    """``GenericIPAddressField`` filters any string and fails when the SQL is compiled (found by the fuzz
    suite: ``?ip=1``); the changelist compiles where the lookups enter and answers stock's ``?e=1``."""
    from tests.renderapp.models import Specimen

    Specimen.objects.create(ip="10.0.0.1")
    response = admin_client.get("/admin/renderapp/specimen/", {"ip": value})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert admin_client.get("/admin/renderapp/specimen/", {"ip": "10.0.0.1"}).status_code == 200
