"""Drain the outbox into Meilisearch: claim, re-read, send, wait for the task, then delete the rows.

One batch is one transaction:

1. ``pg_advisory_xact_lock`` on the model's index: batches of one index run one after another, so
   a later batch always reads the rows later than an earlier one and its Meilisearch task is
   enqueued after it — the same row changed twice ends with its latest state.
2. claim up to ``batch_size`` pending rows by state, ``FOR UPDATE SKIP LOCKED`` (never "id > last
   seen": ids are assigned before commit, so they commit out of order);
3. re-read the current rows from the database (a missing row is a delete);
4. send the upserts and deletes and wait until Meilisearch reports each task ``succeeded``;
5. mark the claimed outbox rows done and commit (:func:`purge_done` deletes them later).

A worker killed anywhere before 5 rolls the transaction back: the rows stay and the next drain or
the periodic sweep sends them again (upserts and deletes are idempotent). A failure (Meilisearch
down, a failed task) pushes the batch's ``not_before`` back exponentially.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from . import sidecar
from .documents import PRIMARY_KEY, IndexSpec, registry

logger = logging.getLogger("fastadmin.search_index")

#: Longest pause (seconds) between two attempts of a failing batch.
MAX_BACKOFF_S = 300


class SyncError(Exception):
    """Meilisearch did not apply a batch (unreachable, or its task failed)."""


@dataclass
class DrainResult:
    sent: int = 0  # outbox rows completed
    upserts: int = 0
    deletes: int = 0
    failed: list[str] = field(default_factory=list)  # labels whose batch failed (retried later)


def _outbox():
    from fastadmin.models import SearchOutbox

    return SearchOutbox


def pending_labels(using: str) -> list[str]:
    return list(
        _outbox().objects.using(using).pending().filter(not_before__lte=timezone.now())
        .order_by().values_list("model", flat=True).distinct()
    )


def drain(batch_size: int = 500, max_batches: int | None = None, using: str | None = None) -> DrainResult:
    """Send every due outbox row; stops a model at its first failing batch. Safe to run concurrently."""
    using = using or router.db_for_write(_outbox())
    result = DrainResult()
    specs = registry()
    for label in pending_labels(using):
        spec = specs.get(label)
        batches = 0
        while max_batches is None or batches < max_batches:
            batches += 1
            try:
                done = _drain_batch(label, spec, batch_size, using, result)
            except SyncError as exc:
                logger.warning("Search sync of %s failed, retrying later: %s", label, exc)
                result.failed.append(label)
                break
            if done < batch_size:
                break
    return result


def _drain_batch(label: str, spec: IndexSpec | None, batch_size: int, using: str, result: DrainResult) -> int:
    """One claimed batch of ``label``; returns how many rows it claimed."""
    table = connections[using].ops.quote_name(_outbox()._meta.db_table)
    failed_ids: list[int] = []
    try:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"fastadmin.search:{label}"])
            cursor.execute(
                f"SELECT id, object_pk FROM {table} WHERE model = %s AND done_at IS NULL "
                "AND not_before <= statement_timestamp() "
                "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                [label, batch_size],
            )
            claimed = cursor.fetchall()
            if not claimed:
                return 0
            ids = [row[0] for row in claimed]
            if spec is not None:  # None: no admin indexes the model any more; the rows are dropped
                failed_ids = ids
                _send(spec, list(dict.fromkeys(row[1] for row in claimed)), using, result)
            cursor.execute(f"UPDATE {table} SET done_at = statement_timestamp() WHERE id = ANY(%s)", [ids])
            result.sent += len(ids)
            return len(ids)
    except SyncError:
        _back_off(failed_ids, using)
        raise


def _send(spec: IndexSpec, keys: list[str], using: str, result: DrainResult) -> None:
    pk_field = spec.model._meta.pk
    pks = [pk_field.to_python(key) for key in keys]
    docs = spec.documents(pks, using=using)
    present = {str(doc[PRIMARY_KEY]) for doc in docs}
    missing = [key for key in keys if key not in present]
    try:
        client = sidecar.client()
        index = ensure_index(client, spec)
        if docs:
            wait_task(client, index.add_documents(docs, primary_key=PRIMARY_KEY))
            result.upserts += len(docs)
        if missing:
            wait_task(client, index.delete_documents(filter=delete_filter(spec, missing)))
            result.deletes += len(missing)
    except SyncError:
        raise
    except Exception as exc:
        raise SyncError(sidecar.safe_error(exc)) from exc


def delete_filter(spec: IndexSpec, keys: list[str]) -> str:
    """``pk IN [1, 2]`` (integers bare, other keys quoted): ids-based deletes are deprecated."""
    from django.db.models import AutoField, BigAutoField, IntegerField

    numeric = isinstance(spec.model._meta.pk, AutoField | BigAutoField | IntegerField)
    values = ", ".join(k if numeric else '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys)
    return f"{PRIMARY_KEY} IN [{values}]"


def wait_task(client: Any, task_info: Any) -> Any:
    """Block until Meilisearch finishes the task (at most TIMEOUT_S); anything but succeeded raises."""
    task = client.wait_for_task(task_info.task_uid, timeout_in_ms=sidecar.timeout_ms(), interval_in_ms=50)
    if task.status != "succeeded":
        raise SyncError(f"Meilisearch task {task.uid} ({task.type}) {task.status}: {task.error}")
    return task


#: index uid -> settings last applied by this process (idempotent: compared, sent only on change).
_applied: dict[str, dict[str, Any]] = {}


def ensure_index(client: Any, spec: IndexSpec) -> Any:
    """The model's index, created with its primary key and settings before the first document."""
    uid = sidecar.index_uid(spec.model)
    wanted = spec.settings()
    if _applied.get(uid) == wanted:
        return client.index(uid)
    return apply_settings(client, uid, spec)


