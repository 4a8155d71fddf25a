"""The trigram backend returns what stock admin search returns, on real PostgreSQL, and says so
clearly when it cannot search (never a 500).

Case and accent rules (the same as stock, because both compare ``UPPER(col::text)``): matching is
case-insensitive (``MÜLLER`` finds ``Müller`` where the database's ctype knows the letter) and
accent-sensitive (``muller`` does not find ``Müller``).
"""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from fastadmin.search_index.backends import DjangoSearchBackend, TrigramSearchBackend
from shop.models import Customer, Order

from fastadmin.exceptions import BadParameter
from tests.helpers import probe_end, unwrapped

NAMES = [
    ("Anne Marie Smith", "anne.marie@example.com", "+919876543210"),
    ("Anne-Marie Jones", "amj@example.org", "+14155550100"),
    ("Marie Anne", "marie@corp.test", "+919812345678"),
    ("Jürgen Müller", "juergen@example.de", "+4930123456"),
    ("JÜRGEN MÜLLER", "jm2@example.de", "+4930123457"),
    ("Zoë Ölund", "zoe@example.se", ""),
    ("Priya Sharma", "priya@example.in", "+919900000001"),
    ("Sean O'Brien", "obrien@example.ie", "+35312345"),
    ("100% Cotton Ltd", "cotton_100@example.com", "555-0100"),
    ("Under_Score Inc", "under_score@example.com", "555-0101"),
    ("Back\\Slash Co", "back\\slash@example.com", "555-0102"),
    ("王小明", "wang@example.cn", "+8613800000000"),
    ("Ольга Петрова", "olga@example.ru", "+79001234567"),
    ("Party 🎉 People", "party@example.com", "555-0103"),
    ("Al", "al@example.com", "555-0104"),
    ("Bo Li", "bo@example.com", "555-0105"),
]


@pytest.fixture
def customers(db):
    return Customer.objects.bulk_create(
        Customer(name=n, email=e, phone=p, city="X") for n, e, p in NAMES
    )


class CustomerSearch(admin.ModelAdmin):
    search_fields = ["name", "email", "phone"]


def request(q=""):
    r = RequestFactory().get("/admin/shop/customer/", {"q": q} if q else {})
    r.resolver_match = None
    return r


def ours(search_fields, term, model=Customer):
    model_admin = type("A", (admin.ModelAdmin,), {"search_fields": search_fields})(model, admin.site)
    qs = model.objects.order_by("pk")
    result = TrigramSearchBackend(model_admin).search(request(term), qs, term)
    return sorted(result.queryset.values_list("pk", flat=True)), result


def stock(search_fields, term, model=Customer):
    model_admin = type("A", (admin.ModelAdmin,), {"search_fields": search_fields})(model, admin.site)
    qs = DjangoSearchBackend(model_admin).search(request(term), model.objects.order_by("pk"), term).queryset
    return sorted(set(qs.values_list("pk", flat=True)))


SAME_AS_STOCK = [
    # (search_fields, our query, stock search_fields, stock query)
    (["name", "email", "phone"], "anne", None, None),
    (["name", "email", "phone"], "ANNE marie", None, None),  # multi-word AND, case
    (["name", "email", "phone"], '"anne marie"', None, None),  # a phrase
    (["name", "email", "phone"], "'marie anne'", None, None),
    (["name", "email", "phone"], "müller", None, None),  # case-insensitive beyond ASCII
    (["name", "email", "phone"], "muller", None, None),  # accent-sensitive, like stock: nothing
    (["name", "email", "phone"], "100%", None, None),  # % is a literal
    (["name", "email", "phone"], "nder_s", None, None),  # _ is a literal
    (["name", "email", "phone"], "der_sco", None, None),
    (["name", "email", "phone"], "back\\sla", None, None),  # backslash is a literal
    (["name", "email", "phone"], "o'brien", None, None),
    (["name", "email", "phone"], "王小明", None, None),
    (["name", "email", "phone"], "ольга", None, None),
    (["name", "email", "phone"], "party 🎉", None, None),
    (["name", "email", "phone"], "9198", None, None),
    (["name", "email", "phone"], "'; DROP TABLE shop_customer; --", None, None),
    (["name", "email", "phone"], "example.com ann", None, None),
    (["^name", "email"], "anne", None, None),  # ^ starts-with
    (["^name", "email"], "mar", None, None),
    (["=email", "name"], "PRIYA@example.in", None, None),  # = exact, case-insensitive
    (["=email", "name"], "priya", None, None),
    (["name", "email", "phone"], "email:priya@", ["email"], "priya@"),  # namespaced
    (["name", "email", "phone"], "email:example.de", ["email"], "example.de"),
    (["name", "email", "phone"], "phone:^+9198", ["^phone"], "+9198"),
    (["name", "email", "phone"], 'name:"anne marie"', ["name"], '"anne marie"'),
    (["name", "email", "phone"], "name:anne smith", None, "name:anne smith"),  # namespace binds one word
    (["name", "email", "phone"], "email:=AMJ@example.org", ["=email"], "amj@example.org"),
]


