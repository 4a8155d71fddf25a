"""The worker side of a background action: one task run walks the job's selection in keyset chunks.

* **Claim.** A run takes the job with one conditional ``UPDATE``: a queued job, or a running one whose
  heartbeat is older than ``JOB_HEARTBEAT_TIMEOUT_S`` (its worker died). It writes its own ``runner``
  id; a duplicate message, or the sweep's re-enqueue of a job that is in fact alive, claims nothing.
* **Chunks.** The next chunk ends at the ``BACKGROUND_CHUNK_SIZE``-th key after ``last_key`` (an
  index-ordered read of the selection by pk). Then, in one transaction: lock the job row, check it is
  still this run's, still running and still at ``last_key`` (else stop: cancelled or taken over), run
  the strategy on ``pk > last_key AND pk <= end`` (the stale-selection check first when the selection
  came from a page), and write ``last_key = end``, the counts, errors and the heartbeat. The chunk
  and its checkpoint commit or vanish together: a SIGKILL loses nothing and repeats nothing.
* **Chunk size.** The first chunk has ``BACKGROUND_CHUNK_SIZE`` rows; the next doubles while a chunk
  takes under :data:`CHUNK_BUDGET` of the heartbeat timeout (up to :data:`MAX_CHUNK_GROWTH` times the
  setting) and halves when one takes longer, so a fast table pays the per-chunk round trips and commits
  less often, and a slow one still heartbeats well within the timeout. With ``BACKGROUND_CHUNK_PAUSE_S``
  set (a throttled job) every chunk keeps the configured size.
* **Commit.** Chunk transactions commit with ``synchronous_commit = off`` (``SET LOCAL``): the commit
  does not wait for its WAL flush. A crash of the *database server* may then lose the last chunks'
  commits, but each such commit holds both the rows and the checkpoint that records them, so the two
  are lost together and the resumed job redoes exactly those chunks: nothing is lost, nothing repeated
  (a worker's SIGKILL loses nothing at all; its commits were made by the server).
* **Sweep.** :func:`sweep` (beat, every ``JOB_SWEEP_INTERVAL_S``) enqueues active jobs whose heartbeat
  is stale, at most once per timeout each; the claim above sorts out who runs them.

Limits: the selection is what its filters match when each chunk runs (rows that enter or leave the
filter meanwhile are acted on or not accordingly); a chunk must take less than the heartbeat timeout.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from datetime import timedelta
from operator import or_
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connections, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce, Now

from ..conf import fa_settings
from ..fields import version_field
from ..locking.actions import split_stale
from ..models import Job
from .selection import JobRefused, Work, rebuild
from .strategies import ChunkResult, error

logger = logging.getLogger("fastadmin.jobs")

#: Most entries ``Job.errors`` keeps (``error_count`` counts them all).
MAX_ERRORS = 50
#: A chunk grows while it takes less than this share of ``JOB_HEARTBEAT_TIMEOUT_S`` and shrinks above it.
CHUNK_BUDGET = 0.1
#: Most a chunk grows to, as a multiple of ``BACKGROUND_CHUNK_SIZE``.
MAX_CHUNK_GROWTH = 10


def stale_before() -> Any:
    from django.utils import timezone

    return timezone.now() - timedelta(seconds=fa_settings.JOB_HEARTBEAT_TIMEOUT_S)


def claim(job_id: int, runner: str) -> Job | None:
    """The job, now owned by ``runner``; None when it is not queued and not abandoned."""
    claimable = Q(status=Job.QUEUED) | Q(status=Job.RUNNING, heartbeat__lt=stale_before())
    taken = Job.objects.filter(claimable, pk=job_id).update(
        status=Job.RUNNING, runner=runner, heartbeat=Now(), started_at=Coalesce("started_at", Now()))
    return Job.objects.select_related("user").get(pk=job_id) if taken else None


def run(job_id: int) -> str:
    """One task run of a job; returns how it ended (for the worker's log)."""
    runner = uuid.uuid4().hex
    job = claim(job_id, runner)
    if job is None:
        return "not claimed"
    try:
        work = rebuild(job)
    except JobRefused as exc:
        return finish(job, Job.FAILED, str(exc))
    except Exception as exc:  # a bug or a vanished table: the job says so, the worker goes on
        logger.exception("Job %s could not start", job_id)
        return finish(job, Job.FAILED, f"The job could not start: {exc!r}")
    try:
        return walk(work, runner)
    except Exception as exc:
        logger.exception("Job %s failed", job_id)
        return finish(job, Job.FAILED, f"The job failed: {exc!r}")


def walk(work: Work, runner: str) -> str:
    job, pk_field = work.job, work.model._meta.pk
    size = base = fa_settings.BACKGROUND_CHUNK_SIZE
    budget = fa_settings.JOB_HEARTBEAT_TIMEOUT_S * CHUNK_BUDGET
    keys = work.queryset.order_by("pk").values_list("pk", flat=True)
    began, done_here = time.monotonic(), 0
    while True:
        last = None if job.last_key is None else pk_field.to_python(job.last_key)
        window = keys if last is None else keys.filter(pk__gt=last)
        end = next(iter(window[size - 1:size]), None)
        chunk = work.queryset if last is None else work.queryset.filter(pk__gt=last)
        if end is not None:
            chunk = chunk.filter(pk__lte=end)
        started, outermost = time.monotonic(), not connections[work.using].in_atomic_block
        with transaction.atomic(using=work.using):
            if outermost:  # inside a caller's transaction, SET LOCAL would reach past the chunk
                relax_commit(work.using)
            row = Job.objects.select_for_update().filter(pk=job.pk).values("status", "runner", "last_key").first()
            if row is None or row["status"] != Job.RUNNING or row["runner"] != runner \
                    or row["last_key"] != job.last_key:
                return "stopped: " + (row["status"] if row else "deleted")
            result = run_chunk(work, chunk)
            done_here += result.done
            checkpoint(job, result, end, last, done_here / max(time.monotonic() - began, 1e-6))
        if not fa_settings.BACKGROUND_CHUNK_PAUSE_S:
            size = next_size(size, base, time.monotonic() - started, budget)
        if end is None:
            log(job, f"Finished: {job.done:,} rows {work.strategy.verb}, {job.skipped:,} skipped.")
            return Job.DONE
        if fa_settings.BACKGROUND_CHUNK_PAUSE_S:
            time.sleep(fa_settings.BACKGROUND_CHUNK_PAUSE_S)


def next_size(size: int, base: int, took: float, budget: float) -> int:
    """The next chunk's size: doubled under half the budget, halved over it (see the module docstring)."""
    if took < budget / 2:
        return min(size * 2, base * MAX_CHUNK_GROWTH)
    if took > budget:
        return max(size // 2, base)
    return size


def relax_commit(using: str) -> None:
    """``SET LOCAL synchronous_commit = off`` for this chunk's transaction (why: module docstring)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def run_chunk(work: Work, chunk: Any) -> ChunkResult:
    """The strategy on the chunk; first, with a page token, rows changed since the page are left out."""
    if work.page is None:
        return work.strategy.run_chunk(work, chunk)
    fresh, stale = split_stale(work.model, chunk, work.page, work.using)
    narrowed = chunk.filter(pk__in=[pk for pk, _v in fresh])
    vf = version_field(work.model)
    if vf and fresh:  # compare-and-set on the versions the page showed, as the request's guard does
        narrowed = narrowed.filter(functools.reduce(or_, (Q(pk=pk, **{vf.attname: v}) for pk, v in fresh)))
    result = work.strategy.run_chunk(work, narrowed) if fresh else ChunkResult(0)
    if stale:
        result.skipped += len(stale)
        result.errors.append(error("Skipped: changed since the page was shown.", stale))
    return result


def checkpoint(job: Job, result: ChunkResult, end: Any, last: Any, rate: float) -> None:
    """The chunk's counts, errors and ``last_key`` (and ``done`` after the last chunk), in its transaction."""
    for entry in result.errors:
        entry["chunk"] = [None if last is None else str(last), None if end is None else str(end)]
    job.done += result.done
    job.skipped += result.skipped
    job.error_count += len(result.errors)
    job.errors = (job.errors + result.errors)[:MAX_ERRORS]
    job.rate = round(rate, 1)
    fields = ["done", "skipped", "error_count", "errors", "rate", "heartbeat"]
    from django.utils import timezone

    job.heartbeat = timezone.now()
    if end is None:
        job.status, job.finished_at = Job.DONE, timezone.now()
        fields += ["status", "finished_at"]
    else:
        job.last_key = end if isinstance(end, int) else str(end)
        fields.append("last_key")
    job.save(update_fields=fields)


def finish(job: Job, status: str, message: str) -> str:
    """End the job with ``status`` unless it ended already (cancelled meanwhile); logs the message."""
    entry = error(message)
    updated = Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).update(
        status=status, finished_at=Now(), errors=[*job.errors, entry][-MAX_ERRORS:], error_count=job.error_count + 1)
    if updated:
        log(job, message)
    return status


def log(job: Job, message: str) -> None:
    """An admin log entry on the job (``LogEntry``), as the user who started it."""
    if job.user_id is not None:
        LogEntry.objects.log_actions(job.user_id, [job], CHANGE, change_message=message, single_object=True)


def sweep() -> list[int]:
    """Enqueue active jobs whose heartbeat is stale (see the module docstring); their ids."""
    from .launch import enqueue

    stale = stale_before()
    ids = list(Job.objects.filter(status__in=Job.ACTIVE, heartbeat__lt=stale)
               .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale)).values_list("pk", flat=True))
    for job_id in ids:
        Job.objects.filter(pk=job_id).update(enqueued_at=Now())
        enqueue(job_id)
    return ids


def cancel(job: Job, user: Any) -> bool:
    """Mark an active job cancelled (the run stops before its next chunk); False if it had ended."""
    if not Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).update(status=Job.CANCELLED, finished_at=Now()):
        return False
    LogEntry.objects.log_actions(user.pk, [job], CHANGE, change_message="Cancelled.", single_object=True)
    return True
