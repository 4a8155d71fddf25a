"""fastadmin's own tables."""

from __future__ import annotations

from django.conf import settings
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


class Job(models.Model):
    """One run of a background action (:mod:`fastadmin.jobs`): who started what on which rows, and how far it got.

    ``selection`` is what produced the rows (the changelist's query string, the ids shown when the user
    ticked them, the page token), never the rows themselves. ``last_key`` (the primary key the last
    committed chunk ended at), ``done`` and ``errors`` are written in the same transaction as each chunk,
    so a killed worker's successor resumes after the last committed chunk: nothing lost, nothing repeated.
    ``runner`` names the task run that owns the job; ``heartbeat`` is refreshed by every chunk and lets
    the sweep (``fastadmin.tasks.sweep_jobs``) hand a silent job to a new run.
    """

    QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
    STATUSES = [(QUEUED, "queued"), (RUNNING, "running"), (DONE, "done"), (FAILED, "failed"),
                (CANCELLED, "cancelled")]
    ACTIVE = (QUEUED, RUNNING)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    site = models.CharField(max_length=100, help_text="Name of the admin site the action was started on.")
    model = models.CharField(max_length=100, help_text="label_lower of the model acted on, e.g. shop.order")
    action = models.CharField(max_length=200, help_text="Name of the action in the admin's get_actions().")
    description = models.CharField(max_length=300)
    selection = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    total = models.BigIntegerField(null=True, blank=True, help_text="Estimated rows when the job started.")
    done = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0, help_text="Rows left alone: protected, changed or refused.")
    rate = models.FloatField(null=True, blank=True, help_text="Rows per second since the job started running.")
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    last_key = models.JSONField(null=True, blank=True)
    runner = models.CharField(max_length=64, blank=True)
    heartbeat = models.DateTimeField(db_default=Now())
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(db_default=Now())
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "heartbeat"], name="fastadmin_job_active",
                                condition=Q(status__in=["queued", "running"]))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description}"

    def progress(self) -> dict:
        """The job page's JSON: ``{"status", "done", "total", "rate", "errors"}`` (plus skipped/error_count)."""
        return {"status": self.status, "done": self.done, "total": self.total, "rate": self.rate,
                "errors": self.errors, "skipped": self.skipped, "error_count": self.error_count}
