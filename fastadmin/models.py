"""fastadmin's own tables."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class SearchOutboxQuerySet(models.QuerySet):
    def pending(self) -> SearchOutboxQuerySet:
        return self.filter(done_at__isnull=True)


class SearchOutbox(models.Model):
    """One row changed in a transaction, waiting to reach the search index (the transactional outbox).

    Written in the same transaction as the change (so a rollback leaves nothing) and marked done
    (``done_at``) by the drain only after Meilisearch reports the index task succeeded. Done rows are
    kept for a while (a reindex replays those done since it started), then purged by the sweep.
    Defaults live in the database so the bulk paths can ``INSERT ... SELECT`` without Python per row.
    """

    UPSERT = "upsert"
    DELETE = "delete"

    model = models.CharField(max_length=100)  # label_lower, e.g. "shop.lead"
    object_pk = models.CharField(max_length=64)
    op = models.CharField(max_length=6, choices=[(UPSERT, "upsert"), (DELETE, "delete")])
    created = models.DateTimeField(db_default=Now())
    attempts = models.PositiveIntegerField(db_default=0)
    # Backoff after a failed drain: the row is not claimed before this moment.
    not_before = models.DateTimeField(db_default=Now())
    done_at = models.DateTimeField(null=True, blank=True)

    objects = SearchOutboxQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["model", "not_before", "id"], name="fastadmin_outbox_claim",
                         condition=Q(done_at__isnull=True)),
            models.Index(fields=["model", "done_at"], name="fastadmin_outbox_done",
                         condition=Q(done_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.op} {self.model} {self.object_pk}"
