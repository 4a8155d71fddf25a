"""A Meilisearch search in the changelist: its count, its sort and paging past Meilisearch's 1000 hits.

Driven through the admin against the fake server; the requests it records are the contract
(``offset``/``limit``, ``sort``, the ``pagination.maxTotalHits`` setting).
"""

from __future__ import annotations

import pytest
from django.test.utils import override_settings
from fastadmin.search_index import mark_dirty
from fastadmin.search_index.drain import drain
from shop.models import Lead

from fastadmin.counting import BaseCounter, Count
from tests.helpers import rel_links, row_pks, walk
from tests.meili_helpers import *  # noqa: F403 - the fake and sidecar fixtures
from tests.meili_helpers import sidecar_settings

LEAD_URL = "/admin/shop/lead/"
INDEX = "t_shop_lead"
# list_display of LeadAdmin after stock's action checkbox: o=4 is status, o=6 score, o=7 customer.
STATUS, SCORE, CUSTOMER = 4, 6, 7


def search_bodies(fake) -> list[dict]:
    return [r.body for r in fake.requests if r.path.endswith("/search")]


def windows(fake) -> list[tuple[int, int]]:
    return [(body["offset"], body["limit"]) for body in search_bodies(fake)]


def index_leads(fake, n: int, **fields) -> list[int]:
    """``n`` leads called "Zed …" in the index, ranked by the fake in reverse creation order (so its
    ranking differs from every column order); returns their pks in that ranking."""
    rows = Lead.objects.bulk_create([Lead(name=f"Zed {i}", email=f"z{i}@example.com", **fields) for i in range(n)])
    mark_dirty(Lead.objects.filter(pk__in=[row.pk for row in rows]))
    drain()
    index = fake.indexes[INDEX]
    index.documents = dict(reversed(list(index.documents.items())))
    return [row.pk for row in reversed(rows)]


# --------------------------------------------------------------------------- the count


@pytest.mark.django_db
def test_count_is_meilisearchs_estimated_total_hits_shown_as_an_estimate(admin_client, sidecar):
    pks = index_leads(sidecar, 3)
    # Documents of rows PostgreSQL does not hold (a stale index): Meilisearch counts them, the page never shows them.
    for n in range(38):
        sidecar.indexes[INDEX].documents[f"9{n:04}"] = {"pk": 90000 + n, "name": f"Zed ghost {n}"}
    response = admin_client.get(LEAD_URL, {"q": "zed"})
    assert response.status_code == 200
    assert sorted(row_pks(response)) == sorted(pks)
    cl = response.context["cl"]
    assert cl.count == Count(41, exact=False) and cl.search_count == Count(41, exact=False)
    page = response.content.decode()
    assert "≈ 41 leads" in page and "estimated by the search service" in page
    assert "count exactly" not in page  # PostgreSQL holds only the hits near the page: nothing to count
    # Asking for an exact count changes nothing: the search service's number is the count.
    assert admin_client.get(LEAD_URL, {"q": "zed", "_count": "exact"}).context["cl"].count == Count(41, exact=False)


@pytest.mark.django_db
def test_without_a_search_the_counter_counts_postgresql(admin_client, sidecar):
    index_leads(sidecar, 3)
    cl = admin_client.get(LEAD_URL).context["cl"]
    assert cl.search_count is None and cl.count == Count(3, exact=True)
    assert search_bodies(sidecar) == []


def test_the_counters_contract_shows_the_search_count_by_default():
    class Fixed(BaseCounter):
        def count(self, queryset):
            return Count(7, exact=True)

    assert Fixed().count_search(None, Count(1234, exact=False)) == Count(1234, exact=False)


# --------------------------------------------------------------------------- paging


@pytest.mark.django_db
def test_pages_past_meilisearchs_default_1000_hits_by_cursor(admin_client, sidecar):
    ranking = index_leads(sidecar, 1050)
    # The index was told how far it may be paged (Meilisearch's default would stop at 1000).
    assert sidecar.indexes[INDEX].settings["pagination"] == {"maxTotalHits": 10_000}
    first = admin_client.get(LEAD_URL, {"q": "zed"}).content.decode()
    # "Select all ≈ 1,050" would act on the hits near the page only: not offered on a counted search.
    # (the "select all" question's span: Django 6 dropped the link's title, the span is in both)
    assert 'class="question hidden"' not in first and 'class="action-counter"' in first
    assert 'class="question hidden"' in admin_client.get(LEAD_URL).content.decode()  # the list, not searched
    sidecar.requests.clear()
    assert walk(admin_client, f"{LEAD_URL}?q=zed", limit=15) == ranking
    # One Meilisearch request per page, from the row after the cursor: 11 pages of 100.
    assert windows(sidecar) == [(offset, 500) for offset in range(0, 1001, 100)]

    sidecar.requests.clear()
    last = admin_client.get(LEAD_URL, {"q": "zed"})
    last_page = admin_client.get(LEAD_URL + rel_links(last)["last"])
    assert row_pks(last_page) == ranking[950:]
    # The last page: where the reachable hits end (limit 0), then the window that ends there.
    assert windows(sidecar)[1:] == [(0, 0), (550, 500)]
    assert walk(admin_client, LEAD_URL + rel_links(last)["last"], direction="prev", limit=15) == list(reversed(ranking))


