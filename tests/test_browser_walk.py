"""The example project's customer admin walked by staff in a real Chromium (issue 11, item 5).

Log in through the form, page through 250 customers (first / prev / next / last and the jump box),
search plain and namespaced, filter, open and save a record, and collide with a second browser
context on the same record, resolving the conflict page both ways. Selectors rely on what stock admin
and fastadmin keep stable (field names, ids, rel=, data-field), not on wording.

One Chromium per module, a fresh context (cookies) per user. With ``FASTADMIN_SCREENSHOTS=1`` the
changelist and conflict page are also saved under docs/screenshots/ (see the README).
"""

from __future__ import annotations

import pytest

from tests.browser_helpers import (
    CHROMIUM,
    chromium,  # noqa: F401 - the module's shared browser
    log_in,
    rows,
    screenshot,
    submit,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]
CUSTOMERS = 250  # list_per_page is 100: three pages
LIST = "/admin/shop/customer/"


@pytest.fixture
def customers(transactional_db):
    from shop.models import Customer

    Customer.objects.bulk_create(
        Customer(name=f"Ann {i:03d}", email=f"user{i:03d}@example.com", country="NL" if i % 5 == 0 else "US")
        for i in range(CUSTOMERS)
    )
    return Customer


@pytest.fixture
def staff(transactional_db):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return [User.objects.create_superuser(n, f"{n}@example.com", "pw") for n in ("alice", "bob")]


@pytest.fixture
def new_tab(chromium, live_server):  # noqa: F811
    """Opens a tab in a context of its own (its own session cookie); all are closed after the test."""
    contexts = []

    def open_tab():
        contexts.append(chromium.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url))
        return contexts[-1].new_page()

    yield open_tab
    for context in contexts:
        context.close()
    from django.db import connections

    connections.close_all()  # ORM calls made under Playwright's loop use their own connection


def test_log_in_through_the_form(new_tab, staff, customers):
    tab = new_tab()
    tab.goto(LIST)
    assert "/admin/login/" in tab.url  # anonymous: sent to the login form
    assert rows(tab) == []
    log_in(tab, "alice", next_url=LIST)
    assert tab.url.endswith(LIST)
    assert len(rows(tab)) == 100


def test_bad_password_stays_on_the_login_form(new_tab, staff):
    tab = new_tab()
    tab.goto(f"/admin/login/?next={LIST}")
    tab.fill("input[name=username]", "alice")
    tab.fill("input[name=password]", "wrong")
    submit(tab, "input[type=submit]")
    assert "/admin/login/" in tab.url and tab.locator(".errornote").count() == 1


def test_page_through_with_next_prev_last_and_jump(new_tab, staff, customers):
    tab = new_tab()
    log_in(tab, "alice", next_url=LIST)
    first = rows(tab)
    assert first[0] == "Ann 000" and len(first) == 100 and first == sorted(first)
    screenshot(tab, "changelist")

    submit(tab, "a[rel=next]")
    second = rows(tab)
    assert second[0] == "Ann 100" and len(second) == 100

    submit(tab, "a[rel=next]")
    assert rows(tab)[-1] == "Ann 249"
    assert tab.locator("a[rel=next]").count() == 0

    submit(tab, "a[rel=prev]")
    assert rows(tab) == second
    submit(tab, "a[rel=prev]")
    assert rows(tab) == first
    assert tab.locator("a[rel=prev]").count() == 0

    submit(tab, "a[rel=last]")
    last = rows(tab)
    assert last[-1] == "Ann 249" and last == sorted(last)
    assert tab.locator("a[rel=next]").count() == 0 and tab.locator("a[rel=prev]").count() == 1

    # The jump box seeks on the leading sort column (name): the page starts at the first name >= it.
    tab.fill("input[name=seek]", "Ann 142")
    submit(tab, "input[form=fa-seek-form][type=submit]")
    assert rows(tab)[0] == "Ann 142"
    submit(tab, "a[rel=next]")
    assert rows(tab)[0] == "Ann 242"

    # The keyboard works too: Enter in the jump box submits it.
    tab.fill("input[name=seek]", "Ann 2")
    with tab.expect_navigation():
        tab.press("input[name=seek]", "Enter")
    assert rows(tab)[0] == "Ann 200"


def test_search_plain_and_namespaced(new_tab, staff, customers):
    tab = new_tab()
    log_in(tab, "alice", next_url=LIST)

    search(tab, "017")  # plain: every search field (name "Ann 017", email "user017@…")
    assert rows(tab) == ["Ann 017"]
    search(tab, "user01")
    assert rows(tab) == [f"Ann {i:03d}" for i in range(10, 20)]

    search(tab, "email:user017@")  # namespaced: only the email column
    assert rows(tab) == ["Ann 017"]
    search(tab, "name:user017")  # the name column never holds that
    assert rows(tab) == []
    assert tab.input_value("input[name=q]") == "name:user017"  # the box keeps what was typed


