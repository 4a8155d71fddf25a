"""The harness behind ``make test-django-admin`` (tests/django_admin/) fails loudly, never silently."""

import importlib

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.django_admin.runner import BY_DESIGN, MAX_BY_DESIGN, load_by_design, verify_swap


def test_the_by_design_list_parses_and_stays_short():
    entries = load_by_design()
    assert 0 < len(entries) <= MAX_BY_DESIGN
    assert all(test_id.count(".") >= 3 and reason.strip() for test_id, reason in entries.items())


@pytest.mark.parametrize(("text", "error"), [
    ("".join(f"a.tests.T.test_{i}: reason\n" for i in range(MAX_BY_DESIGN + 1)), "at most 15"),
    ("a.tests.T.test_x: one\na.tests.T.test_x: two\n", "listed twice"),
    ("a.tests.T.test_x\n", "expected 'test.id: reason'"),
])
def test_a_bad_by_design_list_is_refused(tmp_path, text, error):
    path = tmp_path / BY_DESIGN.name
    path.write_text(text)
    with pytest.raises(ValueError, match=error):
        load_by_design(path)


def test_without_the_swap_nothing_runs():
    # pytest's settings install stock django.contrib.admin: admin.site is a stock AdminSite.
    with pytest.raises(RuntimeError, match="fastadmin was not swapped in everywhere"):
        verify_swap()


def test_settings_refuse_to_load_outside_runtests():
    with pytest.raises(ImproperlyConfigured, match="ALWAYS_INSTALLED_APPS"):
        importlib.import_module("tests.django_admin.settings")
