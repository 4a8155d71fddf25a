"""Keyset pagination returns every row exactly once, in the same order as an OFFSET walk."""

import datetime
import re
import zoneinfo
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Lower, Upper
from django.test.utils import CaptureQueriesContext

from fastadmin.exceptions import BadParameter, InvalidCursor
from fastadmin.pagination import KeysetPaginator
from tests.helpers import rel_links, row_pks, walk
from tests.testapp.models import Category, Item

ORDERINGS = [
    ["rank"],
    ["-rank"],
    ["label"],
    ["-label"],
    ["kind", "-rank"],
    ["-created", "label"],
    ["category__name", "rank"],  # a related column: read back through an annotation
    ["pk"],
    ["-pk"],
]


def offset_walk(queryset, per_page):
    """The reference: LIMIT/OFFSET over the very same ORDER BY."""
    out, offset = [], 0
    while True:
        chunk = list(queryset[offset : offset + per_page].values_list("pk", flat=True))
        out += chunk
        if len(chunk) < per_page:
            return out
        offset += per_page


def keyset_walk(paginator, forward=True):
    out, cursor = [], None
    if not forward:
        cursor = paginator.page().last_cursor
    for _ in range(10_000):
        page = paginator.page(cursor=cursor)
        pks = [row.pk for row in page.rows]
        out += pks if forward else list(reversed(pks))
        cursor = page.next_cursor if forward else page.prev_cursor
        if cursor is None:
            return out
    raise AssertionError("no end")


@pytest.mark.parametrize("ordering", ORDERINGS, ids=lambda o: ",".join(o))
@pytest.mark.parametrize("per_page", [1, 7, 100])
def test_walk_equals_offset_walk(items, ordering, per_page):
    paginator = KeysetPaginator(Item.objects.order_by(*ordering), per_page)
    expected = offset_walk(paginator.queryset, per_page)
    assert sorted(expected) == sorted(i.pk for i in items)  # the reference itself is complete
    forward = keyset_walk(paginator, forward=True)
    assert forward == expected
    backward = keyset_walk(paginator, forward=False)
    assert list(reversed(backward)) == expected


def test_nulls_sort_last_ascending_and_first_descending(items):
    asc = keyset_walk(KeysetPaginator(Item.objects.order_by("rank"), 10))
    ranks = dict(Item.objects.values_list("pk", "rank"))
    values = [ranks[pk] for pk in asc]
    first_null = values.index(None)
    assert all(v is None for v in values[first_null:])
    assert values[:first_null] == sorted(values[:first_null])
    desc = keyset_walk(KeysetPaginator(Item.objects.order_by("-rank"), 10))
    assert [ranks[pk] for pk in desc] == list(reversed(values)) or ranks[desc[0]] is None


def test_page_sql_has_limit_and_no_offset_or_count(items):
    paginator = KeysetPaginator(Item.objects.order_by("rank"), 10)
    first = paginator.page()
    with CaptureQueriesContext(connection) as captured:
        paginator.page(cursor=first.next_cursor)
    sql = " ".join(q["sql"] for q in captured.captured_queries).upper()
    assert "LIMIT 11" in sql
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql
    assert '"RANK" >=' in sql  # bounded on the leading column, so the (rank, id) index serves it


