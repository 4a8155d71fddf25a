"""fastadmin as a drop-in at the changelist: the ModelAdmin hooks and parameters stock honours.

Each test here comes from a failure of Django's own admin tests run with fastadmin swapped in
(``make test-django-admin``, tests/django_admin/).
"""

import pytest
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.messages import get_messages
from django.core.exceptions import FieldError
from django.core.paginator import Paginator
from django.db import connection
from django.template.loader import get_template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings

import fastadmin
from fastadmin.checks import check_settings
from tests.helpers import rel_links
from tests.testapp.models import Category, Gadget


class CategoryAdmin(fastadmin.ModelAdmin):
    list_display = ["name"]
    list_per_page = 10
    ordering = ["name"]


class ReverseSelectRelatedAdmin(CategoryAdmin):
    list_select_related = ["item"]  # a reverse relation: select_related() rejects it once rows are read


class CustomPaginator(Paginator):
    pass


class OwnPaginatorAdmin(CategoryAdmin):
    paginator = CustomPaginator


class OwnGetPaginatorAdmin(CategoryAdmin):
    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return CustomPaginator(queryset, 5)


class OddOnlyFilter(admin.SimpleListFilter):
    """Narrows the rows although no parameter is given (stock counts the full total separately)."""

    title = "parity"
    parameter_name = "parity"

    def lookups(self, request, model_admin):
        return [("all", "All")]

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(name__regex=r"[13579]$")


class DefaultFilterAdmin(CategoryAdmin):
    list_filter = [OddOnlyFilter]


@pytest.fixture
def names(db):
    rows = Category.objects.bulk_create([Category(name=f"cat {i:02d}") for i in range(25)])
    return [row.name for row in rows]


def changelist(admin_class, user, **params):
    model_admin = admin_class(Category, fastadmin.FastAdminSite(name="dropin"))
    request = RequestFactory().get("/category/", params)
    request.user = user
    return model_admin.get_changelist_instance(request), request


def shown(cl) -> list[str]:
    return [row.name for row in cl.result_list]


def test_own_paginator_class_is_honoured(superuser, names):
    cl, _ = changelist(OwnPaginatorAdmin, superuser, p="2")
    assert isinstance(cl.paginator, CustomPaginator)
    assert cl.numbered
    assert shown(cl) == names[10:20]
    assert cl.result_count == 25


def test_own_get_paginator_is_honoured(superuser, names):
    cl, _ = changelist(OwnGetPaginatorAdmin, superuser, p="2")
    assert isinstance(cl.paginator, CustomPaginator)
    assert shown(cl) == names[5:10]


def test_page_numbers_on_an_exactly_counted_list(superuser, names):
    cl, _ = changelist(CategoryAdmin, superuser, p="3")
    assert shown(cl) == names[20:25]
    assert cl.paginator.count == 25
    assert cl.page_num == 3


def test_page_number_out_of_range_is_stocks_incorrect_lookup(superuser, names):
    with pytest.raises(IncorrectLookupParameters):
        changelist(CategoryAdmin, superuser, p="-1")


def test_show_all_on_an_exactly_counted_list(superuser, names):
    cl, _ = changelist(CategoryAdmin, superuser, all="")
    assert shown(cl) == names


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 1})
def test_page_numbers_on_an_estimated_list_are_a_400(admin_client, items):
    assert admin_client.get("/admin/testapp/item/?p=2").status_code == 400
    assert admin_client.get("/admin/testapp/item/?all=").status_code == 400
    first = admin_client.get("/admin/testapp/item/?p=1")
    assert first.status_code == 200
    assert first.context["cl"].numbered is False


def test_cursor_is_not_a_lookup_and_request_get_is_untouched(superuser, names):
    first, _ = changelist(CategoryAdmin, superuser)
    assert not first.numbered and shown(first) == names[:10]
    cl, request = changelist(CategoryAdmin, superuser, cursor=first.page.next_cursor)
    assert request.GET["cursor"] == first.page.next_cursor  # stock's request, not a copy without it
    assert "cursor" not in cl.get_filters_params()
    assert shown(cl) == names[10:20]
    # sort and filter links start from the first page; page links carry their own cursor
    assert "cursor" not in cl.get_query_string({"o": "-1"})
    assert "cursor=" in cl.next_url


def test_full_count_is_separate_when_a_filter_narrows_by_default(superuser, names):
    cl, _ = changelist(DefaultFilterAdmin, superuser)
    assert cl.result_count == 12
    assert cl.full_result_count == 25


