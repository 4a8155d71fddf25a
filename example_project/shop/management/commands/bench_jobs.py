"""``manage.py bench_jobs``: background update_action and delete_selected at full size (:mod:`shop.jobs_benchmark`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from shop import jobs_benchmark


class Command(BaseCommand):
    help = "Time a background update_action over N orders (select-across) and a background delete with cascades."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000, help="orders the update job selects (0: skip)")
        parser.add_argument("--delete", type=int, default=100_000, help="orders the delete job selects (0: skip)")
        parser.add_argument("--repeat", type=int, default=3, help="timed update rounds")

    def handle(self, *args, rows, delete, repeat, **options):
        if rows < 0 or delete < 0 or repeat < 1:
            raise CommandError("--rows and --delete must be >= 0, --repeat >= 1")
        try:
            jobs_benchmark.run(rows, delete, repeat, self.stdout)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