def test_tampered_cursor_is_rejected(items):
    paginator = KeysetPaginator(Item.objects.order_by("rank"), 10)
    cursor = paginator.page().next_cursor
    with pytest.raises(InvalidCursor, match="altered"):
        paginator.page(cursor=cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB"))
    with pytest.raises(InvalidCursor, match="another sort order"):
        KeysetPaginator(Item.objects.order_by("-rank"), 10).page(cursor=cursor)


def test_seek_starts_at_first_row_at_or_after_value(items):
    paginator = KeysetPaginator(Item.objects.order_by("rank"), 5)
    page = paginator.page(seek="3")
    assert page.rows[0].rank == 3
    assert Item.objects.filter(rank__lt=3).exists() and page.prev_cursor
    before = paginator.page(cursor=page.prev_cursor)
    assert all(r.rank is not None and r.rank <= 3 for r in before.rows)
    desc = KeysetPaginator(Item.objects.order_by("-rank"), 5).page(seek="3")
    assert desc.rows[0].rank == 3


# ---------------------------------------------------------------- through the admin, over HTTP-like requests
@pytest.mark.parametrize("query", ["", "?o=3", "?o=-3", "?o=4.-3", "?o=-5", "?kind__exact=a&o=3"])
def test_admin_walk_matches_stock_admin(admin_client, items, query):
    ours = walk(admin_client, "/admin/testapp/item/" + query)
    assert len(ours) == len(set(ours))
    # Stock admin with the same options, paged with ?p= (OFFSET).
    stock, page = [], 1
    while True:
        sep = "&" if query else "?"
        response = admin_client.get(f"/stock/testapp/item/{query}{sep}p={page}")
        if response.status_code != 200 or not row_pks(response):
            break
        stock += row_pks(response)
        page += 1
    assert set(ours) == set(stock)
    # Same order of sort values (ties may be broken differently: fastadmin's pk follows the column).
    column = {"": "rank", "?o=3": "rank", "?o=-3": "rank", "?o=4.-3": "label", "?o=-5": "created",
              "?kind__exact=a&o=3": "rank"}[query]
    values = dict(Item.objects.values_list("pk", column))
    assert [values[pk] for pk in ours] == [values[pk] for pk in stock]


def test_admin_walk_backwards_from_last(admin_client, items):
    forward = walk(admin_client, "/admin/testapp/item/?o=-3")
    last = rel_links(admin_client.get("/admin/testapp/item/?o=-3"))["last"]
    backward = walk(admin_client, "/admin/testapp/item/" + last, direction="prev")
    assert list(reversed(backward)) == forward


@pytest.mark.parametrize("cursor", ["garbage", "", "x" * 5000, "%00", "eyJ9"])
def test_bad_cursor_gives_400_page(admin_client, items, cursor):
    response = admin_client.get("/admin/testapp/item/", {"cursor": cursor})
    if cursor == "":
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert b"fastadmin-bad-request" in response.content
    assert b"first page" in response.content


def test_cursor_from_another_sort_is_stale_400(admin_client, items):
    next_url = rel_links(admin_client.get("/admin/testapp/item/?o=3"))["next"]
    cursor = parse_qs(next_url.lstrip("?"))["cursor"][0]
    response = admin_client.get("/admin/testapp/item/", {"o": "-3", "cursor": cursor})
    assert response.status_code == 400
    assert b"stale" in response.content


def test_seek_bad_value_is_400(admin_client, items):
    response = admin_client.get("/admin/testapp/item/", {"seek": "not-a-number"})
    assert response.status_code == 400
    assert b"not a valid value" in response.content


def test_seek_in_admin(admin_client, items):
    response = admin_client.get("/admin/testapp/item/", {"seek": "4"})
    assert response.status_code == 200
    ranks = dict(Item.objects.values_list("pk", "rank"))
    assert ranks[row_pks(response)[0]] == 4
    assert "prev" in rel_links(response) and "first" in rel_links(response)


def test_seek_on_datetime_uses_current_time_zone(items, recwarn):
    page = KeysetPaginator(Item.objects.order_by("-created"), 5).page(seek="2025-01-01")
    # newest first, a whole day typed: the page starts at that day's last row (before 2 January)
    assert page.rows and all(r.created is None or r.created.date() <= datetime.date(2025, 1, 1) for r in page.rows)
    assert not [w for w in recwarn if "naive datetime" in str(w.message)]


@pytest.mark.parametrize("descending", [True, False])
def test_jumping_to_a_day_lands_on_that_day_in_the_users_time_zone(db, descending):
    from django.utils import timezone

    zone = zoneinfo.ZoneInfo("America/New_York")
    local = [datetime.datetime(2025, 5, 31, 23, 58), datetime.datetime(2025, 6, 1, 0, 30),
             datetime.datetime(2025, 6, 1, 22, 0), datetime.datetime(2025, 6, 2, 0, 5)]
    Item.objects.bulk_create(Item(name=str(t), kind="a", created=t.replace(tzinfo=zone)) for t in local)
    with timezone.override(zone):
        ordering = "-created" if descending else "created"
        rows = KeysetPaginator(Item.objects.order_by(ordering, "pk"), 2).page(seek="2025-06-01").rows
    first = timezone.localtime(rows[0].created, zone).replace(tzinfo=None)
    # newest first: the day's last row (not 31 May 23:58); oldest first: the day's first row
    assert first == (local[2] if descending else local[1])


def test_every_keyset_page_says_where_it_is(admin_client, items):
    html = admin_client.get("/admin/testapp/item/", {"o": "3"}).content.decode()  # sorted by rank
    assert re.search(r'class="fa-position" role="status">This page: rank \S+ → \S+<', html), html[-3000:]


# ---------------------------------------------------------------- the ordering a cursor is bound to
def cursor_for(queryset, per_page=5):
    return KeysetPaginator(queryset, per_page).page().next_cursor


@pytest.mark.parametrize("made_for,used_for", [
    (Item.objects.order_by("category__name"), Item.objects.order_by(Lower("name"))),
    (Item.objects.order_by(Lower("name")), Item.objects.order_by(Upper("name"))),
    (Item.objects.order_by(Lower("name")), Item.objects.order_by(Lower("label"))),
    (Item.objects.order_by(Coalesce("rank", Value(0))), Item.objects.order_by(Coalesce("rank", Value(9)))),
    (Item.objects.order_by(Lower("name").asc()), Item.objects.order_by(Lower("name").desc())),
    (Item.objects.order_by("category__name"), Item.objects.order_by("category__id")),
], ids=["related-vs-function", "lower-vs-upper", "other-column", "other-constant", "direction", "other-path"])
def test_cursor_is_bound_to_the_sort_expressions_not_their_position(items, made_for, used_for):
    cursor = cursor_for(made_for)
    with pytest.raises(InvalidCursor, match="another sort order"):
        KeysetPaginator(used_for, 5).page(cursor=cursor)
    assert KeysetPaginator(made_for.all(), 5).page(cursor=cursor).rows  # the same ordering still works


@pytest.fixture
def categories_named_against_their_ids(items):
    """Category names sorted the other way round from their ids, so ordering by the name (stock, via
    Category.Meta.ordering) and ordering by category_id give different orders."""
    for category in Category.objects.order_by("pk"):
        Category.objects.filter(pk=category.pk).update(name=f"cat {10**9 - category.pk:010d}")
    return items


@pytest.mark.parametrize("ordering", [["category"], ["-category"], ["category", "-rank"], ["-category", "label"]],
                         ids=lambda o: ",".join(o))
@pytest.mark.parametrize("per_page", [1, 7, 100])
def test_fk_sort_follows_the_related_models_ordering(categories_named_against_their_ids, ordering, per_page):
    paginator = KeysetPaginator(Item.objects.order_by(*ordering), per_page)
    # Django's own ORDER BY for the same ordering, with the pk tie-breaker in the last key's direction.
    pk = "-pk" if ordering[-1].startswith("-") else "pk"
    expected = offset_walk(Item.objects.order_by(*ordering, pk), per_page)
    assert len(expected) == Item.objects.count()
    names = dict(Item.objects.values_list("pk", "category__name"))
    assert [names[p] for p in expected] != [names[p] for p in offset_walk(
        Item.objects.order_by(*[o.replace("category", "category_id") for o in ordering], pk), per_page)]
    assert keyset_walk(paginator, forward=True) == expected
    assert list(reversed(keyset_walk(paginator, forward=False))) == expected


@pytest.mark.parametrize("query", ["?o=6", "?o=-6", "?o=6.3"])
def test_admin_fk_column_sorts_like_stock_admin(admin_client, categories_named_against_their_ids, query):
    ours = walk(admin_client, "/admin/testapp/item/" + query)
    assert len(ours) == len(set(ours)) == Item.objects.count()
    stock, page = [], 1
    while True:
        response = admin_client.get(f"/stock/testapp/item/{query}&p={page}")
        if response.status_code != 200 or not row_pks(response):
            break
        stock += row_pks(response)
        page += 1
    names = dict(Item.objects.values_list("pk", "category__name"))
    assert [names[pk] for pk in ours] == [names[pk] for pk in stock]


@pytest.mark.parametrize("seek", ["1e999999", "-1e200000"])
def test_seek_value_out_of_the_columns_range_is_bad_input_not_a_database_error(items, seek):
    """PostgreSQL refuses these (numeric overflow): the seek box must say so, not raise DataError (500)."""
    with pytest.raises(BadParameter, match="not a valid value"):
        KeysetPaginator(Item.objects.order_by("price"), 5).page(seek=seek)


def test_cursor_signature_is_the_same_in_every_process():
    """The rendering signed into cursors has no memory addresses or hash-seeded orders in it, so a
    cursor made by one web worker is accepted by another."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.settings'); django.setup();"
        "from django.db.models import ExpressionWrapper, F, Value;"
        "from django.db.models.functions import Coalesce, Lower;"
        "from fastadmin.sort_keys import render;"
        "from tests.testapp.models import Item;"
        "created = Item._meta.get_field('created');"
        "print(render(Coalesce(ExpressionWrapper(F('created'), output_field=created), Value({'a', 'b', 'c'}))),"
        " render(Lower('name').desc()))"
    )
    root = Path(__file__).resolve().parents[1]
    path = os.pathsep.join([str(root / "example_project"), str(root)])
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": path}).stdout
               for seed in (1, 2)}
    assert len(outputs) == 1
    assert "0x" not in outputs.pop()


NULLS_ORDERINGS = {
    "rank desc nulls last": [F("rank").desc(nulls_last=True)],
    "rank asc nulls first": [F("rank").asc(nulls_first=True)],
    "label desc nulls last, rank": [F("label").desc(nulls_last=True), "rank"],
    "upper(label) asc nulls first": [Upper("label").asc(nulls_first=True)],
    "created desc nulls last, rank asc nulls first": [F("created").desc(nulls_last=True),
                                                      F("rank").asc(nulls_first=True)],
    "rank desc nulls first (the default, spelled out)": [F("rank").desc(nulls_first=True)],
}


@pytest.mark.parametrize("name", NULLS_ORDERINGS)
@pytest.mark.parametrize("per_page", [1, 7, 100])
def test_explicit_nulls_placement_is_the_order_stock_shows(items, name, per_page):
    """``F("x").desc(nulls_last=True)`` (an admin ``ordering`` Django's own tests use) puts NULLs where
    it says, on every page, forwards and backwards; the cursor is bound to that placement too."""
    ordering = NULLS_ORDERINGS[name]
    last = ordering[-1]
    descending = last.startswith("-") if isinstance(last, str) else last.descending
    expected = offset_walk(Item.objects.order_by(*ordering, "-pk" if descending else "pk"), per_page)
    paginator = KeysetPaginator(Item.objects.order_by(*ordering), per_page)
    assert keyset_walk(paginator, forward=True) == expected
    assert list(reversed(keyset_walk(paginator, forward=False))) == expected


def test_cursor_is_bound_to_the_nulls_placement(items):
    cursor = cursor_for(Item.objects.order_by(F("rank").desc(nulls_last=True)))
    with pytest.raises(InvalidCursor, match="another sort order"):
        KeysetPaginator(Item.objects.order_by(F("rank").desc()), 5).page(cursor=cursor)


def test_seek_with_nulls_first_leaves_the_nulls_before(items):
    page = KeysetPaginator(Item.objects.order_by(F("rank").asc(nulls_first=True)), 200).page(seek="3")
    assert page.rows and all(r.rank is not None and r.rank >= 3 for r in page.rows)
    assert page.prev_cursor  # the NULL block and ranks 1-2 come before


def test_rendering_follows_prefixed_references():
    """A related model's ``Meta.ordering = [Lower("name")]`` reaches the paginator as a copy whose
    references were prefixed (``category__name``); it must not render as this model's own name."""
    from fastadmin.sort_keys import render

    own = Lower("name")
    related = own.prefix_references("category__")
    assert render(related) != render(own)
    assert "category__name" in render(related)
    assert render(Coalesce("rank", Value(0))) != render(Coalesce("rank", Value(1)))