@pytest.mark.parametrize("fields,query,stock_fields,stock_query", SAME_AS_STOCK)
def test_results_equal_stock_icontains_semantics(customers, fields, query, stock_fields, stock_query):
    got, result = ours(fields, query)
    if stock_query == "name:anne smith":
        expected = sorted(set(stock(["name"], "anne")) & set(stock(fields, "smith")))
    else:
        expected = stock(stock_fields or fields, stock_query or query)
    assert got == expected
    assert result.notice is None


def test_expected_matches_are_meaningful(customers):
    """Guard against a comparison of two empty sets: the reference finds what it should."""
    names = dict(Customer.objects.values_list("pk", "name"))
    found = {names[pk] for pk in ours(["name", "email", "phone"], "müller")[0]}
    assert found == {"Jürgen Müller", "JÜRGEN MÜLLER"}
    assert {names[pk] for pk in ours(["name", "email", "phone"], "100%")[0]} == {"100% Cotton Ltd"}
    assert ours(["name", "email", "phone"], "muller")[0] == []
    assert {names[pk] for pk in ours(["name", "email", "phone"], "ANNE marie")[0]} == {
        "Anne Marie Smith", "Anne-Marie Jones", "Marie Anne"}


def test_related_field_matches_stock_without_duplicates(customers):
    anne = Customer.objects.get(name="Anne Marie Smith")
    priya = Customer.objects.get(name="Priya Sharma")
    for i, c in enumerate([anne, anne, priya]):
        Order.objects.create(customer=c, number=f"ORD-{i:05d}", total=1)
    for term in ["anne", "ORD-0000", "priya@", "ord smith"]:
        got, _ = ours(["number", "customer__name", "customer__email"], term, model=Order)
        assert got == stock(["number", "customer__name", "customer__email"], term, model=Order), term
    assert len(ours(["number", "customer__name"], "anne", model=Order)[0]) == 2


@pytest.fixture
def guarded(settings):
    """Every table counts as large: the guards for words no trigram index can serve apply."""
    settings.FASTADMIN = {**settings.FASTADMIN, "SEARCH_SCAN_ROWS": 0}


def test_short_term_is_matched_as_prefix_with_a_notice(customers, guarded):
    got, result = ours(["name", "email", "phone"], "al")
    assert got == stock(["^name", "^email", "^phone"], "al")
    assert got  # "Al", al@example.com
    assert "fewer than 3" in result.notice and "start of name, email, phone" in result.notice


def test_pk_namespace_is_typed_exact(customers):
    target = customers[3]
    got, _ = ours(["name"], f"id:{target.pk}")
    assert got == [target.pk]
    assert ours(["name"], f"pk:{target.pk}")[0] == [target.pk]
    with pytest.raises(BadParameter, match="not a valid ID"):
        ours(["name"], "id:99999999999999999999999")  # beyond bigint
    with pytest.raises(BadParameter, match="not a valid ID"):
        ours(["name"], "id:12abc")