def apply_settings(client: Any, uid: str, spec: IndexSpec) -> Any:
    import meilisearch.errors

    wanted = spec.settings()
    try:
        client.get_raw_index(uid)
    except meilisearch.errors.MeilisearchApiError as exc:
        if exc.code != "index_not_found":
            raise
        wait_task(client, client.create_index(uid, {"primaryKey": PRIMARY_KEY}))
    index = client.index(uid)
    current = index.get_settings()
    if any(_normal(key, current.get(key)) != _normal(key, value) for key, value in wanted.items()):
        wait_task(client, index.update_settings(wanted))
    _applied[uid] = wanted
    return index


def _normal(key: str, value: Any) -> Any:
    """Filterable and sortable attributes are sets; searchable ones are ranked in order."""
    return sorted(value) if key != "searchableAttributes" and isinstance(value, list) else value


def _back_off(ids: list[int], using: str) -> None:
    """Push a failed batch back: 2, 4, 8 ... seconds, at most :data:`MAX_BACKOFF_S`."""
    if not ids:
        return
    table = connections[using].ops.quote_name(_outbox()._meta.db_table)
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET attempts = attempts + 1, "
            "not_before = statement_timestamp() + least(%s, power(2, attempts + 1)) * interval '1 second' "
            "WHERE id = ANY(%s)",
            [MAX_BACKOFF_S, ids],
        )


#: Seconds done outbox rows are kept (a reindex running longer keeps them until it ends).
DONE_RETENTION_S = 3600


def purge_done(using: str | None = None, retention_s: int = DONE_RETENTION_S) -> int:
    """Delete rows done more than ``retention_s`` ago, except for models being reindexed."""
    from .reindex import reindex_lock_key

    using = using or router.db_for_write(_outbox())
    table = connections[using].ops.quote_name(_outbox()._meta.db_table)
    deleted = 0
    labels = _outbox().objects.using(using).filter(done_at__isnull=False).values_list("model", flat=True)
    for label in set(labels):
        # A transaction lock, tried inside the DELETE's own transaction: it conflicts with the
        # reindex's lock and needs no unlock (a session lock would not survive a transaction pooler).
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [reindex_lock_key(label)])
            if not cursor.fetchone()[0]:
                continue  # a reindex will replay these rows
            cursor.execute(
                f"DELETE FROM {table} WHERE model = %s AND done_at < statement_timestamp() - %s * interval "
                "'1 second'", [label, retention_s])
            deleted += cursor.rowcount
    return deleted
