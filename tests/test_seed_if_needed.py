"""``seed --if-needed`` (``make demo``) never replaces a database it seeded once, nor rows it did not create."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from shop.models import Customer, Order, SeedRun

pytestmark = pytest.mark.django_db(transaction=True)  # the seed VACUUMs: no test transaction around it


def seed(*args: str, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed", *args, chunk=100, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_a_seeded_database_keeps_added_and_edited_rows():
    out, err = seed(rows=200)
    assert "Replacing every row" in err and SeedRun.objects.get().rows == 200
    customer = Customer.objects.order_by("pk").first()
    Customer.objects.filter(pk=customer.pk).update(name="Edited by staff")
    added = Order.objects.create(number="MINE-1", customer=customer, total=1)
    out, _err = seed("--if-needed", rows=200)
    assert "nothing to do" in out
    out, _err = seed("--if-needed", rows=300)  # another size asked for: still not replaced
    assert "Keeping the existing data" in out and "seeded with 200 orders" in out
    assert Customer.objects.get(pk=customer.pk).name == "Edited by staff"
    assert Order.objects.filter(pk=added.pk).exists() and Order.objects.count() == 201


def test_rows_the_seed_did_not_create_are_never_replaced():
    customer = Customer.objects.create(name="Real customer", email="real@example.com")
    Order.objects.create(number="REAL-1", customer=customer, total=5)
    out, _err = seed("--if-needed", rows=100)
    assert "did not create" in out
    assert list(Order.objects.values_list("number", flat=True)) == ["REAL-1"] and not SeedRun.objects.exists()


def test_empty_tables_are_seeded_and_recorded():
    out, _err = seed("--if-needed", rows=100)
    assert "Seeded" in out and Order.objects.count() == 100 and SeedRun.objects.get().rows == 100


def test_a_database_seeded_before_the_record_existed_is_recognised():
    seed(rows=100)
    SeedRun.objects.all().delete()
    out, _err = seed("--if-needed", rows=100)
    assert "nothing to do" in out and SeedRun.objects.get().rows == 100