@pytest.mark.django_db
def test_paging_stops_at_max_total_hits_with_a_notice(admin_client, fake, monkeypatch):
    monkeypatch.setattr("fastadmin.search_index.outbox._enqueue_drain", lambda: None)
    with override_settings(FASTADMIN=sidecar_settings(fake.url, MAX_TOTAL_HITS=150)):
        ranking = index_leads(fake, 180)
        assert fake.indexes[INDEX].settings["pagination"] == {"maxTotalHits": 150}
        first = admin_client.get(LEAD_URL, {"q": "zed"})
        assert "Only the first 150 of about 180 matches can be paged through" in first.content.decode()
        assert first.context["cl"].count == Count(180, exact=False)
        assert walk(admin_client, f"{LEAD_URL}?q=zed", limit=5) == ranking[:150]


@pytest.mark.django_db
def test_a_window_is_widened_when_the_admins_queryset_hides_most_hits(admin_client, sidecar, monkeypatch):
    """A permission-scoped ``get_queryset`` hides hits Meilisearch returns: the page still fills up."""
    from fastadmin.search_index.meili import MeilisearchBackend

    from fastadmin.sites import site

    monkeypatch.setattr(MeilisearchBackend, "window", 120)
    ranking = index_leads(sidecar, 400)
    visible = set(ranking[::3])  # one hit in three is the user's
    model_admin = site.get_model_admin(Lead)
    monkeypatch.setattr(model_admin, "get_queryset", lambda request: Lead.objects.filter(pk__in=visible))
    sidecar.requests.clear()
    seen = walk(admin_client, f"{LEAD_URL}?q=zed", limit=5)
    assert seen == [pk for pk in ranking if pk in visible]
    # Page 1 needed 101 of the user's rows: 120 hits held 40, so two more windows were read.
    assert windows(sidecar)[:3] == [(0, 120), (120, 120), (240, 120)]


@pytest.mark.django_db
def test_a_cursor_of_another_search_is_refused(admin_client, sidecar):
    index_leads(sidecar, 130)
    Lead.objects.bulk_create([Lead(name="Zed Ada", email="za@example.com")])
    next_href = rel_links(admin_client.get(LEAD_URL, {"q": "zed"}))["next"]
    other = admin_client.get(LEAD_URL + next_href.replace("q=zed", "q=ada"))
    assert other.status_code == 400


# --------------------------------------------------------------------------- sorting


@pytest.mark.django_db
@pytest.mark.parametrize(("order", "sort", "key", "reverse"), [
    (f"{STATUS}", ["status:asc", "pk:desc"], lambda lead: (lead.status, -lead.pk), False),
    (f"-{STATUS}", ["status:desc", "pk:desc"], lambda lead: (lead.status, lead.pk), True),
    (f"{SCORE}", ["score:asc", "pk:desc"], lambda lead: (lead.score is None, lead.score or 0, -lead.pk), False),
])
def test_a_sortable_column_is_sent_as_meilisearch_sort(admin_client, sidecar, order, sort, key, reverse):
    ranking = index_leads(sidecar, 12)
    for n, pk in enumerate(ranking):
        Lead.objects.filter(pk=pk).update(status=["new", "won", "lost"][n % 3], score=None if n % 4 == 0 else n)
    mark_dirty(Lead.objects.all())
    drain()
    sidecar.requests.clear()
    response = admin_client.get(LEAD_URL, {"q": "zed", "o": order})
    assert search_bodies(sidecar) == [{"q": "zed", "attributesToRetrieve": ["pk"], "sort": sort, "offset": 0,
                                       "limit": 500}]
    assert row_pks(response) == [lead.pk for lead in sorted(Lead.objects.all(), key=key, reverse=reverse)]


@pytest.mark.django_db
@pytest.mark.parametrize("order", [
    f"-{SCORE}",  # nullable, descending: PostgreSQL puts NULLs first, Meilisearch last
    f"{CUSTOMER}",  # a foreign key: stock sorts by the customer's name, the index holds its id
])
def test_an_ordering_meilisearch_cannot_reproduce_is_left_to_postgresql(admin_client, sidecar, order):
    index_leads(sidecar, 5)
    response = admin_client.get(LEAD_URL, {"q": "zed", "o": order})
    assert response.status_code == 200
    assert search_bodies(sidecar) == [{"q": "zed", "attributesToRetrieve": ["pk"], "limit": 1000}]
    assert sorted(row_pks(response)) == sorted(Lead.objects.values_list("pk", flat=True))
