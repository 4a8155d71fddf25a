"""Every misconfiguration of locking and the object cache is a system check with an id."""

import pytest
from django.contrib.admin.sites import all_sites
from django.core import checks
from django.test import override_settings

import fastadmin
from fastadmin.checks import check_locking
from tests.testapp.models import Gadget


def ids(**fastadmin_settings):
    """check_locking's ids plus the per-admin ones (fastadmin.checks.ModelAdminChecks) of every site."""
    with override_settings(FASTADMIN=fastadmin_settings):
        admin_messages = [m for site in all_sites for m in site.check(None)]
        return sorted(m.id for m in [*check_locking(), *admin_messages])


def test_defaults_are_clean():
    assert ids() == []


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("LOCKING", "yes", "fastadmin.E201"),
        ("STALE_SELECTION", "ignore", "fastadmin.E202"),
        ("OBJECT_CACHE_ALIAS", "nope", "fastadmin.E203"),
        ("OBJECT_CACHE_TIMEOUT", 0, "fastadmin.E204"),
        ("OBJECT_CACHE_MODELS", "testapp.Gadget", "fastadmin.E205"),
        ("OBJECT_CACHE_MODELS", ["testapp.Nope"], "fastadmin.W201"),
    ],
)
def test_bad_settings(setting, value, expected):
    assert expected in ids(**{setting: value})


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_locmem_object_cache_warns():
    assert ids(OBJECT_CACHE_MODELS=["testapp.Gadget"]) == ["fastadmin.W203"]


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": "redis://127.0.0.1:6379/0"}})
def test_redis_object_cache_is_clean():
    assert ids(OBJECT_CACHE_MODELS=["testapp.Gadget"]) == []


def test_cached_admin_with_custom_get_queryset_warns():
    site = fastadmin.FastAdminSite(name="checks")

    class Restricted(fastadmin.ModelAdmin):
        object_cache = True

        def get_queryset(self, request):
            return super().get_queryset(request).filter(status="open")

    site.register(Gadget, Restricted)
    try:
        assert "fastadmin.W202" in ids()
    finally:
        site.unregister(Gadget)


def test_checks_run_with_manage_check():
    messages = checks.run_checks(tags=[checks.Tags.compatibility])
    assert not [m for m in messages if m.id and m.id.startswith("fastadmin.")]