def test_exact_numeric_field_skips_values_of_the_wrong_type(customers):
    target = customers[0]
    assert ours(["=id", "name"], str(target.pk))[0] == [target.pk]
    assert ours(["=id", "name"], "anne")[0] == stock(["name"], "anne")
    assert ours(["=id"], "anne")[0] == []  # stock: UPPER(id::text) = 'ANNE' finds nothing either


@pytest.mark.parametrize("query,message", [
    ("email:", "needs a value"),
    ("a\x00b", "NUL"),
    ("%", "too short"),
    ("@@ --", "too short"),
    ("🎉", "too short"),
])
def test_bad_input_gives_a_clear_message(customers, guarded, query, message):
    with pytest.raises(BadParameter, match=message):
        ours(["name", "email", "phone"], query)


def test_quoted_colon_is_plain_text(customers):
    Customer.objects.create(name="Work at:home Ltd", email="m@example.com")
    assert ours(["name"], '"at:home"')[0] == stock(["name"], '"at:home"') != []
    assert ours(["name"], "at:home")[0] == stock(["name"], "at:home") != []  # "at" is no search field
    # Not namespace-shaped (starts with a digit): plain text, stock semantics next to a long word.
    Customer.objects.create(name="Meeting 10:30 Ltd", email="m2@example.com")
    assert ours(["name"], "meeting 10:30")[0] == stock(["name"], "meeting 10:30") != []


def test_short_word_next_to_a_long_one_keeps_stock_semantics(customers):
    for query in ["anne al", "marie -", "party 🎉", "smith a"]:
        got, result = ours(["name", "email", "phone"], query)
        assert got == stock(["name", "email", "phone"], query), query
        assert result.notice is None


def test_reverse_relation_matches_stock_without_duplicates(customers):
    from shop.models import Lead

    anne = Customer.objects.get(name="Anne Marie Smith")
    Lead.objects.bulk_create([Lead(name="Quorra lead", email=f"l{i}@x.test", customer=anne) for i in range(3)])
    got, result = ours(["name", "leads__name"], "quorra")
    assert got == stock(["name", "leads__name"], "quorra") == [anne.pk]
    assert result.queryset.count() == 1 and result.may_have_duplicates is False


# ---------------------------------------------------------------- drop-in: stock's results for stock's input
def test_words_that_look_like_an_unknown_namespace_are_searched_as_typed(customers):
    """Stock searches "http://x" or "note:x" as text; only the search fields' names are namespaces."""
    Customer.objects.create(name="See https://example.com/x", email="url@x.test")
    Customer.objects.create(name="todo: call back", email="todo@x.test")
    for query in ["https://example.com", "todo: call", "todo:", "bogus:x", 'todo:"call back"']:
        assert ours(["name", "email"], query)[0] == stock(["name", "email"], query), query
    assert ours(["name", "email"], "https://example.com")[0] != []


def test_search_of_any_length_and_word_count_equals_stock(customers):
    """Stock accepts any search; so does fastadmin unless a project sets SEARCH_MAX_LENGTH/TERMS."""
    long_name = "Quorra " + "Encom " * 30
    Customer.objects.create(name=long_name, email="long@x.test")
    for query in ["anne " * 80, long_name, long_name[:150], "anne marie smith example com 98 76 54 32 10 91"]:
        got, _ = ours(["name", "email", "phone"], query)
        assert got == stock(["name", "email", "phone"], query), query[:40]
    assert ours(["name"], long_name)[0] == [Customer.objects.get(email="long@x.test").pk]


def test_search_limits_are_an_opt_in(customers):
    from django.test.utils import override_settings

    with override_settings(FASTADMIN={"SEARCH_MAX_LENGTH": 400, "SEARCH_MAX_TERMS": 10}):
        with pytest.raises(BadParameter, match="at most 400"):
            ours(["name"], "x" * 401)
        with pytest.raises(BadParameter, match="at most 10"):
            ours(["name"], " ".join(f"w{i}" for i in range(11)))
        assert ours(["name"], "anne " * 80)[0] == stock(["name"], "anne")  # repeated words count once


@pytest.mark.parametrize("fields", [["id__exact"], ["pk__exact", "name"], ["id__exact", "email"],
                                    ["=id", "name"], ["created__exact", "name"]])
