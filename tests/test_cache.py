"""fastadmin.cache: hits, misses, invalidation on commit, and keys that follow the schema.

Runs against Django's LocMemCache always, and against Redis (django-redis and Django's built-in
backend) when ``REDIS_URL`` is set (CI: ``REDIS_URL=redis://127.0.0.1:6379/0``).
"""

import os
import uuid

import pytest
from django.apps import apps as django_apps
from django.db import connection, migrations, models
from django.db.migrations.state import ProjectState
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from fastadmin import cache
from fastadmin.cache_admin import queryset_is_customised
from tests.locking_helpers import make, person
from tests.testapp.models import Gadget, Ticket

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("REDIS_URL")
NO_REDIS = (
    "REDIS_URL is not set: the Redis-backed cache tests need a Redis server "
    "(CI sets REDIS_URL=redis://127.0.0.1:6379/0)"
)
BACKENDS = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "django-redis": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    },
    "django-builtin-redis": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
}


@pytest.fixture(params=list(BACKENDS))
def object_cache(request):
    if request.param != "locmem" and not REDIS_URL:
        pytest.skip(NO_REDIS)
    # A private key prefix and a short timeout: a shared Redis is never cleared, leftovers expire.
    config = {**BACKENDS[request.param], "KEY_PREFIX": f"fa-test-{uuid.uuid4().hex}", "TIMEOUT": 120}
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "objects": config},
        FASTADMIN={"OBJECT_CACHE_ALIAS": "objects", "OBJECT_CACHE_TIMEOUT": 120},
    ):
        yield cache.backend()


def test_miss_reads_the_database_then_hits(object_cache):
    obj = make(Gadget)
    with CaptureQueriesContext(connection) as first:
        assert cache.get_object(Gadget, obj.pk).name == "thing"
    with CaptureQueriesContext(connection) as second:
        again = cache.get_object(Gadget, str(obj.pk))  # "5" and 5 are one key
    assert len(first) == 1 and len(second) == 0
    assert again.pk == obj.pk and again.city == "Oslo"


def test_get_many_reads_only_the_misses(object_cache):
    rows = [make(Gadget, name=f"g{i}") for i in range(4)]
    cache.get_many(Gadget, [rows[0].pk, rows[1].pk])
    with CaptureQueriesContext(connection) as queries:
        found = cache.get_many(Gadget, [r.pk for r in rows] + [999_999])
    assert (
        len(queries) == 1
        and str(rows[2].pk) in queries[0]["sql"]
        and str(rows[0].pk) not in queries[0]["sql"]
    )
    assert [found[r.pk].name for r in rows] == ["g0", "g1", "g2", "g3"] and 999_999 not in found


def test_missing_object_raises_does_not_exist(object_cache):
    with pytest.raises(Gadget.DoesNotExist):
        cache.get_object(Gadget, 424242)


