"""Parsing the search box, the Django fallback, the help text and the search system checks."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.test.utils import override_settings
from fastadmin.search_index import backends
from fastadmin.search_index.checks import check_search
from fastadmin.search_index.query import EXACT, STARTSWITH, Term, longest_word, parse
from shop.models import Customer

import fastadmin
from fastadmin.exceptions import BadParameter


def terms(text):
    return parse(text, max_length=200, max_terms=10)


def test_parse_words_phrases_namespaces_and_prefixes():
    assert terms('anne "marie claire" email:priya@ phone:^+91 email:=A@B.test name:"anne marie"') == [
        Term("anne"),
        Term("marie claire", quoted=True),
        Term("priya@", namespace="email"),
        Term("+91", namespace="phone", mode=STARTSWITH),
        Term("A@B.test", namespace="email", mode=EXACT),
        Term("anne marie", namespace="name", quoted=True),
    ]


def test_colon_text_that_is_not_a_namespace_stays_text():
    assert terms("10:30 '12:00'") == [Term("10:30"), Term("12:00", quoted=True)]
    assert terms('"http://x"') == [Term("http://x", quoted=True)]


def test_a_lone_quote_mark_is_an_empty_word_as_in_stock():
    """Stock unquotes any word whose first and last characters are the same quote mark, one mark alone
    included (to nothing, which then matches every row); a namespace's value still needs two."""
    assert terms("'John O'Hara'") == [Term("'John O'Hara")]
    assert terms("' \"") == []
    assert terms("name:'") == [Term("'", namespace="name")]


@pytest.mark.parametrize("text", ['"unterminated', "'", '""', "name:\"", "   "])
def test_odd_quoting_never_raises_unexpectedly(text):
    try:
        terms(text)
    except BadParameter as exc:
        assert exc.param == "q"


def test_longest_word_counts_letters_and_digits_of_any_script():
    assert longest_word("ab-cd") == 2
    assert longest_word("+4420") == 4
    assert longest_word("王小明") == 3
    assert longest_word("🎉🎉🎉") == 0


def test_non_postgresql_database_falls_back_to_django_search(db, monkeypatch):
    Customer.objects.create(name="Anne Example", email="anne@example.com")
    model_admin = fastadmin.site.get_model_admin(Customer)
    request = RequestFactory().get("/")
    monkeypatch.setattr(backends, "is_postgresql", lambda alias: False)
    result = backends.TrigramSearchBackend(model_admin).search(request, Customer.objects.all(), "email:anne")
    stock, _ = admin.ModelAdmin.get_search_results(model_admin, request, Customer.objects.all(), "email:anne")
    assert str(result.queryset.query) == str(stock.query)  # Django's own search, literally


def test_help_text_lists_namespaces_unless_the_admin_sets_its_own():
    customer_admin = fastadmin.site.get_model_admin(Customer)
    assert customer_admin.search_help_text.startswith(
        "Search one field by typing its name and a colon: Name (name:), Email (email:), Phone (phone:), ID (id:)")


def test_help_text_names_related_fields_by_their_labels_not_their_paths():
    from fastadmin.search_index.fields import label
    from shop.models import Order

    assert label(Order, "customer__name") == "Customer name"
    assert label(Order, "pk") == "ID"
    orders = type("Orders", (fastadmin.ModelAdmin,), {"search_fields": ["number", "customer__name"],
                                                       "search_namespace_help": True})(Order, fastadmin.site)
    assert "Customer name (customer__name:)" in orders.search_help_text
    assert "Number (number:)" in orders.search_help_text
    own = type("Own", (fastadmin.ModelAdmin,), {"search_fields": ["name"], "search_help_text": "Mine",
                                               "search_namespace_help": True})
    assert own(Customer, fastadmin.site).search_help_text == "Mine"
    assert type("No", (fastadmin.ModelAdmin,), {})(Customer, fastadmin.site).search_help_text is None


def test_no_help_line_unless_asked_for_like_stock():
    """Django's test_search_help_text: search_fields without search_help_text show no help line."""
    plain = type("Plain", (fastadmin.ModelAdmin,), {"search_fields": ["name", "email"]})
    assert plain(Customer, fastadmin.site).search_help_text is None


def test_search_backend_can_be_chosen_per_admin_and_in_settings():
    custom = type("C", (fastadmin.ModelAdmin,), {"search_backend": backends.DjangoSearchBackend})
    assert isinstance(custom(Customer, fastadmin.site).get_search_backend(), backends.DjangoSearchBackend)
    with override_settings(FASTADMIN={"SEARCH_BACKEND": "fastadmin.search_index.backends.DjangoSearchBackend"}):
        default = fastadmin.site.get_model_admin(Customer).get_search_backend()
        assert isinstance(default, backends.DjangoSearchBackend)


@pytest.fixture
def temp_registration():
    registered = []

    def register(**options):
        site = fastadmin.FastAdminSite(name="checks_site")
        site.register(Customer, type("CheckAdmin", (fastadmin.ModelAdmin,), options))
        registered.append(site)
        return site

    yield register
    for site in registered:
        site.unregister(Customer)


def ids(messages):
    return sorted(m.id for m in messages)


def test_checks_for_search_configuration(temp_registration, settings):
    assert ids(check_search()) == []
    temp_registration(search_fields=["@name", "nonexistent", "customer_typo__name"])
    assert ids(check_search()) == ["fastadmin.E103", "fastadmin.E103"]
    # "@" without django.contrib.postgres, whose search lookup stock's "@" needs: the example's "@notes"
    # admin is reported too.
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django.contrib.postgres"]
    messages = check_search()
    assert ids(messages) == ["fastadmin.E101", "fastadmin.E101", "fastadmin.E103", "fastadmin.E103"]
    assert {m.obj.__class__.__name__ for m in messages if m.id == "fastadmin.E101"} == {"CheckAdmin", "LeadNoteAdmin"}


def test_checks_for_search_backend_and_limits(temp_registration):
    temp_registration(search_fields=["name"], search_backend="no.such.Backend")
    with override_settings(FASTADMIN={"SEARCH_BACKEND": "builtins.dict", "SEARCH_MAX_TERMS": 0}):
        assert ids(check_search()) == ["fastadmin.E102", "fastadmin.E102", "fastadmin.E104"]


@pytest.mark.django_db(databases=["default", "sqlite"])
def test_sqlite_falls_back_to_django_search_for_real():
    from tests.testapp.models import Item

    Item.objects.using("sqlite").bulk_create(
        [Item(name="Anne Marie", kind="a"), Item(name="anne", kind="b"), Item(name="Bob", kind="c")]
    )
    item_admin = fastadmin.site.get_model_admin(Item)
    queryset = Item.objects.using("sqlite").order_by("pk")
    result = backends.TrigramSearchBackend(item_admin).search(RequestFactory().get("/"), queryset, "ANNE")
    assert [i.name for i in result.queryset] == ["Anne Marie", "anne"]
    assert "LIKE" in str(result.queryset.query) and "ANY(ARRAY" not in str(result.queryset.query)


def test_full_text_config_must_be_a_name_or_none(settings):
    from fastadmin.search_index.checks import check_search

    settings.FASTADMIN = {"SEARCH_FULLTEXT_CONFIG": 3}
    assert "fastadmin.E105" in ids(check_search())
    settings.FASTADMIN = {"SEARCH_FULLTEXT_CONFIG": "simple"}
    assert "fastadmin.E105" not in ids(check_search())