@pytest.mark.parametrize("kind", ["word", "number", "huge", "mixed"])
def test_lookup_on_a_non_text_field_skips_words_that_are_not_its_values(customers, fields, kind):
    """``search_fields = ["id__exact"]`` with "abc" raised ValueError (500); stock finds the rows the
    other fields match and skips the field for that word."""
    target = customers[4]
    query = {"word": "anne", "number": str(target.pk), "huge": "9" * 30, "mixed": f"{target.pk} anne"}[kind]
    got, _ = ours(fields, query)
    assert got == stock(fields, query)
    if kind == "number" and fields[0] != "created__exact":
        assert target.pk in got


def test_range_lookup_on_a_non_text_field_skips_words_that_are_not_its_values(customers):
    assert ours(["id__gte", "name"], "anne")[0] == stock(["name"], "anne") != []
    assert ours(["id__gte", "name"], str(customers[-1].pk))[0] == [customers[-1].pk]


class ThirdPartySearch(admin.ModelAdmin):
    """A search override in a mixin placed after fastadmin.ModelAdmin (``class A(fastadmin.ModelAdmin,
    ThirdPartySearch)``): it comes after fastadmin's search in the MRO and must still be what runs."""

    def get_search_results(self, request, queryset, search_term):
        return queryset.filter(email__iexact=search_term), False


@pytest.mark.parametrize("backend", [TrigramSearchBackend, DjangoSearchBackend])
def test_an_overridden_get_search_results_always_runs(customers, backend):
    import fastadmin

    options = {"search_fields": ["name"], "search_backend": backend}
    cls = type("A", (fastadmin.ModelAdmin, ThirdPartySearch), options)
    model_admin = cls(Customer, fastadmin.site)
    term = "PRIYA@example.in"
    queryset, _ = model_admin.get_search_results(request(term), Customer.objects.all(), term)
    assert [c.name for c in queryset] == ["Priya Sharma"]  # the override's email match, not a name search
    queryset, _ = model_admin.get_search_results(request("anne"), Customer.objects.all(), "anne")
    assert list(queryset) == []


STOCK_SPECS = [
    ["^name", "=email"],
    ["name__iexact", "email__istartswith"],
    ["name__exact", "phone__startswith"],
    ["name__icontains", "=phone"],
    ["@name", "email"],  # full text (django.contrib.postgres): the configuration stock's lookup reads
]
STOCK_QUERIES = ['"anne marie"', "'marie anne' smith", "anne", "Anne Marie Smith", 'anne "jones"', "+9198",
                 "PRIYA@example.in", "marie", '"Zoë Ölund"', "priya", '"unterminated anne',
                 # Django's admin_views test_search_with_spaces
                 '"John Doe"', "'John Doe'", "John Doe", '"John Doe" John', "John Doe John", "'John Do'",
                 "'John O'Hara'", "'John O\\'Hara'", '"John O"Hara"', '"John O\\"Hara"']


@pytest.mark.parametrize("fields", STOCK_SPECS, ids=lambda f: ",".join(f))
def test_stock_search_fields_syntax_gives_stocks_rows(customers, fields):
    """Prefixes, lookups spelled out and quoted phrases (smart_split) mean what they mean in stock."""
    for i, name in enumerate(["John Doe", "John O'Hara", 'John O"Hara']):
        Customer.objects.create(name=name, email=f"john{i}@quotes.test")
    found_any = False
    for query in STOCK_QUERIES:
        got, result = ours(fields, query)
        assert got == stock(fields, query), query
        assert result.may_have_duplicates is False and len(got) == result.queryset.count()
        found_any = found_any or bool(got)
    assert found_any


