"""``manage.py seed --rows N``: (re)load N orders, N leads and N/10 customers, fast.

See :mod:`shop.seeding` for how (server-side ``generate_series``, indexes rebuilt once at the end).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from shop import seeding
from shop.management.commands.demo_user import ensure_demo_user


class Command(BaseCommand):
    help = "Load N orders, N leads and N/10 customers of realistic demo data (server-side, in chunks)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000, help="orders (and leads) to create")
        parser.add_argument("--chunk", type=int, default=100_000, help="rows per INSERT statement")
        parser.add_argument(
            "--truncate",
            action="store_true",
            default=True,
            help="empty the shop tables first (TRUNCATE ... RESTART IDENTITY CASCADE); the default",
        )
        parser.add_argument(
            "--no-truncate", dest="truncate", action="store_false", help="append to the existing rows"
        )
        parser.add_argument(
            "--if-needed",
            action="store_true",
            help="seed only when the shop tables are empty; never replace a seeded or edited database",
        )
        parser.add_argument("--with-user", action="store_true", help="also create the admin/admin superuser")
        parser.add_argument("--database", default="default")

    def handle(self, *args, rows, chunk, truncate, if_needed, with_user, database, **options):
        if rows < 1:
            raise CommandError("--rows must be at least 1")
        go, why = seeding.seed_state(rows, using=database) if if_needed else (True, "")
        if not go:
            self.stdout.write(why)
        else:
            if truncate and not if_needed:
                self.stderr.write("Replacing every row of the shop tables (TRUNCATE ... RESTART IDENTITY CASCADE).")
            result = seeding.seed(rows, chunk=chunk, truncate=truncate, using=database, stream=self.stderr)
            if truncate:  # the tables hold exactly this seed (appended rows are not one)
                seeding.record_seed(rows, using=database)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Seeded {result.customers:,} customers, {result.orders:,} orders and {result.leads:,} "
                    f"leads in {result.seconds:.1f}s."
                )
            )
        if with_user:
            self.stdout.write(ensure_demo_user(using=database))
