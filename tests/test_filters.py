"""List filters: bounded, and never showing what the admin's queryset (or limit_choices_to) hides."""

import pytest
from django.contrib.admin.filters import FacetsMixin, SimpleListFilter
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

import fastadmin
from fastadmin.filters import BoundedAllValuesFieldListFilter
from tests.conftest import analyze, make_items
from tests.relapp.models import Guest, Place, Tag, Visit
from tests.testapp.models import Item

pytestmark = pytest.mark.django_db


def spec_of(response, title: str):
    return next(spec for spec in response.context_data["cl"].filter_specs if spec.title == title)


def displays(response, title: str) -> list[str]:
    cl = response.context_data["cl"]
    return [str(choice["display"]) for choice in spec_of(response, title).choices(cl)]


def sql_of(captured) -> str:
    return " ".join(q["sql"] for q in captured.captured_queries)


def has_statistics(table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stats WHERE tablename = %s AND attname = %s", [table, column])
        return cursor.fetchone() is not None


def render(rf, superuser, model, list_filter, query: str = ""):
    """The changelist of ``model``'s registered admin showing only ``list_filter``: one defect per test."""
    reverse("admin:index")  # load the URLconf first, as a request through the client would
    registered = type(fastadmin.site.get_model_admin(model))
    admin_obj = type("Only", (registered,), {"list_filter": list_filter})(model, fastadmin.site)
    request = rf.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/{query}")
    request.user = superuser
    response = admin_obj.changelist_view(request)
    response.render()
    return response


def test_sidebar_never_shows_a_value_outside_get_queryset(rf, superuser):
    """PlaceAdmin.get_queryset shows tenant "a"; its default manager hides soft-deleted rows."""
    Place.objects.bulk_create(
        [Place(name=f"a{i}", city="Oslo" if i % 2 else "Bergen") for i in range(40)]
        + [Place(name=f"b{i}", city="Secretville", tenant="b") for i in range(200)]
        + [Place(name=f"d{i}", city="Ghosttown", deleted=True) for i in range(100)]
    )
    analyze(Place)
    with CaptureQueriesContext(connection) as captured:
        response = render(rf, superuser, Place, ["city"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Secretville" not in html and "Ghosttown" not in html
    assert displays(response, "city") == ["All", "Bergen", "Oslo"]
    sql = sql_of(captured)
    assert "pg_stats" in sql and "UNION ALL" in sql  # candidates checked in one statement
    assert "SELECT DISTINCT" not in sql.upper()


@override_settings(FASTADMIN={"EXACT_COUNT_THRESHOLD": 10})
def test_statistics_are_used_as_they_are_when_the_queryset_is_the_whole_table(admin_client):
    make_items(2_000)
    analyze(Item)
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/admin/testapp/item/?label__isnull=True")
    candidates_checked = [q["sql"] for q in captured.captured_queries
                          if "UNION" in q["sql"] and "pg_partition_tree" not in q["sql"]]  # not the size read
    assert "pg_stats" in sql_of(captured) and not candidates_checked
    choices = list(spec_of(response, "label").choices(response.context_data["cl"]))
    assert [c["display"] for c in choices[1:-1]] == ["Y", "x", "y", "zz"]
    assert choices[-1]["selected"] is True and choices[-1]["query_string"] == "?label__isnull=True"


def test_unanalyzed_related_path_reads_the_path_through_the_admin_queryset(rf, superuser):
    oslo = Place.objects.create(name="Oslo cafe", city="Oslo")
    secret = Place.objects.create(name="Secret place", city="Secretville", tenant="b")
    Visit.objects.create(note="mine", place=oslo)
    Visit.objects.create(note="not mine", place=secret, tenant="b")
    assert not has_statistics("relapp_place", "city")
    response = render(rf, superuser, Visit, ["place__city"])
    assert response.status_code == 200
    assert displays(response, "city") == ["All", "Oslo"]
    assert "Secretville" not in response.content.decode()


def test_related_choices_obey_limit_choices_to_and_typed_pks_show_no_other_object(rf, superuser):
    oslo = Place.objects.create(name="Oslo cafe", city="Oslo")
    hidden = Place.objects.create(name="Hidden hut", city="Bergen")
    Visit.objects.create(note="v", place=oslo)
    response = render(rf, superuser, Visit, ["place"])
    assert displays(response, "place")[1:] == ["Oslo cafe", "-"]
    response = render(rf, superuser, Visit, ["place"], f"?place__id__exact={hidden.pk}")
    assert response.status_code == 200
    assert "Hidden hut" not in response.content.decode()
    assert str(hidden.pk) in displays(response, "place")  # the typed value, as typed
    response = render(rf, superuser, Visit, ["place"], f"?place__id__exact={oslo.pk}")
    selected = [c for c in spec_of(response, "place").choices(response.context_data["cl"]) if c["selected"]]
    assert [c["display"] for c in selected] == ["Oslo cafe"]


@pytest.fixture
def visits(db):
    oslo = Place.objects.create(name="Oslo cafe", city="Oslo")
    bergen = Place.objects.create(name="Bergen bar", city="Bergen")
    ann, bob = Guest.objects.create(name="Ann"), Guest.objects.create(name="Bob")
    first = Visit.objects.create(note="first", place=oslo)
    second = Visit.objects.create(note="second", place=bergen)
    first.guests.add(ann)
    second.guests.add(ann, bob)
    kind = ContentType.objects.get_for_model(Visit)
    Tag.objects.create(content_type=kind, object_id=first.pk, name="python")
    Tag.objects.create(content_type=kind, object_id=second.pk, name="linux")
    return {"oslo": oslo, "bergen": bergen, "ann": ann, "bob": bob, "first": first, "second": second}


def listed(response) -> set[str]:
    return {str(obj) for obj in response.context_data["cl"].result_list}


@pytest.mark.parametrize("facets", ["", "&_facets=1"])
def test_reverse_and_generic_relations_filter_like_stock(admin_client, visits, facets):
    second = visits["second"]
    response = admin_client.get(f"/admin/relapp/place/?visits__id__exact={second.pk}{facets}")  # reverse FK
    assert response.status_code == 200 and listed(response) == {"Bergen bar"}
    assert {"first", "second"} <= {d.split(" (")[0] for d in displays(response, "visit")}
    response = admin_client.get(f"/admin/relapp/guest/?visits__id__exact={second.pk}{facets}")  # reverse m2m
    assert response.status_code == 200 and listed(response) == {"Ann", "Bob"}
    response = admin_client.get(f"/admin/relapp/guest/?visits__isnull=True{facets}")
    assert response.status_code == 200 and listed(response) == set()
    python = Tag.objects.get(name="python")
    response = admin_client.get(f"/admin/relapp/visit/?tags__id__exact={python.pk}{facets}")  # GenericRelation
    assert response.status_code == 200 and listed(response) == {"first"}
    response = admin_client.get(f"/admin/relapp/visit/?tags__name=linux{facets}")  # a path through it
    assert response.status_code == 200 and listed(response) == {"second"}
    assert displays(response, "name")[1:] == (["linux (1)", "python (1)"] if facets else ["linux", "python"])


def test_get_list_filter_returns_what_stock_returns(rf):
    class Dynamic(fastadmin.ModelAdmin):
        list_filter = ("category", "label", "kind")

        def get_list_filter(self, request):
            found = list(super().get_list_filter(request))
            found.remove("category")  # a project's own override, as in Django's test_dynamic_list_filter
            return found

    admin_obj = Dynamic(Item, fastadmin.site)
    request = rf.get("/")
    request.user = type("Staff", (), {"is_active": True, "is_staff": True, "has_perm": lambda *a: True})()
    assert admin_obj.get_list_filter(request) == ["label", "kind"]
    cl = admin_obj.get_changelist_instance(request)
    assert cl.list_filter == ["label", "kind"]
    assert type(cl.filter_specs[0]) is BoundedAllValuesFieldListFilter


def test_facets_come_from_the_filter_classes_not_from_patched_instances(admin_client, items):
    from fastadmin.facets import EstimatedFacetsMixin

    response = admin_client.get("/admin/testapp/item/?_facets=1")
    assert response.status_code == 200
    specs = response.context_data["cl"].filter_specs
    faceted = [spec for spec in specs if isinstance(spec, FacetsMixin)]
    assert len(faceted) == 5
    for spec in faceted:
        assert isinstance(spec, EstimatedFacetsMixin), type(spec)
        assert "get_facet_queryset" not in vars(spec)


def test_simple_list_filters_are_wrapped_once_and_project_facets_are_kept():
    from fastadmin.facets import EstimatedFacetsMixin, with_estimated_facets
    from fastadmin.filters import changelist_filters

    class Mine(SimpleListFilter):
        title = parameter_name = "mine"

        def lookups(self, request, model_admin):
            return [("1", "one")]

        def queryset(self, request, queryset):
            return queryset

    class OwnFacets(Mine):
        def get_facet_queryset(self, changelist):
            return {}

    admin_obj = fastadmin.site.get_model_admin(Item)
    first = changelist_filters([Mine, OwnFacets], admin_obj)
    again = changelist_filters([Mine], admin_obj)
    assert first[0] is again[0] is with_estimated_facets(Mine)
    assert issubclass(first[0], Mine) and issubclass(first[0], EstimatedFacetsMixin)
    assert first[0].__name__ == "Mine" and first[1] is OwnFacets


def test_a_slow_candidate_check_leaves_only_the_free_text_box(rf, superuser, monkeypatch):
    from fastadmin import filters

    def slow(queryset, field_path, candidates):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1)")
        return set(candidates)

    monkeypatch.setattr(filters, "values_present", slow)
    monkeypatch.setattr(filters, "CHOICES_TIMEOUT_MS", 20)
    Place.objects.bulk_create([Place(name=f"a{i}", city="Oslo") for i in range(20)])
    analyze(Place)
    response = render(rf, superuser, Place, ["city"])
    assert response.status_code == 200  # not the changelist's "too slow" page
    assert displays(response, "city") == ["All"]
    assert spec_of(response, "city").truncated and 'name="city"' in response.content.decode()
