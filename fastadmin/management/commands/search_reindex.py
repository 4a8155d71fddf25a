"""``manage.py search_reindex``: rebuild Meilisearch indexes without downtime, or check them.

    manage.py search_reindex                     # every model searched through Meilisearch
    manage.py search_reindex shop.Lead shop.Order
    manage.py search_reindex --check             # drift report; exit status 1 when there is drift

See :mod:`fastadmin.search_index.reindex` for what a reindex does and guarantees.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from fastadmin.search_index import sidecar
from fastadmin.search_index.documents import registry
from fastadmin.search_index.drain import SyncError
from fastadmin.search_index.reindex import ReindexBusy, check, reindex


class Command(BaseCommand):
    help = "Rebuild the Meilisearch indexes of fastadmin admins (zero downtime), or --check them for drift."

    def add_arguments(self, parser):
        parser.add_argument("models", nargs="*", metavar="app_label.Model")
        parser.add_argument("--check", action="store_true", help="compare database and index; exit 1 on drift")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--sample", type=int, default=100, help="documents compared field by field (--check)")

    def handle(self, *args, models: list[str], check: bool, batch_size: int, sample: int, **options):
        if not sidecar.enabled():
            raise CommandError("FASTADMIN['MEILISEARCH'] is not configured.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        targets = [self._model(name) for name in models] or [spec.model for spec in registry().values()]
        drifted = False
        for model in targets:
            try:
                if check:
                    drifted |= not self._check(model, sample, batch_size)
                else:
                    self._reindex(model, batch_size)
            except (ReindexBusy, ValueError, SyncError) as exc:
                raise CommandError(str(exc)) from exc
        if drifted:
            raise CommandError("The index differs from the database; run `manage.py search_reindex`.",
                               returncode=1)

    def _model(self, name: str):
        try:
            return apps.get_model(name)
        except (LookupError, ValueError) as exc:
            raise CommandError(f"{name!r} is not a model (app_label.Model): {exc}") from exc

    def _reindex(self, model, batch_size: int) -> None:
        label = model._meta.label

        def progress(done: int, total: int) -> None:
            width = 30
            filled = width * done // total if total else width
            self.stdout.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}", ending="")
            self.stdout.flush()

        result = reindex(model, batch_size=batch_size, progress=progress)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"{label}: {result.indexed:,} documents indexed, {result.replayed:,} changes replayed, index swapped."))

    def _check(self, model, sample: int, batch_size: int) -> bool:
        drift = check(model, sample=sample, batch_size=batch_size)
        label = model._meta.label
        if drift.ok:
            self.stdout.write(self.style.SUCCESS(f"{label}: index matches the database."))
            return True
        for title, ids in (("missing from the index", drift.missing), ("in the index, not the database", drift.extra),
                           ("documents differing", drift.different)):
            if ids:
                shown = ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else "")
                self.stdout.write(self.style.ERROR(f"{label}: {len(ids):,} {title}: {shown}"))
        return False
