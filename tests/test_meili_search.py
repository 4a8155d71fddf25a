"""The Meilisearch backend in the changelist, its configuration checks and the index spec."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.test.utils import override_settings
from fastadmin.search_index.checks import check_search
from fastadmin.search_index.documents import Dependency, build_spec
from fastadmin.search_index.drain import drain
from fastadmin.search_index.meili import FALLBACK_NOTICE, MeilisearchBackend
from fastadmin.search_index.meili_checks import check_config, check_meilisearch
from fastadmin.search_index.sidecar import resolve_backend
from shop.models import Customer, Lead, Order

from fastadmin.sites import site
from tests.helpers import row_pks, walk
from tests.meili_helpers import *  # noqa: F403 - the fake and sidecar fixtures
from tests.meili_helpers import API_KEY

LEAD_URL = "/admin/shop/lead/"


def search_bodies(fake) -> list[dict]:
    return [r.body for r in fake.requests if r.path.endswith("/search")]


# --------------------------------------------------------------------------- configuration


def test_short_name_resolves_to_the_backend_class():
    assert resolve_backend("meilisearch") is MeilisearchBackend
    assert resolve_backend("fastadmin.search_index.meili.MeilisearchBackend") is MeilisearchBackend
    with override_settings(FASTADMIN={"SEARCH_BACKEND": "meilisearch", "MEILISEARCH": {"URL": "http://127.0.0.1:1"}}):
        assert isinstance(site.get_model_admin(Lead).get_search_backend(), MeilisearchBackend)
        # The short name is not a dotted path: the search check (E102) must accept it too.
        assert "fastadmin.E102" not in [m.id for m in check_search()]
    with override_settings(FASTADMIN={"SEARCH_BACKEND": "meilisearchh"}):
        assert "fastadmin.E102" in [m.id for m in check_search()]


@pytest.mark.parametrize(("config", "ids"), [
    ({"URL": "http://127.0.0.1:7700"}, []),
    ({"URL": "https://search.example.com", "API_KEY": "k", "INDEX_PREFIX": "prod_", "SWEEP_INTERVAL_S": 30,
      "TIMEOUT_S": 0.5}, []),
    ("http://127.0.0.1:7700", ["fastadmin.E301"]),
    ({"URL": "http://127.0.0.1:7700", "APIKEY": "k"}, ["fastadmin.E302"]),
    ({}, ["fastadmin.E303"]),
    ({"URL": "127.0.0.1:7700"}, ["fastadmin.E303"]),
    ({"URL": "http://127.0.0.1:7700", "API_KEY": ""}, ["fastadmin.E304"]),
    ({"URL": "http://127.0.0.1:7700", "INDEX_PREFIX": "a b"}, ["fastadmin.E305"]),
    ({"URL": "http://127.0.0.1:7700", "SWEEP_INTERVAL_S": 0, "TIMEOUT_S": "5"}, ["fastadmin.E306"] * 2),
    ({"URL": "http://search.internal:7700"}, ["fastadmin.W301"]),
    ({"URL": "http://127.0.0.1:7700", "MAX_TOTAL_HITS": 50_000}, []),
    ({"URL": "http://127.0.0.1:7700", "MAX_TOTAL_HITS": 0}, ["fastadmin.E309"]),
    ({"URL": "http://127.0.0.1:7700", "MAX_TOTAL_HITS": "1000"}, ["fastadmin.E309"]),
    ({"URL": "http://127.0.0.1:7700", "MAX_TOTAL_HITS": True}, ["fastadmin.E309"]),
])
def test_every_meilisearch_key_is_validated(config, ids):
    assert [m.id for m in check_config(config)] == ids


def test_api_key_is_never_echoed_by_a_check():
    messages = check_config({"URL": "http://127.0.0.1:7700", "API_KEY": 12345678})
    assert [m.id for m in messages] == ["fastadmin.E304"] and "12345678" not in str(messages[0])


def test_admin_opting_in_without_a_server_is_an_error():
    with override_settings(FASTADMIN={"SEARCH_BACKEND": "meilisearch"}):
        assert "fastadmin.E307" in [m.id for m in check_meilisearch()]
    with override_settings(FASTADMIN={"SEARCH_BACKEND": "meilisearch", "MEILISEARCH": {"URL": "http://127.0.0.1:1"}}):
        assert [m.id for m in check_meilisearch()] == []


def test_spec_follows_fk_paths_filters_and_sortable_columns():
    spec = build_spec(site.get_model_admin(Order))
    assert spec.searchable == ("number", "customer__name", "customer__email")
    assert spec.filterable == ("status", "customer__is_active", "customer__country", "customer")
    assert spec.sortable == ("number", "customer", "status", "total", "placed_at", "shipped_at")
    assert spec.dependencies == (Dependency(Customer, "customer", reverse=False),)
    assert spec.settings()["filterableAttributes"] == sorted(
        ["pk", "status", "customer__is_active", "customer__country", "customer"])


# --------------------------------------------------------------------------- the changelist


@pytest.fixture
def leads(sidecar, db):
    rows = [Lead.objects.create(name=f"Ada {i}", email=f"ada{i}@example.com", status=s)
            for i, s in enumerate(["new", "won", "won", "lost"])]
    Lead.objects.create(name="Bob", email="bob@example.com")
    drain()
    return rows


def test_changelist_shows_current_rows_for_meilisearch_hits(admin_client, leads, sidecar):
    Lead.objects.filter(pk=leads[0].pk).update(name="Ada renamed in the database only")
    response = admin_client.get(LEAD_URL, {"q": "ada"})
    assert response.status_code == 200
    assert sorted(row_pks(response)) == sorted(lead.pk for lead in leads)
    assert "Ada renamed in the database only" in response.content.decode()  # read from PostgreSQL
    assert search_bodies(sidecar)[-1] == {"q": "ada", "offset": 0, "limit": 500, "attributesToRetrieve": ["pk"]}
    assert API_KEY not in response.content.decode()


def test_stale_index_never_shows_a_deleted_row(admin_client, leads, sidecar):
    Lead.objects.filter(pk=leads[1].pk).delete()  # QuerySet.delete: the index still has it
    assert str(leads[1].pk) in sidecar.docs("t_shop_lead")
    response = admin_client.get(LEAD_URL, {"q": "ada"})
    assert sorted(row_pks(response)) == sorted([leads[0].pk, leads[2].pk, leads[3].pk])


def test_active_filters_are_sent_as_meilisearch_filters(admin_client, leads, sidecar):
    response = admin_client.get(LEAD_URL, {"q": "ada", "status__exact": "won"})
    assert sorted(row_pks(response)) == sorted([leads[1].pk, leads[2].pk])
    assert search_bodies(sidecar)[-1]["filter"] == ['status = "won"']


def test_backend_only_narrows_the_admins_queryset(leads, sidecar, superuser):
    """Whatever Meilisearch returns, only rows of the (permission-scoped) queryset come back."""
    request = RequestFactory().get(LEAD_URL, {"q": "ada"})
    request.user = superuser
    visible = Lead.objects.filter(status="won")
    result = MeilisearchBackend(site.get_model_admin(Lead)).search(request, visible, "ada")
    assert sorted(result.queryset.values_list("pk", flat=True)) == sorted([leads[1].pk, leads[2].pk])


def test_user_without_view_permission_gets_403(client, leads, sidecar):
    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(LEAD_URL, {"q": "ada"}).status_code == 403
    assert search_bodies(sidecar) == []


@pytest.mark.parametrize("failure", ["down", "slow"])
def test_meilisearch_unavailable_falls_back_to_trigram_with_a_notice(admin_client, leads, sidecar, failure,
                                                                     caplog):
    if failure == "down":
        sidecar.down = True
    else:
        sidecar.delay_s = 2.5  # TIMEOUT_S is 2
    response = admin_client.get(LEAD_URL, {"q": "ada"})
    assert response.status_code == 200
    page = response.content.decode()
    assert FALLBACK_NOTICE in page
    assert sorted(row_pks(response)) == sorted(lead.pk for lead in leads)
    assert API_KEY not in page and API_KEY not in caplog.text


def test_pages_follow_meilisearch_ranking_with_a_cursor(admin_client, sidecar, db):
    rows = Lead.objects.bulk_create([Lead(name=f"Zed {i}", email=f"z{i}@example.com") for i in range(130)])
    fastadmin_mark_dirty(Lead.objects.all())
    drain()
    # The fake ranks hits in insertion order; reverse it so ranking differs from every column order.
    index = sidecar.indexes["t_shop_lead"]
    index.documents = dict(reversed(list(index.documents.items())))
    seen = walk(admin_client, f"{LEAD_URL}?q=zed")
    assert seen == [row.pk for row in reversed(rows)]  # every row once, in Meilisearch's order, over 2 pages


def fastadmin_mark_dirty(queryset):
    from fastadmin.search_index import mark_dirty

    mark_dirty(queryset)


def test_admin_registered_after_ready_is_reported_until_connected(fake):
    from fastadmin.search_index import signals

    import fastadmin
    from tests.meili_helpers import sidecar_settings
    from tests.testapp.models import Gadget

    with override_settings(FASTADMIN=sidecar_settings(fake.url)):
        late = fastadmin.FastAdminSite(name="late")

        class LateGadgetAdmin(fastadmin.ModelAdmin):
            search_fields = ["name"]

        late.register(Gadget, LateGadgetAdmin)
        try:
            assert [m.id for m in check_meilisearch()] == ["fastadmin.W302"]
            signals.connect()
            assert [m.id for m in check_meilisearch()] == []
        finally:
            late.unregister(Gadget)
            signals.connect()
