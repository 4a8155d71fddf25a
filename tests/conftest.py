import datetime
import random

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from tests.locking_helpers import person
from tests.testapp.models import Category, Item


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def make_items(n: int, seed: int = 7, null_every: int = 5) -> list[Item]:
    """``n`` items whose sort columns hold many duplicates and NULLs."""
    rnd = random.Random(seed)
    categories = [Category.objects.create(name=f"cat {i}") for i in range(3)]
    base = timezone.make_aware(datetime.datetime(2024, 1, 1))
    items = [
        Item(
            name=f"item {i:04d}",
            kind=rnd.choice("abc"),
            rank=None if i % null_every == 0 else rnd.randint(1, 6),
            label=None if i % 7 == 0 else rnd.choice(["x", "y", "zz", "Y"]),
            created=None if i % 11 == 0 else base + datetime.timedelta(days=rnd.randint(0, 900), hours=rnd.randint(0, 3)),  # noqa: E501
            price=rnd.randint(0, 500),
            active=rnd.random() < 0.7,
            category=rnd.choice([*categories, None]),
        )
        for i in range(n)
    ]
    return Item.objects.bulk_create(items)


@pytest.fixture
def items(db):
    return make_items(87)


def analyze(model) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def fresh_items(n: int, **kwargs) -> list[Item]:
    """``n`` items in a freshly truncated, analyzed table: statistics as after autovacuum.

    Earlier tests' rolled-back rows would otherwise sit in the heap as dead tuples, which skews
    estimates exactly as an un-vacuumed table does in production.
    """
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE testapp_item, testapp_category CASCADE")
    created = make_items(n, **kwargs)
    analyze(Item)
    return created


@pytest.fixture
def alice():
    """A logged-in superuser client (two staff editing at once: alice and bob)."""
    return person("alice")


@pytest.fixture
def bob():
    return person("bob")


# ------------------------------------------------------------------ Hypothesis profiles (tests/test_fuzz.py)
def _register_fuzz_profiles() -> None:
    """``fastadmin`` (loaded by default: fixed seed, bounded for CI) and ``long`` (the deep run:
    ``--hypothesis-profile=long``, or HYPOTHESIS_PROFILE=long)."""
    import os

    from hypothesis import HealthCheck, settings

    common = {"derandomize": True, "database": None, "deadline": None, "print_blob": True,
              "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much,
                                        HealthCheck.data_too_large]}
    settings.register_profile("fastadmin", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")), **common)
    settings.register_profile("long", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "4500")), **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fastadmin"))


_register_fuzz_profiles()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import sys

    fuzz = sys.modules.get("tests.test_fuzz")
    if fuzz is not None and fuzz.ANSWERS:
        answers = ", ".join(f"{status}: {n}" for status, n in sorted(fuzz.ANSWERS.items()))
        terminalreporter.write_line(f"fuzz: {sum(fuzz.ANSWERS.values())} requests answered ({answers})")