def test_many_to_many_search_has_stocks_rows_once_each(db):
    from tests.testapp.models import Category, Gadget

    red, blue = Category.objects.create(name="Red"), Category.objects.create(name="Reddish blue")
    both = Gadget.objects.create(name="Both")
    both.tags.set([red, blue])
    Gadget.objects.create(name="Red gadget").tags.set([blue])
    Gadget.objects.create(name="None")
    stock_admin = type("S", (admin.ModelAdmin,), {"search_fields": ["name", "tags__name"]})(Gadget, admin.site)
    stock_qs, stock_dupes = stock_admin.get_search_results(request("red"), Gadget.objects.all(), "red")
    assert stock_dupes is True and stock_qs.count() == 3  # stock repeats "Both" (two matching tags)
    got, result = ours(["name", "tags__name"], "red", model=Gadget)
    assert got == sorted(set(stock_qs.values_list("pk", flat=True)))
    assert result.queryset.count() == len(got) == 2  # no repeats, so no DISTINCT needed


def test_short_words_on_a_small_table_mean_what_they_mean_in_stock(customers):
    """Reading a table of a few thousand rows costs no more than a page: no prefix rewrite, no 400."""
    from tests.conftest import analyze

    Customer.objects.create(name="Sally 100% Al", email="sally@x.test")
    analyze(Customer)
    for query in ["al", "%", "🎉", "a", "-", "al %"]:
        got, result = ours(["name", "email", "phone"], query)
        assert got == stock(["name", "email", "phone"], query), query
        assert result.notice is None
    assert Customer.objects.get(name="Sally 100% Al").pk in ours(["name"], "al")[0]  # inside, not a prefix


def test_words_through_a_multi_valued_relation_must_match_the_same_related_row(customers):
    """Stock filters every word in one filter() call, so through a reverse FK or m2m all words must
    match one related row: "quorra zeta" does not find a customer whose "Quorra" lead is not "zeta"."""
    from shop.models import Lead

    anne = Customer.objects.get(name="Anne Marie Smith")
    Lead.objects.create(name="Quorra lead", email="first@x.test", customer=anne)
    Lead.objects.create(name="Other lead", email="zeta@x.test", customer=anne)
    fields = ["name", "leads__name", "leads__email"]
    for query in ["quorra zeta", "quorra first@", "other zeta", "anne zeta", "lead x.test", "quorra"]:
        got, result = ours(fields, query)
        assert got == stock(fields, query), query
        assert result.queryset.count() == len(got)
    assert ours(fields, "quorra zeta")[0] == [] and ours(fields, "quorra first@")[0] == [anne.pk]


def test_words_through_many_to_many_match_the_same_related_row(db):
    from tests.testapp.models import Category, Gadget

    red, blue = Category.objects.create(name="Red"), Category.objects.create(name="Blue")
    gadget = Gadget.objects.create(name="Lamp")
    gadget.tags.set([red, blue])
    for query in ["red blue", "red lamp", "blue", "red red"]:
        assert ours(["name", "tags__name"], query, model=Gadget)[0] == stock(["name", "tags__name"], query,
                                                                                model=Gadget), query
    assert ours(["name", "tags__name"], "red blue", model=Gadget)[0] == []


def test_search_backend_runs_when_django_contrib_admin_model_admin_is_rebound(customers, monkeypatch):
    """Django's own admin tests run with ``admin.ModelAdmin`` rebound to fastadmin's: the check for an
    override must compare with stock's function itself, or every search silently falls back to stock."""
    from django.contrib import admin as admin_module

    import fastadmin

    monkeypatch.setattr(admin_module, "ModelAdmin", fastadmin.ModelAdmin)
    model_admin = type("A", (fastadmin.ModelAdmin,), {"search_fields": ["name"]})(Customer, fastadmin.site)
    calls = []
    monkeypatch.setattr(TrigramSearchBackend, "search",
                        lambda self, request, queryset, term: calls.append(term) or DjangoSearchBackend.search(
                            self, request, queryset, term))
    model_admin.get_search_results(request("anne"), Customer.objects.all(), "anne")
    assert calls == ["anne"]


