"""The benchmark command measures every case on stock, tuned stock and fastadmin (a short real run)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from shop import bench_report, benchmark
from shop.models import Order
from shop.tuned import ReltuplesPaginator

pytestmark = pytest.mark.django_db(transaction=True)
FIRST_PAGE = next(case for case in benchmark.CASES if case.name == "first page")


@pytest.fixture(autouse=True)
def example_urls(settings):
    settings.ROOT_URLCONF = "example_project.urls"  # /stock-admin/ and /tuned-admin/ beside /admin/


def test_benchmark_reports_every_metric_for_three_admins(tmp_path):
    report = benchmark.run(benchmark.SMALL_ROWS, repeat=1, stream=io.StringIO())
    names = [c["case"] for c in report["cases"]]
    assert names == [c.name for c in benchmark.CASES]
    floor = report["cases"][0]
    assert floor["reference"] and floor["urls"]["fast"] == "/admin/auth/group/"
    assert not any(entry["reference"] for entry in report["cases"][1:])
    for entry in report["cases"]:
        assert list(entry["admins"]) == ["stock", "tuned", "fast"]
        for admin, med in entry["admins"].items():
            assert med["wall_ms"] > 0 and med["cpu_ms"] > 0, (entry["case"], admin)
            assert med["queries"] >= 1 and med["sql_ms"] > 0, (entry["case"], admin)
            assert 0 < med["render_ms"] < med["wall_ms"], (entry["case"], admin)
        assert set(entry["vs_fast"]) == {"stock", "tuned"}
    assert report["template_loaders"] == ["django.template.loaders.cached.Loader"]
    table = bench_report.format_table(report)
    assert table.count("\n") == 2 + 3 * len(benchmark.CASES) - 1
    path = tmp_path / "bench.json"
    bench_report.write_json(report, str(path))
    assert json.loads(path.read_text())["cases"][0]["urls"]["tuned"].startswith("/tuned-admin/")


def test_command_overrides_a_fastadmin_setting(capsys):
    call_command("benchmark", rows=benchmark.SMALL_ROWS, repeat=1, case=["first page"], admin=["fast"],
                 fastadmin=["COMPILED_RESULT_LIST=false"], json_path=None)
    out = capsys.readouterr().out
    assert "first page" in out and "tuned" not in out


def test_tuned_paginator_reads_reltuples_unfiltered_and_counts_filtered():
    benchmark.seeding.seed(300, chunk=1000, stream=io.StringIO())  # VACUUM ANALYZE included
    with CaptureQueriesContext(connection) as queries:
        count = ReltuplesPaginator(Order.objects.all(), 100).count
    assert count == 300
    assert "reltuples" in queries[0]["sql"] and "COUNT(" not in queries[0]["sql"].upper()
    shipped = Order.objects.filter(status="shipped")
    assert ReltuplesPaginator(shipped, 100).count == shipped.count()


def test_a_failing_case_is_reported_and_the_others_measured():
    wrong = benchmark.Case("wrong expectation", "shop/order/", expect_rows=7)
    report = benchmark.run(benchmark.SMALL_ROWS, repeat=1, cases=[wrong, FIRST_PAGE], admins=["fast"],
                           stream=io.StringIO())
    assert [c["case"] for c in report["cases"]] == [FIRST_PAGE.name]
    assert len(report["failures"]) == 1 and "expected 7" in report["failures"][0]


def test_the_reference_and_the_big_dataset_are_measured_interleaved(monkeypatch):
    """Each round requests the 1,000-row reference (its own schema), then the big dataset: the
    connection's search_path switches between them, and each side shows its own rows."""
    order = []
    real = benchmark._request

    def spy(client, case, url, ctx):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM shop_order")
            order.append((ctx.rows, cursor.fetchone()[0]))
        return real(client, case, url, ctx)

    monkeypatch.setattr(benchmark, "_request", spy)
    last = benchmark.Case("last page", "shop/order/", "seek={deep_seek}", expect_rows=None)
    report = benchmark.run(1_500, repeat=2, cases=[FIRST_PAGE, last], admins=["fast"], stream=io.StringIO())
    assert report["failures"] == []
    # Per case: warm-up, then two rounds, each the reference then the big dataset; each sees its rows.
    assert order == [(1_000, 1_000), (1_500, 1_500)] * 3 * 2
    entries = {(c["case"], c["rows"]): c for c in report["cases"]}
    assert set(entries) == {(n, r) for n in ("first page", "last page") for r in (1_000, 1_500)}
    big, ref = entries[("first page", 1_500)], entries[("first page", 1_000)]
    assert big["vs_1k"]["fast"] == round(big["admins"]["fast"]["wall_ms"] / ref["admins"]["fast"]["wall_ms"], 2)
    assert all(len(samples) == 2 for c in report["cases"] for samples in c["wall_samples"].values())
    with connection.cursor() as cursor:  # the reference schema is gone, the default path is back
        cursor.execute("SELECT to_regnamespace(%s), current_setting('search_path')", [benchmark.SMALL_SCHEMA])
        assert cursor.fetchone() == (None, '"$user", public')