def test_filter_from_the_sidebar(new_tab, staff, customers):
    tab = new_tab()
    log_in(tab, "alice", next_url=LIST)
    submit(tab, "#changelist-filter a[href*='country__exact=NL']")
    assert "country__exact=NL" in tab.url
    assert rows(tab) == [f"Ann {i:03d}" for i in range(0, CUSTOMERS, 5)]

    search(tab, "Ann 01")  # search narrows the filtered list, the filter stays
    assert "country__exact=NL" in tab.url and rows(tab) == ["Ann 010", "Ann 015"]


def test_open_a_record_and_save_it(new_tab, staff, customers):
    tab = new_tab()
    log_in(tab, "alice", next_url=LIST)
    search(tab, "Ann 042")
    submit(tab, "#result_list tbody th a")
    assert "/change/" in tab.url
    assert tab.input_value("input[name=email]") == "user042@example.com"
    tab.fill("input[name=city]", "Utrecht")
    tab.select_option("select[name=country]", "NL")
    submit(tab, "input[name=_save]")
    assert tab.url.split("?")[0].endswith(LIST)
    assert tab.locator(".messagelist .success").count() == 1
    saved = customers.objects.get(name="Ann 042")
    assert (saved.city, saved.country) == ("Utrecht", "NL")


def open_change_form(tab, pk: int) -> None:
    tab.goto(f"{LIST}{pk}/change/")
    assert tab.locator("input[name=_save]").count() == 1


def collide(new_tab, customers):
    """Alice and Bob open the same customer; Bob saves city + name, then Alice saves city + phone."""
    obj = customers.objects.get(name="Ann 007")
    alice, bob = new_tab(), new_tab()
    log_in(alice, "alice")
    log_in(bob, "bob")
    open_change_form(alice, obj.pk)
    open_change_form(bob, obj.pk)
    bob.fill("input[name=city]", "Bergen")
    bob.fill("input[name=name]", "Ann 007 (Bob)")
    submit(bob, "input[name=_save]")
    alice.fill("input[name=city]", "Paris")
    alice.fill("input[name=phone]", "+33 1 23")
    response = submit(alice, "input[name=_save]")
    assert response.status == 409
    assert alice.locator("#fastadmin-conflict").count() == 1
    # Only the field both changed is a conflict; Bob's name is kept without asking.
    assert alice.locator("tr.fa-conflict").evaluate_all("rs => rs.map(r => r.dataset.field)") == ["city"]
    assert alice.inner_text("tr.fa-conflict .fa-theirs") == "Bergen"
    assert alice.inner_text("tr.fa-conflict .fa-mine") == "Paris"
    obj.refresh_from_db()
    assert (obj.city, obj.phone) == ("Bergen", "")  # nothing of Alice's written yet
    return obj, alice


def test_conflict_from_two_contexts_keep_mine(new_tab, staff, customers):
    obj, alice = collide(new_tab, customers)
    screenshot(alice, "conflict")
    submit(alice, "#fa-resolve button[value=mine]")
    assert alice.url.split("?")[0].endswith(LIST)
    obj.refresh_from_db()
    assert (obj.city, obj.phone, obj.name) == ("Paris", "+33 1 23", "Ann 007 (Bob)")


def test_conflict_from_two_contexts_merge_per_field(new_tab, staff, customers):
    obj, alice = collide(new_tab, customers)
    alice.check("tr.fa-conflict[data-field=city] input[value=theirs]")
    submit(alice, "#fa-resolve button[type=submit]:not([name])")  # save with the per-field choices
    assert alice.url.split("?")[0].endswith(LIST)
    obj.refresh_from_db()
    assert (obj.city, obj.phone, obj.name) == ("Bergen", "+33 1 23", "Ann 007 (Bob)")


def test_the_conflict_page_is_accessible(new_tab, staff, customers):
    from tests.test_a11y import AXE, check

    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci --prefix tests/a11y")
    _obj, alice = collide(new_tab, customers)
    check(alice, None)  # the 409 page as answered, at 1280 and 390 px


def search(tab, text: str) -> None:
    tab.fill("input[name=q]", text)
    with tab.expect_navigation():
        tab.press("input[name=q]", "Enter")


def test_count_exactly_says_it_is_counting_and_next_keeps_the_count(new_tab, staff, customers, settings):
    settings.FASTADMIN = {"EXACT_COUNT_THRESHOLD": 10}  # 250 customers: estimated, with "count exactly"
    tab = new_tab()
    log_in(tab, "alice", next_url=LIST)
    assert "≈" in tab.inner_text(".fa-count")
    href = tab.get_attribute("a.fa-count-exact", "href")
    # Keep this document (no navigation) to look at it after the click: a listener registered before
    # ours cancels the link's default action; ours still runs.
    tab.evaluate("document.addEventListener('click', e => e.preventDefault(), true)")
    tab.click("a.fa-count-exact")
    link = tab.locator("a.fa-count-exact")
    assert link.inner_text() == "counting…" and link.get_attribute("aria-busy") == "true"
    assert link.get_attribute("role") == "status"  # announced by screen readers
    tab.goto(LIST + href)  # the link is relative to the list ("?_count=exact")
    assert tab.inner_text(".fa-count").strip() == "250 customers"
    submit(tab, "a[rel=next]")
    assert tab.inner_text(".fa-count").strip() == "250 customers"  # Next keeps the exact count
    assert tab.locator("a.fa-count-exact").count() == 0
