"""The site-wide ``delete_selected`` action: exactly the selection, the whole cascade tree's permissions,
PROTECT/RESTRICT, all-or-nothing, every admin the site serves, and the page token at "Yes"."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models.signals import post_delete, pre_delete
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from example_project.stress import form_fields

import fastadmin
from fastadmin import actions, deletion
from tests.helpers import row_pks
from tests.locking_helpers import make, open_form, post
from tests.testapp.models import Book, Category, Chapter, Gadget, Loan, Shelf, ShelfLabel, Sticker

pytestmark = pytest.mark.django_db

LARGE = override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 1, "DELETE_PREVIEW_LIMIT": 5})
SHELVES = "/admin/testapp/shelf/"


def select(fields, pks, action="delete_selected", **extra):
    """The changelist form as posted with ``pks`` checked and ``action`` chosen."""
    kept = [(n, v) for n, v in fields if n not in ("action", *extra)]
    return [*kept, *(("_selected_action", str(pk)) for pk in pks), ("action", action), ("index", "0"),
            *extra.items()]


def confirm(client: Client, path: str, page) -> object:
    """Press "Yes, I'm sure" on the confirmation ``page``: post its form back to ``path``."""
    assert page.status_code == 200, page.content[:500]
    return post(client, path, form_fields(page.content.decode()))


def shelves(n: int, kinds: str = "ab", books: bool = False) -> list[Shelf]:
    made = Shelf.objects.bulk_create(Shelf(name=f"shelf {i:04d}", kind=kinds[i % len(kinds)]) for i in range(n))
    if books:
        Book.objects.bulk_create(Book(shelf=s, title=f"book of {s.name}") for s in made)
    return made


# ------------------------------------------------------------------ 1. exactly the selection
@LARGE
def test_explicit_selection_on_the_large_path_deletes_exactly_it(alice):
    shelves(40)
    url = SHELVES + "?kind__exact=a"
    fields = open_form(alice, url, "changelist-form")
    chosen = row_pks(alice.get(url))[:6]
    assert len(chosen) == 6
    page = post(alice, url, select(fields, chosen))
    assert b"fastadmin-delete-preview" in page.content  # the large (bounded) confirmation
    assert b'name="select_across"' not in page.content
    response = confirm(alice, url, page)
    assert response.status_code == 302
    assert not Shelf.objects.filter(pk__in=chosen).exists()
    assert Shelf.objects.count() == 40 - 6
    assert Shelf.objects.filter(kind="a").count() == 20 - 6


@LARGE
def test_select_across_is_reposted_only_when_chosen(alice):
    shelves(40)
    url = SHELVES + "?kind__exact=a"
    fields = open_form(alice, url, "changelist-form")
    one = Shelf.objects.filter(kind="a").first().pk
    page = post(alice, url, select(fields, [one], select_across="1"))
    repost = dict(form_fields(page.content.decode()))
    assert repost["select_across"] == "1" and "_fa_page_token" not in repost
    assert confirm(alice, url, page).status_code == 302
    assert not Shelf.objects.filter(kind="a").exists()  # the whole filtered list: the user chose it
    assert Shelf.objects.filter(kind="b").count() == 20


# ------------------------------------------------------------------ 2. permissions over the whole tree
def test_cascade_models_walk_the_tree_not_just_direct_relations():
    found = deletion.cascade_models(Shelf)
    assert found[0] is Shelf
    assert set(found) == {Shelf, Book, Chapter, Book.tags.through}  # m2m rows go with a book
    assert not {Loan, ShelfLabel, Sticker} & set(found)  # PROTECT, RESTRICT, DO_NOTHING: not deleted


@pytest.fixture
def clerk() -> Client:
    """Staff who may delete shelves and books, but not chapters (two cascades away)."""
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    codenames = ["view_shelf", "delete_shelf", "delete_book", "view_book", "view_chapter"]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="testapp", codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@LARGE
def test_a_model_two_cascades_away_needs_its_delete_permission(clerk):
    made = shelves(3, books=True)
    Chapter.objects.create(book=Book.objects.get(shelf=made[0]), title="one")
    fields = open_form(clerk, SHELVES, "changelist-form")
    page = post(clerk, SHELVES, select(fields, [s.pk for s in made]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cannot delete" in html and "<li>chapter</li>" in html and "Yes, I’m sure" not in html
    response = post(clerk, SHELVES, [*select(fields, [s.pk for s in made]), ("post", "yes")])
    assert response.status_code == 403
    assert Shelf.objects.count() == 3 and Chapter.objects.count() == 1


# ------------------------------------------------------------------ 3. PROTECT and RESTRICT
@LARGE
@pytest.mark.parametrize("stopper", ["loan", "label"])
def test_protected_rows_refuse_the_delete_with_a_bounded_sample(alice, stopper):
    made = shelves(6, books=True)
    if stopper == "loan":  # PROTECT, one cascade away (shelf -> book <- loan)
        loan = Loan.objects.create(book=Book.objects.get(shelf=made[4]), borrower="bob")
        shown = f'Loan: <a href="/admin/testapp/loan/{loan.pk}/change/">loan to bob</a>'
    else:  # RESTRICT, from a model the delete does not reach
        ShelfLabel.objects.create(shelf=made[4], text="keep me")
        shown = "keep me"
    fields = open_form(alice, SHELVES, "changelist-form")
    with CaptureQueriesContext(connection) as captured:
        page = post(alice, SHELVES, select(fields, [s.pk for s in made]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cannot delete" in html and "protected related objects" in html and shown in html
    assert "Yes, I’m sure" not in html
    checks = [q["sql"] for q in captured.captured_queries if '"testapp_loan"' in q["sql"] or "shelflabel" in q["sql"]]
    assert checks and all("LIMIT" in sql for sql in checks)
    response = post(alice, SHELVES, [*select(fields, [s.pk for s in made]), ("post", "yes")])
    assert response.status_code == 409 and shown in response.content.decode()
    assert Shelf.objects.count() == 6 and Book.objects.count() == 6


# ------------------------------------------------------------------ 4. all or nothing
@LARGE
def test_a_failure_in_a_later_chunk_leaves_every_row(alice):
    made = shelves(1_005)
    doomed = made[1_002].pk  # in the second chunk of 1,000

    def fail(sender, instance, **kwargs):
        if instance.pk == doomed:
            raise RuntimeError("refused by a receiver")

    post_delete.connect(fail, sender=Shelf)
    try:
        fields = open_form(alice, SHELVES, "changelist-form")
        data = [*select(fields, [made[0].pk], select_across="1"), ("post", "yes")]
        with pytest.raises(RuntimeError):
            post(alice, SHELVES, data)
    finally:
        post_delete.disconnect(fail, sender=Shelf)
    assert Shelf.objects.count() == 1_005
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


@LARGE
def test_a_row_protected_during_the_delete_rolls_back_every_chunk(alice, monkeypatch):
    monkeypatch.setattr(deletion, "CHUNK_SIZE", 2)
    made = shelves(6, books=True)
    last_book = Book.objects.get(shelf=made[-1])

    def lend(sender, instance, **kwargs):  # a loan appears after the pre-check, before the last chunk
        if not Loan.objects.exists():
            Loan.objects.create(book=last_book, borrower="late")

    pre_delete.connect(lend, sender=Shelf)
    try:
        fields = open_form(alice, SHELVES, "changelist-form")
        response = post(alice, SHELVES, [*select(fields, [s.pk for s in made]), ("post", "yes")])
    finally:
        pre_delete.disconnect(lend, sender=Shelf)
    assert response.status_code == 409
    assert "loan to late" in response.content.decode()
    assert Shelf.objects.count() == 6 and Book.objects.count() == 6


@LARGE
def test_a_deferred_foreign_key_violation_deletes_nothing(alice):
    made = shelves(4)
    Sticker.objects.create(shelf=made[2])  # DO_NOTHING: only the database's foreign key objects
    fields = open_form(alice, SHELVES, "changelist-form")
    response = post(alice, SHELVES, [*select(fields, [s.pk for s in made]), ("post", "yes")])
    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Nothing was deleted" in m for m in messages), messages
    assert Shelf.objects.count() == 4


@LARGE
def test_chunks_go_through_the_admins_hooks(alice, monkeypatch):
    monkeypatch.setattr(deletion, "CHUNK_SIZE", 2)
    made = shelves(5)
    admin = fastadmin.site.get_model_admin(Shelf)
    calls: list[list[int]] = []

    def delete_queryset(request, queryset):
        calls.append(sorted(queryset.values_list("pk", flat=True)))
        queryset.delete()

    monkeypatch.setattr(admin, "delete_queryset", delete_queryset)
    fields = open_form(alice, SHELVES, "changelist-form")
    response = post(alice, SHELVES, [*select(fields, [s.pk for s in made]), ("post", "yes")])
    assert response.status_code == 302
    assert [len(c) for c in calls] == [2, 2, 1]
    assert sorted(pk for c in calls for pk in c) == sorted(s.pk for s in made)
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 5
    assert not Shelf.objects.exists()


# ------------------------------------------------------------------ 5. every admin the site serves
@pytest.mark.parametrize("threshold", [10_000, 1])
def test_deleting_users_through_fastadmin_site(admin_client, threshold):
    users = [get_user_model().objects.create_user(f"user{i}", password="pw") for i in range(3)]
    url = "/admin/auth/user/"
    with override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": threshold}):
        data = {"action": "delete_selected", "_selected_action": [u.pk for u in users[:2]], "index": 0}
        page = admin_client.post(url, data)
        assert page.status_code == 200 and b"Yes, I\xe2\x80\x99m sure" in page.content
        response = confirm(admin_client, url, page)
    assert response.status_code == 302
    assert list(get_user_model().objects.filter(username__startswith="user").values_list("username", flat=True)) == [
        "user2"
    ]


def test_an_admin_without_get_counter_counts_with_the_setting(rf):
    from django.contrib import admin

    stock = admin.ModelAdmin(Category, fastadmin.site)
    assert type(actions.get_counter(stock, rf.get("/"))).__name__ == "EstimatedCounter"


# ------------------------------------------------------------------ 6. the page token at "Yes"
@pytest.mark.parametrize("threshold", [10_000, 1])
def test_confirmation_reposts_the_page_token_and_the_guard_uses_it(alice, threshold):
    rows = [make(Gadget, name=f"row {i}") for i in range(3)]
    url = "/admin/testapp/gadget/"
    fields = open_form(alice, url, "changelist-form")
    token = dict(fields)["_fa_page_token"]
    with override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": threshold}):
        page = post(alice, url, select(fields, [rows[0].pk, rows[1].pk]))
        assert dict(form_fields(page.content.decode()))["_fa_page_token"] == token
        Gadget.objects.filter(pk=rows[1].pk).update(city="Bergen")  # changed between confirmation and "Yes"
        response = confirm(alice, url, page)
    assert response.status_code == 302
    assert "Nothing was done" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert Gadget.objects.count() == 3


def test_small_select_across_confirmation_posts_keys_without_the_token(alice):
    rows = [make(Gadget, name=f"row {i}") for i in range(3)]
    url = "/admin/testapp/gadget/"
    fields = open_form(alice, url, "changelist-form")
    page = post(alice, url, select(fields, [rows[0].pk], select_across="1"))
    repost = form_fields(page.content.decode())
    assert "_fa_page_token" not in dict(repost)
    assert sorted(int(v) for n, v in repost if n == "_selected_action") == sorted(r.pk for r in rows)
    assert confirm(alice, url, page).status_code == 302
    assert not Gadget.objects.exists()


def test_page_token_name_matches_the_locking_module():
    from fastadmin.locking import tokens

    assert actions.PAGE_TOKEN == tokens.PAGE_TOKEN


@pytest.mark.parametrize("threshold", [10_000, 1])
@pytest.mark.django_db(databases=["default", "replica"])
def test_the_delete_runs_on_the_write_database_when_the_list_reads_a_replica(admin_client, settings, threshold):
    from django.db import connections

    settings.FASTADMIN = {"EXACT_COUNT_THRESHOLD": threshold, "READ_DATABASE": "replica"}
    made = shelves(6)
    data = {"action": "delete_selected", "_selected_action": [made[0].pk], "select_across": "1", "index": 0,
            "post": "yes"}
    with CaptureQueriesContext(connections["replica"]) as replica:
        response = admin_client.post(SHELVES + "?kind__exact=a", data)
    connections["replica"].close()  # a mirror's own connection would keep the test database busy
    assert response.status_code == 302
    assert not [q for q in replica.captured_queries if q["sql"].startswith("DELETE")]
    assert list(Shelf.objects.values_list("kind", flat=True).distinct()) == ["b"]


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 1, "STATEMENT_TIMEOUT_MS": 50})
def test_a_protection_check_past_the_timeout_falls_back_to_the_collector(alice, monkeypatch):
    made = shelves(3, books=True)

    def slow(queryset, limit):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1)")
        return []

    monkeypatch.setattr(actions, "protected_sample", slow)
    fields = open_form(alice, SHELVES, "changelist-form")
    page = post(alice, SHELVES, select(fields, [s.pk for s in made]))
    assert page.status_code == 200 and b"fastadmin-delete-preview" in page.content
    Loan.objects.create(book=Book.objects.get(shelf=made[1]), borrower="carol")
    response = confirm(alice, SHELVES, page)
    assert response.status_code == 409 and "loan to carol" in response.content.decode()
    assert Shelf.objects.count() == 3


def test_repost_in_form_adds_fields_to_the_form_only():
    from django.template import Context, Template

    tpl = Template("{% load fastadmin_delete %}{% repost_in_form fields %}{{ page|safe }}{% endrepost_in_form %}")
    fields = [("_fa_page_token", 'a"b')]
    with_form = tpl.render(Context({"page": "<p>x</p><form><input name=post></form>", "fields": fields}))
    hidden = '<input type="hidden" name="_fa_page_token" value="a&quot;b">\n'
    assert with_form == f"<p>x</p><form><input name=post>{hidden}</form>"
    refusal = "<p>Cannot delete</p><ul><li>chapter</li></ul>"
    assert tpl.render(Context({"page": refusal, "fields": fields})) == refusal
