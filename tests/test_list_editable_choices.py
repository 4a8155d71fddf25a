"""A foreign key in ``list_editable``: its choices (a select) or its objects' names (a raw-id input) are
read once per page, not once per row (fastadmin.rendering.formsets.SharedChoices), and the table
stays stock admin's."""

import gc
import re
import sys
import types

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.sites import all_sites
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches, path

import fastadmin
from fastadmin.sites import FastAdminSite
from tests.testapp.models import Book, Category, Gadget, Shelf

SITE_PREFIX = "choices_test_"  # site names (URL namespaces); the paths are the short names
TABLE = re.compile(r'<div class="results">.*?</table>\n</div>', re.S)


class Options:
    list_display = ["name", "category", "status"]
    list_editable = ["category", "status"]
    ordering = ["pk"]


class NarrowingForm(forms.ModelForm):
    """A project's form that narrows each row's choices by its instance."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["category"].queryset = Category.objects.filter(name__startswith=self.instance.name[0])


class NarrowingOptions(Options):
    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=NarrowingForm, **kwargs)


class RawIdOptions(Options):
    raw_id_fields = ["category"]


def _site(name: str, options: type, base: type):
    site_name = SITE_PREFIX + name
    site = FastAdminSite(site_name) if base is fastadmin.ModelAdmin else admin.AdminSite(site_name)
    site.adopt_default_site = False
    site.register(Gadget, type(f"{name}Admin", (options, base), {}))
    site.register(Category, type(f"{name}CategoryAdmin", (base,), {}))  # the raw-id lookup and change links
    return path(f"{name}/", site.urls)




def _urlpatterns() -> list:
    return [
        _site("fast", Options, fastadmin.ModelAdmin), _site("stock", Options, admin.ModelAdmin),
        _site("narrow", NarrowingOptions, fastadmin.ModelAdmin),
        _site("rawfast", RawIdOptions, fastadmin.ModelAdmin), _site("rawstock", RawIdOptions, admin.ModelAdmin),
        _shelf_site("shelffast", fastadmin.ModelAdmin), _shelf_site("shelfstock", admin.ModelAdmin),
    ]


@pytest.fixture(autouse=True)
def sites(settings):
    """This module's admin sites, for its tests only: a site lives in Django's registry of all sites
    (which system checks walk) as long as something refers to it."""
    urls = types.ModuleType("tests.list_editable_choices_urls")
    urls.urlpatterns = _urlpatterns()
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    yield
    del sys.modules[urls.__name__]
    urls.urlpatterns.clear()
    clear_url_caches()  # the resolver cached for this URLconf refers to the sites
    gc.collect()
    left = [site for site in all_sites if site.name.startswith(SITE_PREFIX)]
    assert not left, "a site of this module outlived its test"


pytestmark = pytest.mark.django_db


@pytest.fixture
def gadgets(db):
    categories = Category.objects.bulk_create([Category(name=n) for n in ["alpha", "beta", "<gamma> & co", "delta"]])
    return Gadget.objects.bulk_create([
        Gadget(name=name, status="new", category=categories[i % 4] if i % 3 else None)
        for i, name in enumerate(["apple", "banana", "avocado", "blueberry", "date", "almond"])
    ])


def _page(client, prefix: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/{prefix}/testapp/gadget/")
    assert response.status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "testapp_category"' in q["sql"]]
    return TABLE.search(response.content.decode()).group(0), reads


def test_the_choices_are_read_once_and_the_table_is_stocks(admin_client, gadgets):
    fast, fast_reads = _page(admin_client, "fast")
    stock, stock_reads = _page(admin_client, "stock")
    assert len(stock_reads) >= len(gadgets)  # stock: one read per row
    assert len(fast_reads) == 1
    assert fast == stock.replace("/stock/", "/fast/")
    assert fast.count('<option value=""') == len(gadgets)  # the empty choice, once per row
    assert fast.count("&lt;gamma&gt; &amp; co</option>") == len(gadgets)


def test_selected_values_stay_per_row(admin_client, gadgets):
    fast, _reads = _page(admin_client, "fast")
    rows = fast.split("<tr>")[2:]  # after the header row
    assert len(rows) == len(gadgets)
    for row in rows:
        pk = re.search(r'name="_selected_action" value="(\d+)"', row).group(1)
        gadget = next(g for g in gadgets if str(g.pk) == pk)
        select = re.search(r'<select name="form-\d+-category"[^>]*>.*?</select>', row, re.S).group(0)
        selected = re.findall(r'<option value="(\d*)" selected>', select)
        assert selected == ([str(gadget.category_id)] if gadget.category_id else [""])


def test_a_form_narrowing_each_rows_choices_keeps_them(admin_client, gadgets):
    table, reads = _page(admin_client, "narrow")
    assert len(reads) >= len(gadgets)  # each row its own queryset, as the project asked
    rows = re.findall(r'<select name="form-\d+-category"[^>]*>(.*?)</select>', table, re.S)
    for gadget, options in zip(gadgets, rows, strict=True):
        names = re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', options)
        assert names and all(n.startswith(gadget.name[0]) for n in names), (gadget.name, names)


def test_a_post_with_errors_renders_the_shared_choices(admin_client, gadgets):
    data = {"form-TOTAL_FORMS": str(len(gadgets)), "form-INITIAL_FORMS": str(len(gadgets)), "_save": "Save"}
    for i, gadget in enumerate(gadgets):
        data.update({f"form-{i}-id": str(gadget.pk), f"form-{i}-status": "new",
                     f"form-{i}-category": "999999" if i == 0 else str(gadget.category_id or "")})
    response = admin_client.post("/fast/testapp/gadget/", data)
    assert response.status_code == 200  # re-rendered with the error, nothing saved
    assert "Select a valid choice" in response.content.decode()
    assert response.content.decode().count("&lt;gamma&gt; &amp; co</option>") == len(gadgets)


def test_raw_id_names_are_read_once_and_the_table_is_stocks(admin_client, gadgets):
    fast, fast_reads = _page(admin_client, "rawfast")
    stock, stock_reads = _page(admin_client, "rawstock")
    with_category = sum(1 for g in gadgets if g.category_id)
    assert len(stock_reads) >= with_category and len(fast_reads) == 1  # stock: a .get() per row (and its column)
    assert fast == stock.replace("/rawstock/", "/rawfast/")
    assert fast.count('class="vForeignKeyRawIdAdminField"') == len(gadgets)
    assert "<strong><a href=\"/rawfast/testapp/category/" in fast and "&lt;gamma&gt; &amp; co</a></strong>" in fast


@pytest.mark.parametrize("bad", ["999999", "not a number"])
def test_raw_id_post_with_a_bad_value_renders_as_stock(admin_client, gadgets, bad):
    data = {"form-TOTAL_FORMS": str(len(gadgets)), "form-INITIAL_FORMS": str(len(gadgets)), "_save": "Save"}
    for i, gadget in enumerate(gadgets):
        data.update({f"form-{i}-id": str(gadget.pk), f"form-{i}-status": "new",
                     f"form-{i}-category": bad if i == 1 else str(gadget.category_id or "")})
    pages = {}
    for prefix in ("rawfast", "rawstock"):
        response = admin_client.post(f"/{prefix}/testapp/gadget/", data)
        assert response.status_code == 200
        pages[prefix] = TABLE.search(response.content.decode()).group(0)
    assert "errorlist" in pages["rawfast"]
    assert pages["rawfast"] == pages["rawstock"].replace("/rawstock/", "/rawfast/")


# ------------------------------------------------------------------ inlines (any inline class)
class BookInline(admin.TabularInline):
    model = Book
    fields = ["title", "tags"]
    extra = 1


def _shelf_site(name: str, base: type):
    site_name = SITE_PREFIX + name
    site = FastAdminSite(site_name) if base is fastadmin.ModelAdmin else admin.AdminSite(site_name)
    site.adopt_default_site = False
    site.register(Shelf, type(f"{name}ShelfAdmin", (base,), {"inlines": [BookInline]}))
    return path(f"{name}/", site.urls)


INLINE = re.compile(r'<div class="js-inline-admin-formset inline-group".*?</fieldset>', re.S)


def test_inline_rows_share_their_choices(admin_client, gadgets):
    shelf = Shelf.objects.create(name="s")
    tags = list(Category.objects.all())
    for i in range(5):
        Book.objects.create(shelf=shelf, title=f"book {i}").tags.set(tags[: i % 3])
    pages = {}
    for prefix in ("shelffast", "shelfstock"):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(f"/{prefix}/testapp/shelf/{shelf.pk}/change/")
        assert response.status_code == 200
        whole_table = [q for q in queries.captured_queries
                       if 'FROM "testapp_category"' in q["sql"] and "WHERE" not in q["sql"]]
        pages[prefix] = (INLINE.search(response.content.decode()).group(0), len(whole_table))
    (fast, fast_reads), (stock, stock_reads) = pages["shelffast"], pages["shelfstock"]
    assert stock_reads >= 5 and fast_reads == 1  # 5 books, an extra form and the empty form
    assert fast == stock.replace("/shelfstock/", "/shelffast/")
    assert fast.count("&lt;gamma&gt; &amp; co</option>") == 7


# ------------------------------------------------------------------ EDITABLE_MAX_CHOICES
def test_more_choices_than_the_limit_make_a_raw_id_input(admin_client, gadgets, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "EDITABLE_MAX_CHOICES": 3}  # 4 categories
    table, reads = _page(admin_client, "fast")
    assert "<select name=\"form-0-category\"" not in table
    assert table.count('class="vForeignKeyRawIdAdminField"') == len(gadgets)
    assert "&lt;gamma&gt; &amp; co</a></strong>" in table and 'href="/fast/testapp/category/?_to_field=id"' in table
    assert len(reads) == 2  # LIMIT 4 of the choices, then the shown rows' names in one IN query
    # The raw-id input saves like any other: post another category's key for the first row.
    first, beta = gadgets[0], Category.objects.get(name="beta")
    data = {"form-TOTAL_FORMS": str(len(gadgets)), "form-INITIAL_FORMS": str(len(gadgets)), "_save": "Save"}
    for i, gadget in enumerate(Gadget.objects.order_by("pk")):
        data.update({f"form-{i}-id": str(gadget.pk), f"form-{i}-status": gadget.status,
                     f"form-{i}-category": str(beta.pk if gadget == first else gadget.category_id or "")})
    page = admin_client.get("/fast/testapp/gadget/").content.decode()
    data["_fa_page_token"] = re.search(r'name="_fa_page_token" value="([^"]+)"', page).group(1)
    response = admin_client.post("/fast/testapp/gadget/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    first.refresh_from_db()
    assert first.category == beta


def test_as_many_choices_as_the_limit_stay_a_select(admin_client, gadgets, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "EDITABLE_MAX_CHOICES": 4}
    fast, _reads = _page(admin_client, "fast")
    stock, _reads = _page(admin_client, "stock")
    assert fast == stock.replace("/stock/", "/fast/")


def test_a_many_to_many_past_the_limit_stays_a_select(admin_client, gadgets, settings):
    settings.FASTADMIN = {**settings.FASTADMIN, "EDITABLE_MAX_CHOICES": 2}
    shelf = Shelf.objects.create(name="s")
    Book.objects.create(shelf=shelf, title="b").tags.set(Category.objects.all()[:2])
    fast = INLINE.search(admin_client.get(f"/shelffast/testapp/shelf/{shelf.pk}/change/").content.decode()).group(0)
    stock = INLINE.search(admin_client.get(f"/shelfstock/testapp/shelf/{shelf.pk}/change/").content.decode()).group(0)
    assert fast == stock.replace("/shelfstock/", "/shelffast/")


@pytest.mark.parametrize("registered", [True, False])
def test_raw_id_widget_written_in_python_is_the_templates(gadgets, registered):
    """fastadmin's InputRenderer writes Django's foreign_key_raw_id.html: link or not, name or not,
    a name to escape, a value of no object."""
    from django.contrib.admin.widgets import ForeignKeyRawIdWidget
    from django.forms.renderers import get_default_renderer

    from fastadmin.rendering.widgets import InputRenderer, raw_id_html

    # A site of this module's URLconf (Category registered: the lookup link), or one without Category.
    site = next(s for s in all_sites if s.name == SITE_PREFIX + "rawfast") if registered else FastAdminSite("x")
    inner = get_default_renderer()
    fast = InputRenderer(inner)
    widget = ForeignKeyRawIdWidget(Gadget._meta.get_field("category").remote_field, site)
    gamma = Category.objects.get(name="<gamma> & co")
    outputs = []
    for value in [None, "", gamma.pk, str(gamma.pk), 999999, "not a key"]:
        attrs = {"id": "id_form-0-category", "aria-invalid": True}
        expected = widget.render("form-0-category", value, attrs, renderer=inner)
        assert widget.render("form-0-category", value, attrs, renderer=fast) == expected, value
        outputs.append(expected)
    assert "&lt;gamma&gt; &amp; co" in outputs[2]
    assert ('class="related-lookup"' in outputs[0]) is registered
    assert ('<strong><a href="' in outputs[2]) is registered  # the name links to its change page
    assert fast._compiled["admin/widgets/foreign_key_raw_id.html"] is raw_id_html
