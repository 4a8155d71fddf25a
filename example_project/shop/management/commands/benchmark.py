"""``manage.py benchmark --rows N``: stock admin vs fastadmin changelists; see :mod:`shop.benchmark`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from shop import bench_report, benchmark


class Command(BaseCommand):
    help = "Time stock Django admin, tuned stock and fastadmin on N orders (and on a 1,000-order reference)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000, help="orders in the big dataset")
        parser.add_argument("--repeat", type=int, default=7, help="timed rounds per case (after 1 warm-up)")
        parser.add_argument("--chunk", type=int, default=100_000, help="rows per INSERT when seeding")
        parser.add_argument("--json", dest="json_path", help="also write the report to this JSON file")
        parser.add_argument("--case", action="append", default=[], help="only cases whose name contains this")
        parser.add_argument("--database", default="default")
        parser.add_argument("--admin", action="append", choices=list(benchmark.ADMINS), default=[],
                            help="only these admins (default: stock, tuned and fast)")
        parser.add_argument("--fastadmin", action="append", default=[], metavar="KEY=JSON",
                            help="override a FASTADMIN setting for the run, e.g. COMPILED_RESULT_LIST=false")

    def handle(self, *args, rows, repeat, chunk, json_path, case, database, admin, fastadmin, **options):
        if rows < benchmark.SMALL_ROWS:
            raise CommandError(f"--rows must be at least {benchmark.SMALL_ROWS:,}")
        if repeat < 1:
            raise CommandError("--repeat must be at least 1")
        cases = [c for c in benchmark.CASES if not case or any(s.lower() in c.name.lower() for s in case)]
        if not cases:
            raise CommandError("no case matches --case")
        overrides = {}
        for item in fastadmin:
            key, _, raw = item.partition("=")
            try:
                overrides[key] = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise CommandError(f"--fastadmin {item}: the value is not JSON ({exc})") from exc
        admins = [a for a in benchmark.ADMINS if not admin or a in admin]
        if "fast" not in admins:
            raise CommandError("--admin: fast is the reference of every ratio; include it")
        try:
            report = benchmark.run(
                rows, repeat=repeat, cases=cases, chunk=chunk, using=database, stream=self.stderr,
                admins=admins, fastadmin=overrides,
            )
        except benchmark.BenchmarkError as exc:
            raise CommandError(f"benchmark check failed: {exc}") from exc
        self.stdout.write("")
        self.stdout.write(bench_report.format_table(report))
        if json_path:
            bench_report.write_json(report, json_path)
            self.stdout.write(f"\nWrote {json_path}")
        if report["failures"]:  # measured what could be measured; the run still fails
            raise CommandError("benchmark check failed: " + "; ".join(report["failures"]))
