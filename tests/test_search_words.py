"""A value of several words is probed without its common words (search_index/words.py): the same
rows as stock's ``icontains``, and the index is handed only the words the planner expects in few rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from fastadmin.search_index.words import driven, words
from shop.models import Customer

from tests.conftest import analyze
from tests.helpers import probe_end, unwrapped
from tests.test_search_backend import NAMES, ours, stock

FIELDS = ["name", "email", "phone"]


@pytest.fixture
def large(settings):
    """Every table counts as large, so every search probes its keys."""
    settings.FASTADMIN = {**settings.FASTADMIN, "SEARCH_SCAN_ROWS": 0}


def test_words_are_pg_trgm_words_of_three_or_more():
    assert words("pierre.thompson0@mail.test") == ["pierre", "thompson0", "mail", "test"]
    assert words("ORD-2024-17") == ["ORD", "2024"]
    assert words("under_score ab-cd") == ["under", "score"]
    assert words("Jürgen.Müller") == ["Jürgen", "Müller"]
    assert words("a.b") == [] and words("mail mail.test") == ["mail", "test"]


@pytest.mark.parametrize("term", [
    "anne.marie@example.com", "example.com", "amj@example.org", "o'brien", "back\\slash@exa",
    "under_score@example", "cotton_100@example.com", "100% cotton", "+91-9876", "jürgen@example.de",
    "JUERGEN@EXAMPLE.DE", "anne-marie", "nothing@like.this",
])
def test_the_rows_are_the_plain_conditions(db, term, monkeypatch):
    """Each value's last word is made common (in every row, says the stubbed estimate): the rewritten
    condition leaves it to the recheck and finds the rows the plain one finds."""
    from fastadmin.search_index import words as words_module

    def estimates(model, using, candidates):
        last = {(path, words(value)[-1]) for path, value in [(f, term) for f in FIELDS] if words(value)}
        return [100.0 if candidate in last else 1.0 for candidate in candidates] + [100.0]

    monkeypatch.setattr(words_module, "_estimates", estimates)
    Customer.objects.bulk_create(Customer(name=n, email=e, phone=p, city="X") for n, e, p in NAMES)
    Customer.objects.create(name="Anne-Marie Jones-Smith", email="anne.marie@example.community", city="X")
    plain = Q.create([Q(**{f"{field}__icontains": term}) for field in FIELDS], connector=Q.OR)
    rewritten = driven(plain, Customer, "default")
    assert ("|| '')" in str(Customer.objects.filter(rewritten).query)) == (len(words(term)) > 1)
    expected = sorted(Customer.objects.filter(plain).values_list("pk", flat=True))
    assert sorted(Customer.objects.filter(rewritten).values_list("pk", flat=True)) == expected


@pytest.fixture
def common_domain(db, large):
    """3,000 customers at one domain, statistics on UPPER(email) (an expression index makes ANALYZE
    keep them, as the index plan's trigram index does), and the NAMES customers."""
    Customer.objects.bulk_create(
        Customer(name=f"C {i}", email=f"u{i:05d}@commonplace.example", city="X") for i in range(3_000))
    Customer.objects.bulk_create(Customer(name=n, email=e, phone=p, city="X") for n, e, p in NAMES)
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX fa_test_email_upper ON shop_customer (UPPER(email::text))")
    analyze(Customer)


@pytest.mark.parametrize("term", ["anne.marie@commonplace.example", "email:marie@commonplace",
                                  "marie@commonplace.example anne"])
def test_a_large_tables_search_has_stocks_rows(common_domain, term):
    """Through the backend, on a table large enough to probe, with the common words rewritten."""
    Customer.objects.create(name="Anne Marie", email="anne.marie@commonplace.example", city="X")
    with CaptureQueriesContext(connection) as captured:
        got, _result = ours(FIELDS, term)
    assert [s for s in map(unwrapped, (q["sql"] for q in captured.captured_queries))
            if s.endswith(probe_end()) and "|| '')" in s]
    namespace, _, value = term.partition(":")
    assert got == (stock([namespace], value) if value else stock(FIELDS, term)) != []


def _probe_likes(term: str) -> tuple[list[int], list[str], list[str]]:
    """The rows found for ``term``, and the e-mail patterns its probe gave the index and the recheck."""
    with CaptureQueriesContext(connection) as captured:
        got, _result = ours(FIELDS, term)
    probe = [s for s in map(unwrapped, (q["sql"] for q in captured.captured_queries)) if s.endswith(probe_end())]
    assert len(probe) == 1, [q["sql"] for q in captured.captured_queries]
    column = r'UPPER\("shop_customer"\."email"::text\)'
    indexed = re.findall(column + r" LIKE UPPER\('([^']*)'\)", probe[0])
    unindexed = re.findall(r"\(" + column + r" \|\| ''\) LIKE UPPER\('([^']*)'\)", probe[0])
    return got, indexed, unindexed


def test_the_index_is_not_given_the_words_in_every_row(common_domain):
    """Every e-mail but a few shares "commonplace" and "example", and the statistics say so: only the
    rare words reach the index. Rare words stay together (their intersection narrows the scan), and
    a value with no common word, or only common ones, is not rewritten."""
    target = Customer.objects.create(name="Z", email="zq42.zz99@commonplace.example", city="X")
    got, indexed, unindexed = _probe_likes("email:zq42.zz99@commonplace.example")
    assert got == [target.pk]
    assert sorted(indexed) == ["%zq42%", "%zz99%"] and unindexed == ["%zq42.zz99@commonplace.example%"]
    got, indexed, unindexed = _probe_likes("email:zq42.zz99")
    assert got == [target.pk] and indexed == ["%zq42.zz99%"] and unindexed == []
    all_common = driven(Q(email__icontains="commonplace.example"), Customer, "default")
    assert "|| '')" not in str(Customer.objects.filter(all_common).query)


def test_a_value_of_one_word_costs_no_query(db):
    condition = Q(email__icontains="thompson") | Q(name__icontains="a.b")
    with CaptureQueriesContext(connection) as captured:
        assert driven(condition, Customer, "default") is condition
    assert not captured.captured_queries