def test_repr_names_the_changelist_like_stock(superuser, names):
    cl, _ = changelist(CategoryAdmin, superuser)
    assert repr(cl) == "<ChangeList: model=Category model_admin=CategoryAdmin>"


def test_nul_in_search_is_stocks_message_not_a_400(admin_client, items):
    response = admin_client.get("/admin/testapp/item/", {"q": "a\x00b"})
    assert response.status_code == 200
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Null characters are not allowed."]


def test_result_count_on_its_own_line_like_stock(admin_client, items):
    response = admin_client.get("/admin/testapp/item/")
    assert b"\n87 items\n" in response.content


@override_settings(INSTALLED_APPS=[
    "django.contrib.admin.apps.SimpleAdminConfig", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "fastadmin",
])
def test_e006_accepts_any_admin_app_config():
    assert "fastadmin.E006" not in [m.id for m in check_settings()]


def test_admin_checks_run_through_checks_class():
    from fastadmin.checks import ModelAdminChecks

    class Restricted(fastadmin.ModelAdmin):
        object_cache = True

        def get_queryset(self, request):
            return super().get_queryset(request).filter(status="open")

    model_admin = Restricted(Gadget, fastadmin.FastAdminSite(name="checks-class"))
    assert issubclass(model_admin.checks_class, ModelAdminChecks)
    assert "fastadmin.W202" in [m.id for m in model_admin.check()]


def test_cl_paginator_keeps_stocks_api_on_keyset_pages(superuser, names):
    cl, _ = changelist(CategoryAdmin, superuser)
    assert not cl.numbered
    assert isinstance(cl.paginator, Paginator)
    assert cl.paginator.count == 25
    assert list(cl.paginator.page_range) == [1, 2, 3]


def test_rows_are_read_on_first_use_and_counted_without_display_joins(superuser, names):
    cl, _ = changelist(ReverseSelectRelatedAdmin, superuser)  # stock builds this too: its page is lazy
    assert cl.result_count == 25
    with pytest.raises(FieldError, match="select_related"):
        cl.result_list  # noqa: B018 - the read itself is the assertion


def test_the_page_query_runs_when_the_rows_are_used(superuser, names):
    with CaptureQueriesContext(connection) as building:
        cl, _ = changelist(CategoryAdmin, superuser)
    with CaptureQueriesContext(connection) as reading:
        rows = shown(cl)
    assert rows == names[:10]
    page_query = [q["sql"] for q in reading if "LIMIT 11" in q["sql"]]
    assert len(page_query) == 1 and '"testapp_category"."name" ASC' in page_query[0]
    assert not [q for q in building if "LIMIT 11" in q["sql"]]


def search_form_html(response) -> str:
    content = response.content.decode()
    start = content.index('id="changelist-search"')
    return content[start : content.index("</form>", start)]


def test_search_form_on_a_later_page_starts_the_search_from_the_first_page(admin_client, items):
    first = admin_client.get("/admin/testapp/item/", {"kind__exact": "a"})
    second = admin_client.get("/admin/testapp/item/" + rel_links(first)["next"])
    assert second.status_code == 200 and second.context["cl"].cursor
    form = search_form_html(second)
    assert 'name="kind__exact" value="a"' in form
    assert 'name="cursor"' not in form


def test_action_bar_is_stocks_template_with_the_counter_block_replaced(admin_client, items):
    """fastadmin's actions template extends stock's, so this Django version's markup stays."""
    response = admin_client.get("/admin/testapp/item/")
    stock = get_template("admin/actions.html").template.source
    used = [t.name for t in response.templates]
    assert "admin/fastadmin/actions.html" in used and "admin/actions.html" in used
    assert 'class="action-counter"' in stock and 'class="action-counter"' in response.content.decode()


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 50})
def test_an_estimated_total_is_never_shown_as_an_exact_number(admin_client, items):
    from django.db import connection

    with connection.cursor() as cursor:  # statistics of these rows, not of an earlier test's (an estimate
        cursor.execute("ANALYZE testapp_item")  # under the threshold would be counted, exactly)
    response = admin_client.get("/admin/testapp/item/", {"kind__exact": "a"})
    cl = response.context["cl"]
    assert cl.count.exact and not cl.full_count.exact  # ~30 of 87 rows, threshold 50
    assert str(cl.full_count).startswith("≈")
    assert f'<a href="?">{cl.full_count} total</a>' in search_form_html(response)
