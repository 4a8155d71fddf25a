"""The changelist in a real Chromium: paging links, the jump box, the estimate, and an action.

Uses Debian's Chromium (``apt-get install chromium``; .ci/run installs it), driven by Playwright,
against pytest-django's live server: a real HTTP server on 127.0.0.1.
"""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def page(live_server, transactional_db):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        page = browser.new_page()
        yield page
        # ORM calls made while Playwright's loop runs use their own connection: close it here, or the
        # test database cannot be dropped at the end of the session.
        from django.db import connections

        connections.close_all()
        browser.close()


def login(page, live_server):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/testapp/item/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/testapp/item/")


def follow(page, selector):
    with page.expect_navigation():
        page.click(selector)


def test_paging_jump_and_action_in_browser(page, live_server):
    from tests.conftest import make_items
    from tests.testapp.models import Item

    make_items(45)
    login(page, live_server)
    first_rows = page.locator("#result_list tbody tr").count()
    assert first_rows == 10
    first_names = page.locator("#result_list tbody th").all_inner_texts()

    follow(page, "a[rel=next]")
    second_names = page.locator("#result_list tbody th").all_inner_texts()
    assert second_names and not set(first_names) & set(second_names)

    follow(page, "a[rel=prev]")
    assert page.locator("#result_list tbody th").all_inner_texts() == first_names

    follow(page, "a[rel=last]")
    assert page.locator("a[rel=next]").count() == 0
    assert page.locator("a[rel=prev]").count() == 1

    # The jump box (leading sort column: rank) starts the page at the first rank >= 4.
    page.fill("#fa-seek-input", "4")
    follow(page, "input[form=fa-seek-form][type=submit]")
    assert "seek=4" in page.url
    first = Item.objects.get(name=page.locator("#result_list tbody th").first.inner_text())
    assert first.rank == 4

    # The count line says how many rows there are.
    assert "45 items" in page.locator(".fastadmin-paginator").inner_text()

    # Select two rows and run the custom action.
    page.goto(f"{live_server.url}/admin/testapp/item/")
    boxes = page.locator("input.action-select")
    boxes.nth(0).check()
    boxes.nth(1).check()
    names = page.locator("#result_list tbody th").all_inner_texts()[:2]
    page.select_option("select[name=action]", "make_inactive")
    follow(page, "button[name=index]")
    assert not Item.objects.filter(name__in=names, active=True).exists()
    page.screenshot(path=os.environ.get("FASTADMIN_SCREENSHOT", "/tmp/fastadmin-changelist.png"), full_page=True)