def test_small_table_search_is_stocks_filter_without_a_probe(customers, settings):
    """The key probe exists for tables of millions; on a small one it only adds queries (Django's own
    tests count them), so the search is the filter itself, as in stock."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import analyze

    analyze(Customer)
    with CaptureQueriesContext(connection) as captured:
        got, result = ours(["name", "email"], "anne")
    sqls = [unwrapped(q["sql"]) for q in captured.captured_queries]
    assert not [s for s in sqls if s.endswith(probe_end()) or s.startswith("EXPLAIN")]
    assert "LIKE" in str(result.queryset.query) and got == stock(["name", "email"], "anne") != []
    settings.FASTADMIN = {**settings.FASTADMIN, "SEARCH_SCAN_ROWS": 0}
    with CaptureQueriesContext(connection) as captured:
        assert ours(["name", "email"], "anne")[0] == got
    assert [q for q in captured.captured_queries if q["sql"].startswith("EXPLAIN")]  # large: the planner is asked


def test_never_analyzed_small_table_is_small(db):
    """Django's own test databases are never analyzed (reltuples = -1): a few pages on disk still say
    "small", so their searches are stock's filter alone."""
    from django.db import connection
    from fastadmin.search_index.sql import table_rows

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE fa_never_analyzed (id int)")
        cursor.execute("INSERT INTO fa_never_analyzed SELECT generate_series(1, 50)")
    fake = type("Q", (), {"db": "default", "model": type("M", (), {"_meta": type("O", (), {
        "db_table": "fa_never_analyzed"})})})
    reltuples, rows = table_rows(fake)
    assert reltuples == -1 and 0 <= rows < 10_000


@pytest.mark.django_db
def test_exact_lookup_words_are_converted_like_stock_django_6_1():
    """Stock (Django 6.1) converts a word for an exact lookup through the form field: booleans
    strictly and in any case ("TRUE", "none" for a nullable one), integers leniently ("3." is 3);
    a word that is not a value skips that field."""
    from tests.testapp.models import Item

    on = Item.objects.create(name="on", active=True, rank=3)
    off = Item.objects.create(name="off", active=False, rank=None)
    assert ours(["active__exact"], "TRUE", model=Item)[0] == [on.pk]
    assert ours(["active__exact"], "maybe", model=Item)[0] == []
    assert ours(["rank__exact"], "3.", model=Item)[0] == [on.pk]
    assert ours(["rank__exact", "name"], "off", model=Item)[0] == [off.pk]


@pytest.mark.parametrize("column", ["pk", "email", "created"])
def test_fenced_keys_select_the_rows___in_selects(customers, column):
    """Found keys past ``PLANNED_KEYS`` go behind an InitPlan; any column type must survive the array's
    cast and ``unnest`` (integers, varchar with a length, timestamps)."""
    from django.db.models import F
    from fastadmin.search_index.sql import AnyOfFencedArray

    values = list(Customer.objects.order_by("pk").values_list(column, flat=True)[::2])
    fenced = Customer.objects.filter(AnyOfFencedArray(F(column), values))
    assert "ARRAY(SELECT unnest(" in str(fenced.query)
    expected = Customer.objects.filter(**{f"{column}__in": values})
    assert sorted(fenced.values_list("pk", flat=True)) == sorted(expected.values_list("pk", flat=True)) != []
    assert not Customer.objects.filter(AnyOfFencedArray(F(column), [])).exists()


@pytest.mark.parametrize("lookup", ["AnyOfArray", "AnyOfFencedArray", "InUnnestedArray"])
def test_key_arrays_are_one_literal_that_survives_any_text(db, lookup):
    """Keys go to PostgreSQL as one array literal (not ARRAY[...], an expression per key for the
    planner to fold): quotes, backslashes, commas, braces, spaces and NULL-looking text survive."""
    from django.db.models import F
    from fastadmin.search_index import sql

    odd = ['a"b', "c\\d", "e,f", "{g}", "h i", "NULL", "j'k", "ü"]
    Customer.objects.bulk_create(Customer(name=f"n{i}", email=e, city="X") for i, e in enumerate(odd))
    Customer.objects.create(name="other", email="other", city="X")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    found = Customer.objects.filter(getattr(sql, lookup)(F("email"), odd))
    with CaptureQueriesContext(connection) as captured:
        assert sorted(found.values_list("email", flat=True)) == sorted(odd)
    assert "ARRAY[" not in captured.captured_queries[0]["sql"]
