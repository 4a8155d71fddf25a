"""Shared pieces of the browser tests: Debian's Chromium driven by Playwright's sync API.

Never Playwright's own browser download: ``executable_path`` points at the system Chromium
(``apt-get install chromium``; .ci/run installs it). Tests run against pytest-django's live server.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# Desktop and phone widths of the committed screenshots (README "Screenshots").
SIZES = {"desktop": (1280, 800), "mobile": (390, 844)}


def launch(playwright):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the whole module: launching costs about a second, a new context almost nothing."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


def submit(tab, selector: str):
    """Clicks something that navigates and returns the navigation's response (status 409 included)."""
    with tab.expect_navigation() as navigation:
        tab.click(selector)
    return navigation.value


def log_in(tab, username: str, next_url: str = "/admin/") -> None:
    """Through the login form, as staff do (password "pw")."""
    tab.goto(f"/admin/login/?next={next_url}")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", "pw")
    submit(tab, "input[type=submit]")
    assert "/admin/login/" not in tab.url, tab.inner_text("#content")


def rows(tab) -> list[str]:
    """The first column of each changelist row, in order."""
    return tab.locator("#result_list tbody th").all_inner_texts()


def screenshot(tab, name: str) -> None:
    """With FASTADMIN_SCREENSHOTS=1, saves docs/screenshots/<name>-desktop.png and -mobile.png."""
    if not os.environ.get("FASTADMIN_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = tab.viewport_size
    for label, (width, height) in SIZES.items():
        tab.set_viewport_size({"width": width, "height": height})
        tab.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"))
    tab.set_viewport_size(before)
