"""Accessibility of fastadmin's own pages, checked with axe-core in Debian's Chromium.

axe-core comes from the npm registry (``tests/a11y/package.json``; ``make test`` runs ``npm ci`` there
when npm exists). Every page is checked at 1280 and 390 px for WCAG 2 A/AA violations of serious or
critical impact. Rules left out, each for markup Django's own admin ships (stock admin fails them
the same way, and a drop-in keeps Django's markup so admin themes keep working):

* ``color-contrast`` on Django's own header, breadcrumbs and sidebar colours is not ours to change;
  our own elements are checked by the ``OUR_PARTS`` pass, which keeps the rule.
* the nodes in :data:`DJANGO_MARKUP`, each with its reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser_helpers import CHROMIUM, chromium, log_in  # noqa: F401 - the module's shared browser

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: npm ci --prefix tests/a11y"),
]
SIZES = [(1280, 800), (390, 844)]
SERIOUS = {"serious", "critical"}
#: (rule, CSS selector prefix of the node) -> why it is Django's markup, kept as stock renders it.
DJANGO_MARKUP = {
    ("label", "#id_form-"): "list_editable inputs have no <label> in stock's result rows (items_for_result); "
                            "fastadmin's row renderer is byte-equal to stock by design",
    ("link-in-text-block", ".breadcrumbs"): "Django's breadcrumbs tell links from text by colour only",
}
#: fastadmin's own markup on the pages (the pager, count, jump box, notices, problem, conflict and job parts).
OUR_PARTS = [".fastadmin-paginator", ".fa-filter-other", ".fastadmin-problem", "#fastadmin-conflict",
             "#changelist-search", ".fa-job", "#content-main"]


def violations(tab, include: list[str] | None = None, skip_contrast: bool = True) -> list[str]:
    tab.add_script_tag(path=str(AXE))
    context = json.dumps({"include": [[s] for s in include]} if include else None)
    rules = {"color-contrast": {"enabled": not skip_contrast}}
    found = tab.evaluate(
        f"""async () => (await axe.run({context} || document,
               {{runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"], rules: {json.dumps(rules)}}}))
               .violations.map(v => ({{id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" "))}}))"""
    )
    kept = []
    for v in found:
        nodes = [n for n in v["nodes"] if not any(v["id"] == rule and n.startswith(prefix)
                                                   for rule, prefix in DJANGO_MARKUP)]
        if v["impact"] in SERIOUS and nodes:
            kept.append(f"{v['id']} ({v['impact']}): {', '.join(nodes[:4])}")
    return kept


def check(tab, url: str | None) -> None:
    """``url`` (or the page already open: a POST's answer, such as the conflict page) at each width."""
    for width, height in SIZES:
        tab.set_viewport_size({"width": width, "height": height})
        if url is not None:
            tab.goto(url)
        whole = violations(tab)
        assert not whole, (url, width, whole)
        present = [s for s in OUR_PARTS if tab.locator(s).count()]
        ours = violations(tab, include=present, skip_contrast=False) if present else []
        assert not ours, (url, width, ours)
        # readable on a phone: our parts never make the page scroll sideways
        overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1 or width > 390, (url or tab.url, "scrolls sideways by", overflow)


@pytest.fixture
def tab(chromium, live_server, transactional_db, settings):  # noqa: F811
    from django.contrib.auth import get_user_model
    from django.db import connections
    from shop.models import Customer

    settings.FASTADMIN = {"EXACT_COUNT_THRESHOLD": 10, "FILTER_MAX_CHOICES": 3}  # estimates, cut lists
    get_user_model().objects.create_superuser("alice", "alice@example.com", "pw")
    Customer.objects.bulk_create(Customer(name=f"Ann {i:03d}", email=f"u{i:03d}@example.com") for i in range(250))
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    log_in(page, "alice")
    yield page
    context.close()
    connections.close_all()


def test_changelist_pager_count_and_jump_box(tab):
    check(tab, "/admin/shop/customer/")  # estimate, "count exactly", pager, jump box, namespaced help
    check(tab, "/admin/shop/customer/?q=email:u01")


def test_filter_other_box_and_problem_pages(tab):
    from shop.models import Customer, Order

    for customer in Customer.objects.order_by("pk")[:5]:
        Order.objects.create(number=f"N-{customer.pk}", customer=customer, total=1)
    check(tab, "/admin/shop/order/")  # the cut customer filter with its "Other" box
    check(tab, "/admin/shop/customer/?name__regex=(a")  # the 400 page with its search box


def test_job_page(tab):
    from django.contrib.auth import get_user_model

    from fastadmin.models import Job

    job = Job.objects.create(user=get_user_model().objects.get(), site="admin", model="shop.order",
                             action="update_mark_as_delivered", description="Mark as delivered",
                             status=Job.RUNNING, total=1000, done=400, rate=120.0)
    check(tab, f"/admin/fastadmin/job/{job.pk}/change/")
