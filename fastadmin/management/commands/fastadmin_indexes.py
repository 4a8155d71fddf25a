"""``manage.py fastadmin_indexes``: the indexes fastadmin's admins need, with SQL; build or write them.

    manage.py fastadmin_indexes                  # list every planned index: present / MISSING / INVALID
    manage.py fastadmin_indexes --apply          # CREATE EXTENSION pg_trgm + CREATE INDEX CONCURRENTLY
    manage.py fastadmin_indexes --migration shop # write shop/migrations/NNNN_fastadmin_indexes.py

``--apply`` is safe to re-run: present indexes are skipped, and an INVALID index left by an
interrupted build is dropped and built again.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from fastadmin.search_index import operations
from fastadmin.search_index.catalog import has_trigram_extension, status
from fastadmin.search_index.plan import build_plan


class Command(BaseCommand):
    help = "List the indexes fastadmin's changelists need (with SQL); --apply builds them concurrently."

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true",
                            help="create missing/invalid indexes concurrently")
        parser.add_argument("--migration", metavar="APP",
                            help="write a migration creating APP's missing indexes")
        parser.add_argument("--name", default="fastadmin_indexes", help="migration name (with --migration)")
        parser.add_argument("--database", default="default")

    def handle(self, *args, apply: bool, migration: str | None, name: str, database: str, **options):
        if connections[database].vendor != "postgresql":
            raise CommandError(f"Database {database!r} is not PostgreSQL; the index plan is PostgreSQL-only.")
        plan = build_plan()
        statuses = status(plan, database)
        self._report(plan, statuses, database)
        if migration:
            self._write_migration(migration, [s.need for s in statuses if s.missing], name, database)
        if apply:
            self._apply(plan, statuses, database)

    def _report(self, plan, statuses, database) -> None:
        if plan.needs_trigram and not has_trigram_extension(database):
            self.stdout.write(self.style.WARNING("pg_trgm is not installed (CREATE EXTENSION pg_trgm)."))
        for item in statuses:
            need = item.need
            if item.present:
                label = self.style.SUCCESS(f"present ({item.present.name})")
            elif item.invalid:
                label = self.style.ERROR(f"INVALID ({', '.join(i.name for i in item.invalid)})")
            else:
                label = self.style.WARNING("MISSING")
            reasons = "; ".join(f"{type(admin).__name__}: {why}" for admin, why in need.reasons)
            self.stdout.write(f"{label}  {need.describe()}  — {reasons}")
            if item.missing:
                self.stdout.write(f"    {need.sql(database)}")
        for skipped in plan.skipped:
            self.stdout.write(
                f"not indexable  {type(skipped.model_admin).__name__}: {skipped.what} {skipped.reason}"
            )
        missing = sum(1 for s in statuses if s.missing)
        self.stdout.write(f"{len(statuses)} planned, {len(statuses) - missing} present, {missing} to build.")

    def _apply(self, plan, statuses, database) -> None:
        try:
            if plan.needs_trigram and operations.ensure_trigram_extension(database):
                self.stdout.write("Created extension pg_trgm.")
            built = operations.build(statuses, database, out=self.stdout.write)
        except operations.PlanError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Built {built} index(es); the plan is complete."))

    def _write_migration(self, app_label, needs, name, database) -> None:
        needs = [n for n in needs if n.model._meta.app_label == app_label]
        if not needs:
            self.stdout.write(f"No missing index on {app_label}'s tables: no migration written.")
            return
        path, source = operations.migration_for(app_label, needs, name=name, using=database)
        if path.exists():
            raise CommandError(f"{path} already exists.")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        self.stdout.write(self.style.SUCCESS(f"Wrote {path} ({len(needs)} index(es)); run migrate to apply."))
