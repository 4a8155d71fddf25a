"""The test runner of the harness: Django's ``DiscoverRunner`` that knows fastadmin's by-design list.

* After the test modules are imported (and with them every test app's ``admin.py``) it checks that
  the swap of :mod:`tests.django_admin.apps` reached them: the default site is a ``FastAdminSite`` and
  every ModelAdmin registered on any site is a fastadmin one. Otherwise nothing runs.
* A failure or error counts only if its test id is not in ``by_design.txt``; a listed test that now
  passes counts too (the list must stay exact). The exit status is the number of those.
"""

from __future__ import annotations

import re
import sys
import unittest
from pathlib import Path

from django.test.runner import DiscoverRunner

BY_DESIGN = Path(__file__).with_name("by_design.txt")
#: The issue's ceiling: more than this many accepted differences is not a drop-in any more.
MAX_BY_DESIGN = 15
_LINE = re.compile(r"^(?P<id>[\w.]+)\s*:\s*(?P<reason>\S.*)$")


def load_by_design(path: Path = BY_DESIGN) -> dict[str, str]:
    """``{test id: reason}`` from ``path``: one ``test.id: reason`` a line, ``#`` comments."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"{path}:{number}: expected 'test.id: reason', got {raw!r}")
        if match["id"] in entries:
            raise ValueError(f"{path}:{number}: {match['id']} is listed twice")
        entries[match["id"]] = match["reason"]
    if len(entries) > MAX_BY_DESIGN:
        raise ValueError(f"{path} lists {len(entries)} tests; at most {MAX_BY_DESIGN} differences are allowed")
    return entries


def verify_swap() -> None:
    """Fail loudly unless every admin the test modules built is fastadmin's."""
    from django.apps import apps
    from django.contrib import admin
    from django.contrib.admin.sites import all_sites

    import fastadmin
    from fastadmin.options import FastAdminMixin

    problems = []
    if not isinstance(admin.site, fastadmin.FastAdminSite):
        problems.append(f"django.contrib.admin.site is a {type(admin.site).__name__}, not a FastAdminSite")
    for name, expected in (("ModelAdmin", fastadmin.ModelAdmin), ("AdminSite", fastadmin.FastAdminSite)):
        if getattr(admin, name) is not expected:
            problems.append(f"django.contrib.admin.{name} is not fastadmin's")
    sites = list(all_sites)
    for site in sites:
        if not isinstance(site, fastadmin.FastAdminSite):
            problems.append(f"admin site {site.name!r} is a {type(site).__qualname__}")
        for model in apps.get_models(include_auto_created=True):
            if site.is_registered(model):
                model_admin = site.get_model_admin(model)
                if not isinstance(model_admin, FastAdminMixin):
                    problems.append(f"{site.name}: {type(model_admin).__qualname__} for {model._meta.label}")
    if problems:
        raise RuntimeError("fastadmin was not swapped in everywhere:\n  " + "\n  ".join(problems))
    print(f"fastadmin swap verified: {len(sites)} admin sites, every registered ModelAdmin is fastadmin's.")


class FastAdminTestRunner(DiscoverRunner):
    def build_suite(self, *args, **kwargs):
        self.by_design = load_by_design()
        suite = super().build_suite(*args, **kwargs)
        verify_swap()
        # Collected now: unittest drops each test from its suite once it has run.
        self.collected = {_test_id(test) for test in _iter_tests(suite)}
        return suite

    def suite_result(self, suite: unittest.TestSuite, result: unittest.TestResult, **kwargs) -> int:
        failed = {_test_id(test): ("FAIL", text) for test, text in result.failures}
        failed.update({_test_id(test): ("ERROR", text) for test, text in result.errors})
        unexpected = {tid: kind for tid, (kind, _) in failed.items() if tid not in self.by_design}
        unexpected.update({_test_id(test): "UNEXPECTED SUCCESS" for test in result.unexpectedSuccesses})
        stale = sorted(tid for tid in self.by_design if tid in self.collected and tid not in failed)
        accepted = sorted(tid for tid in failed if tid in self.by_design)

        out = sys.stderr
        print("\n=== fastadmin drop-in summary ===", file=out)
        print(f"ran {result.testsRun}; failed/errored {len(failed)}; by design {len(accepted)}", file=out)
        for tid in accepted:
            print(f"  by design: {tid}: {self.by_design[tid]}", file=out)
        for tid, kind in sorted(unexpected.items()):
            print(f"  {kind}: {tid}  <- not in {BY_DESIGN.name}", file=out)
        for tid in stale:
            print(f"  PASSES NOW: {tid}  <- remove it from {BY_DESIGN.name}", file=out)
        if not unexpected and not stale:
            print("OK: every difference is listed in by_design.txt", file=out)
        return len(unexpected) + len(stale)


def _iter_tests(suite):
    for item in suite:
        if item is None:
            continue
        if isinstance(item, unittest.TestSuite):
            yield from _iter_tests(item)
        else:
            yield item


def _test_id(test) -> str:
    """``module.Class.method`` (a subTest reports its parent's id; a failed import its own)."""
    parent = getattr(test, "test_case", None)
    return (parent or test).id()
