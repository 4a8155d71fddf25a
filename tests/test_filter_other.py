"""The related filter's "Other" box (fastadmin/filter_other.py): the cut is said, names are found."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.test.utils import override_settings
from shop.models import Customer, Order

import fastadmin

pytestmark = pytest.mark.django_db
ORDERS = "/admin/shop/order/"


@pytest.fixture
def shop(db):
    names = ["Ann Able", "Bea Best", "Cid Cole", "Dee Dunn", "Zelda Zorn", "Smith One", "Smith Two"]
    customers = [Customer.objects.create(name=n, email=f"{n.split()[0].lower()}{i}@example.com")
                 for i, n in enumerate(names)]
    for i, customer in enumerate(customers):
        Order.objects.create(number=f"N-{i}", customer=customer, total=10)
    return {c.name: c for c in customers}


def order_numbers(response) -> set[str]:
    return set(re.findall(r">(N-\d+)<", response.content.decode()))


@override_settings(FASTADMIN={"FILTER_MAX_CHOICES": 3})
def test_a_cut_list_says_so_and_suggests_from_the_related_admin(admin_client, shop):
    html = admin_client.get(ORDERS).content.decode()
    assert "Only the first 3 are listed: type a name or an ID to find another." in html
    url = re.search(r'data-fa-autocomplete="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "app_label=shop" in url and "model_name=order" in url and "field_name=customer" in url
    hits = admin_client.get(url + "term=zelda").json()["results"]
    assert hits == [{"id": str(shop["Zelda Zorn"].pk), "text": "Zelda Zorn"}]


@override_settings(FASTADMIN={"FILTER_MAX_CHOICES": 3})
def test_a_typed_name_filters_by_the_one_object_it_finds(admin_client, shop):
    redirect = admin_client.get(ORDERS, {"customer__id__exact": "zelda", "status__exact": "pending"})
    assert redirect.status_code == 302  # to the key, the other parameters kept (not stock's ?e=1)
    assert redirect["Location"] == f"{ORDERS}?customer__id__exact={shop['Zelda Zorn'].pk}&status__exact=pending"
    response = admin_client.get(ORDERS, {"customer__id__exact": "zelda"}, follow=True)
    assert response.status_code == 200
    assert order_numbers(response) == {f"N-{list(shop).index('Zelda Zorn')}"}
    assert 'class="selected"><a' in response.content.decode() and "Zelda Zorn" in response.content.decode()
    by_key = admin_client.get(ORDERS, {"customer__id__exact": str(shop["Zelda Zorn"].pk)})
    assert order_numbers(by_key) == order_numbers(response)


@override_settings(FASTADMIN={"FILTER_MAX_CHOICES": 3})
@pytest.mark.parametrize(("typed", "message"), [("nobody", "No customer matches “nobody”"),
                                                 ("smith", "“smith” matches more than one customer")])
def test_a_name_that_finds_none_or_several_is_a_400_saying_so(admin_client, shop, typed, message):
    response = admin_client.get(ORDERS, {"customer__id__exact": typed})
    assert response.status_code == 400
    assert message in response.content.decode()


@override_settings(FASTADMIN={"FILTER_MAX_CHOICES": 3})
def test_without_view_permission_on_the_related_model_names_are_not_looked_up(shop):
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(clerk)
    html = client.get(ORDERS).content.decode()
    assert "Only the first 3 are listed: type a value" in html and "data-fa-autocomplete" not in html
    response = client.get(ORDERS, {"customer__id__exact": "zelda"})
    assert response.status_code == 400
    assert "“zelda” is not a customer ID" in response.content.decode()
    assert "Zelda" not in response.content.decode().split("errornote", 1)[1].split("</p>", 1)[0]
    autocomplete = client.get("/admin/autocomplete/", {"app_label": "shop", "model_name": "order",
                                                        "field_name": "customer", "term": "zel"})
    assert autocomplete.status_code == 403


def test_a_name_for_a_model_no_admin_searches_is_left_to_stock_without_a_redirect_loop(rf, db):
    from fastadmin.filter_other import typed_names_response
    from fastadmin.sites import FastAdminSite
    from tests.testapp.models import Item

    site = FastAdminSite(name="no_category_admin")  # Item registered, Category (its FK's model) not
    site.register(Item, type("ItemAdmin", (fastadmin.ModelAdmin,), {"list_filter": ["category"]}))
    request = rf.get("/admin/testapp/item/", {"category__id__exact": "books"})
    request.user = User.objects.create_superuser("root", "root@example.com", "x")
    assert typed_names_response(site.get_model_admin(Item), request) is None  # no redirect back to itself