@pytest.mark.parametrize("model", [Gadget, Ticket])
def test_save_invalidates_on_commit(object_cache, model, django_capture_on_commit_callbacks):
    obj = make(model)
    cache.get_object(model, obj.pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        obj.city = "Bergen"
        obj.save()
        assert cache.get_object(model, obj.pk).city == "Oslo"  # not committed yet: nothing dropped
    assert callbacks
    for callback in callbacks:
        callback()
    assert cache.get_object(model, obj.pk).city == "Bergen"


def test_delete_invalidates_on_commit(object_cache, django_capture_on_commit_callbacks):
    obj = make(Gadget)
    cache.get_object(Gadget, obj.pk)
    with django_capture_on_commit_callbacks(execute=True):
        Gadget.objects.filter(pk=obj.pk).delete()
    with pytest.raises(Gadget.DoesNotExist):
        cache.get_object(Gadget, obj.pk)


MIGRATIONS = {
    "add a column": migrations.AddField("gadget", "color", models.CharField(max_length=10, default="red")),
    "drop a column": migrations.RemoveField("gadget", "memo"),
    "retype a column": migrations.AlterField("gadget", "city", models.TextField(blank=True)),
    "widen a column": migrations.AlterField(
        "gadget", "price", models.DecimalField(max_digits=12, decimal_places=2)
    ),
}


@pytest.mark.parametrize("operation", list(MIGRATIONS.values()), ids=list(MIGRATIONS))
def test_a_migration_changes_the_fingerprint_and_old_pickles_are_never_returned(object_cache, operation):
    obj = make(Gadget)
    assert cache.get_object(Gadget, obj.pk).name == "thing"  # the old code caches its instance

    # Deploy: run the migration for real and load the model as the new code defines it.
    old_state = ProjectState.from_apps(django_apps)
    new_state = old_state.clone()
    operation.state_forwards("testapp", new_state)
    with connection.cursor() as cursor:  # deferred FK checks of this test's inserts would block ALTER
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.schema_editor() as editor:
        operation.database_forwards("testapp", editor, old_state, new_state)
    NewGadget = new_state.apps.get_model("testapp", "Gadget")

    assert cache.fingerprint(NewGadget) != cache.fingerprint(Gadget)
    assert cache.cache_key(NewGadget, obj.pk) != cache.cache_key(Gadget, obj.pk)
    NewGadget._base_manager.filter(pk=obj.pk).update(name="renamed by new code")  # no invalidation
    fresh = cache.get_object(NewGadget, obj.pk)
    assert fresh.name == "renamed by new code"  # the old pickle was not returned
    columns = {f.attname for f in NewGadget._meta.concrete_fields}
    assert set(fresh.__dict__) >= columns  # every column of the new schema, loaded (no lazy loads)
    # ... and the old code still reads only what it wrote itself, never the new code's pickle.
    assert cache.get_object(Gadget, obj.pk).name == "thing"


def test_fingerprint_is_stable_for_the_same_schema():
    state = ProjectState.from_apps(django_apps)
    assert cache.fingerprint(state.apps.get_model("testapp", "Gadget")) == cache.fingerprint(Gadget)
    assert cache.fingerprint(Gadget) != cache.fingerprint(Ticket)


def test_change_view_reads_through_the_cache_when_configured(object_cache):
    client = person("alice")
    obj = make(Gadget)
    with override_settings(
        FASTADMIN={"OBJECT_CACHE_ALIAS": "objects", "OBJECT_CACHE_MODELS": ["testapp.Gadget"]}
    ):
        assert client.get(f"/admin/testapp/gadget/{obj.pk}/change/").status_code == 200
        Gadget.objects.filter(pk=obj.pk).update(name="changed behind the cache's back")
        page = client.get(f"/admin/testapp/gadget/{obj.pk}/change/").content.decode()
        assert 'value="thing"' in page  # served from the cache
        assert client.get("/admin/testapp/gadget/424242/change/").status_code == 302  # stock "does not exist"
    page = client.get(f"/admin/testapp/gadget/{obj.pk}/change/").content.decode()
    assert "changed behind the cache" in page  # setting off: the database


def test_cache_is_not_used_when_get_queryset_is_customised():
    import fastadmin

    class Restricted(fastadmin.ModelAdmin):
        def get_queryset(self, request):
            return super().get_queryset(request).filter(status="open")

    assert queryset_is_customised(Restricted(Gadget, fastadmin.site))
    assert not queryset_is_customised(fastadmin.site.get_model_admin(Gadget))


@pytest.mark.parametrize("model", [Gadget, Ticket])
def test_admin_saves_invalidate_on_commit(object_cache, model, django_capture_on_commit_callbacks):
    from tests.locking_helpers import open_form, post, url

    client = person("alice")
    obj = make(model)
    cache.get_object(model, obj.pk)
    fields = open_form(client, url(obj))
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, url(obj), fields, city="Bergen", _save="1").status_code == 302
    assert cache.get_object(model, obj.pk).city == "Bergen"
    listing = open_form(client, f"/admin/testapp/{model._meta.model_name}/", "changelist-form")
    index = next(n.split("-")[1] for n, v in listing if n.endswith("-id") and v == str(obj.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, f"/admin/testapp/{model._meta.model_name}/", listing, _save="Save",
                    **{f"form-{index}-city": "Paris"}).status_code == 302
    assert cache.get_object(model, obj.pk).city == "Paris"


# ------------------------------------------------------------------ issue 7: proxies, MTI, aliases, managers
from tests.relapp.models import Place, ProxyPlace, Restaurant  # noqa: E402
from tests.testapp.models import Category  # noqa: E402


def test_a_proxy_save_invalidates_the_concrete_models_copy_and_back(
    object_cache, django_capture_on_commit_callbacks
):
    place = Place.objects.create(name="p", city="Oslo")
    assert cache.get_object(Place, place.pk).city == "Oslo"
    assert cache.get_object(ProxyPlace, place.pk).city == "Oslo"
    proxy = ProxyPlace.objects.get(pk=place.pk)
    proxy.city = "Bergen"
    with django_capture_on_commit_callbacks(execute=True):
        proxy.save()  # post_save's sender is ProxyPlace
    assert cache.get_object(Place, place.pk).city == "Bergen"
    place.refresh_from_db()
    place.city = "Paris"
    with django_capture_on_commit_callbacks(execute=True):
        place.save()
    assert cache.get_object(ProxyPlace, place.pk).city == "Paris"


def test_multi_table_inheritance_invalidates_parent_and_child(object_cache, django_capture_on_commit_callbacks):
    restaurant = Restaurant.objects.create(name="r", city="Oslo")
    assert cache.get_object(Place, restaurant.pk).city == "Oslo"
    assert cache.get_object(Restaurant, restaurant.pk).city == "Oslo"
    restaurant.city = "Bergen"
    with django_capture_on_commit_callbacks(execute=True):
        restaurant.save()  # the child's save changes the parent's row
    assert cache.get_object(Place, restaurant.pk).city == "Bergen"
    place = Place.objects.get(pk=restaurant.pk)
    place.city = "Paris"
    with django_capture_on_commit_callbacks(execute=True):
        place.save()  # the parent's save changes what the child shows
    assert cache.get_object(Restaurant, restaurant.pk).city == "Paris"
    with django_capture_on_commit_callbacks(execute=True):
        from fastadmin.bulk import update_rows

        update_rows(Restaurant.objects.filter(pk=restaurant.pk), serves="sushi")  # no signals
    assert cache.get_object(Restaurant, restaurant.pk).serves == "sushi"


@pytest.mark.django_db(databases=["default", "sqlite"])
def test_keys_carry_the_database_alias(object_cache):
    Category.objects.create(pk=4242, name="on postgresql")
    Category.objects.using("sqlite").create(pk=4242, name="on sqlite")
    # Two PostgreSQL aliases share the fingerprint (same schema, same types): only the alias tells them apart.
    assert cache.fingerprint(Category, "default") == cache.fingerprint(Category, "replica")
    assert cache.cache_key(Category, 4242, "default") != cache.cache_key(Category, 4242, "replica")
    assert cache.get_object(Category, 4242, using="default").name == "on postgresql"
    assert cache.get_object(Category, 4242, using="sqlite").name == "on sqlite"
    assert cache.get_object(Category, 4242, using="default").name == "on postgresql"


def test_reads_go_through_the_default_manager_or_the_callers_queryset(object_cache):
    gone = Place.objects.create(name="gone", city="Oslo", deleted=True)  # soft-deleted: objects hides it
    other = Place.objects.create(name="other tenant", city="Oslo", tenant="b")
    with pytest.raises(Place.DoesNotExist):
        cache.get_object(Place, gone.pk)
    assert cache.get_many(Place, [other.pk], queryset=Place.objects.filter(tenant="a")) == {}
    assert cache.get_object(Place, other.pk).name == "other tenant"


def test_admin_reads_misses_through_its_queryset(object_cache, rf, superuser):
    import fastadmin

    class PlainPlaceAdmin(fastadmin.ModelAdmin):
        object_cache = True

    admin_obj = PlainPlaceAdmin(Place, fastadmin.site)
    assert admin_obj.uses_object_cache()
    gone = Place.objects.create(name="gone", city="Oslo", deleted=True)
    live = Place.objects.create(name="live", city="Oslo")
    request = rf.get("/")
    request.user = superuser
    with CaptureQueriesContext(connection) as queries:
        assert admin_obj.get_object(request, str(gone.pk)) is None  # as stock: the default manager hides it
        assert admin_obj.get_object(request, str(live.pk)).name == "live"
    assert all('"relapp_place"."deleted"' in q["sql"] for q in queries.captured_queries)


def test_registering_a_model_keeps_fast_delete_for_unrelated_models():
    """Receivers go to the cached model and its proxies/MTI relatives only: a receiver for every
    sender would turn off Django's fast delete project-wide."""
    from django.db.models.signals import post_delete

    from tests.testapp.models import Note  # never cached by these tests

    cache.register(Gadget)
    assert post_delete.has_listeners(Gadget)
    assert not post_delete.has_listeners(Note)
