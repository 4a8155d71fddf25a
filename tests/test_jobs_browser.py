"""The job page in a real Chromium, with a real Celery worker: start a background action on a
select-across, watch the page reach "done" without reloading, and cancel a second job from the page.

Needs Debian's Chromium (see test_browser.py) and Redis (see test_jobs_celery.py); skips say which.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from fastadmin.models import Job
from tests.browser_helpers import screenshot
from tests.locking_helpers import make
from tests.test_browser import CHROMIUM, page  # noqa: F401 - the Chromium page fixture
from tests.test_jobs_celery import worker  # noqa: F401 - the Celery worker fixture
from tests.testapp.models import Gadget

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]
ROWS = 150


def start_from_changelist(tab, live_server) -> None:
    """Tick the page, "Select all 150 gadgets", choose "Raise price", Go: lands on the job page."""
    tab.goto(f"{live_server.url}/admin/testapp/gadget/")
    tab.check("#action-toggle")
    tab.click(".actions .question a")
    tab.select_option("select[name=action]", "update_raise_price")
    with tab.expect_navigation():
        tab.click(".actions button[type=submit]")
    tab.wait_for_url("**/admin/fastadmin/job/*/change/")


def test_job_page_follows_the_job_to_done_and_cancels_another(page, live_server, worker):  # noqa: F811
    from django.contrib.auth import get_user_model

    for i in range(ROWS):
        make(Gadget, name=f"g{i:03d}", price="1.00")
    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    worker.start("10,0.3,30,15")  # 15 chunks 0.3 s apart: a few seconds to watch
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")

    start_from_changelist(page, live_server)
    page.evaluate("window.notReloaded = true")
    page.wait_for_function("document.getElementById('fastadmin-job-status').textContent === 'done'",
                           timeout=60_000)
    assert page.evaluate("window.notReloaded") is True  # updated in place by the polling script
    assert page.inner_text("#fastadmin-job-done") == str(ROWS)
    screenshot(page, "job")  # FASTADMIN_SCREENSHOTS=1: docs/screenshots/job-*.png
    assert page.locator("#fastadmin-job-cancel").count() == 0
    assert set(Gadget.objects.values_list("price", flat=True)) == {Decimal("2.00")}

    start_from_changelist(page, live_server)
    page.focus("#fastadmin-job-cancel input[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # usable from the keyboard
    assert page.inner_text("#fastadmin-job-status") == "cancelled"
    job = Job.objects.order_by("-pk").first()
    assert job.status == Job.CANCELLED and job.done < ROWS


