"""Zero-downtime reindex of one model, and the drift check (``manage.py search_reindex``).

:func:`reindex`:

1. refuse if another reindex of the model runs (:func:`reindex_lock`, held throughout);
2. note the database clock ``t0``;
3. build ``<index>__reindex``: primary key and settings first, then the rows in keyset-ordered
   batches (``pk > last ORDER BY pk LIMIT n``), each add task waited for; the live index keeps
   serving and the drain keeps updating it meanwhile;
4. under the model's drain lock (no drain interleaves): replay every outbox row pending or done
   since ``t0`` into the new index (re-read, upsert or delete), so writes made during the build are
   present — a row committed after the build read it is, by construction, in one of those sets;
5. swap the two with the swap-indexes API and wait for the swap *task* (a swap naming a missing
   index fails as a task, not at request time), then delete the old index.

:func:`check` compares every id in the database with every id in the index and a sample of
documents field by field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model

from . import sidecar
from .documents import PRIMARY_KEY, IndexSpec, spec_for
from .drain import SyncError, apply_settings, delete_filter, wait_task

Progress = Callable[[int, int], None]


class ReindexBusy(Exception):
    """Another reindex of the same model holds its lock."""


def reindex_lock_key(label: str) -> str:
    return f"fastadmin.reindex:{label}"


@contextmanager
def reindex_lock(label: str, using: str) -> Iterator[bool]:
    """Hold the model's reindex lock for the block; yields False when another process holds it.

    The lock is a *transaction* advisory lock kept in an open transaction on a connection of its
    own, not a session lock: behind a transaction-mode pooler (PgBouncer) consecutive statements of
    one client may run on different server connections, so a session lock would be taken on one
    backend, "released" on another, and leak to whichever client gets the first one next. An open
    transaction pins its server connection, and a crashed process's transaction is rolled back, so
    the lock cannot outlive its holder. The transaction takes no snapshot between statements (READ
    COMMITTED) and writes nothing, so it does not hold back VACUUM while a long reindex runs.
    """
    connection = connections.create_connection(using)
    try:
        connection.set_autocommit(False)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [reindex_lock_key(label)])
            acquired = cursor.fetchone()[0]
        yield acquired
    finally:
        try:
            connection.rollback()
        finally:
            connection.close()


@dataclass
class ReindexResult:
    label: str
    indexed: int = 0
    replayed: int = 0


@dataclass
class Drift:
    label: str
    missing: list[str] = field(default_factory=list)  # in the database, not in the index
    extra: list[str] = field(default_factory=list)  # in the index, not in the database
    different: list[str] = field(default_factory=list)  # sampled documents that differ

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different)


def _spec(model: type[Model]) -> IndexSpec:
    spec = spec_for(model)
    if spec is None:
        raise ValueError(f"{model._meta.label} is not searched through Meilisearch by any fastadmin admin.")
    return spec


def keyset_batches(spec: IndexSpec, batch_size: int, using: str) -> Iterator[list[Any]]:
    """Primary keys in ascending batches: ``WHERE pk > last ORDER BY pk LIMIT n`` (an index seek)."""
    manager = spec.model._base_manager.db_manager(using)
    last = None
    while True:
        queryset = manager.order_by("pk")
        if last is not None:
            queryset = queryset.filter(pk__gt=last)
        keys = list(queryset.values_list("pk", flat=True)[:batch_size])
        if not keys:
            return
        yield keys
        last = keys[-1]


def reindex(model: type[Model], *, batch_size: int = 1000, progress: Progress | None = None,
            using: str | None = None) -> ReindexResult:
    spec = _spec(model)
    using = using or router.db_for_write(model)
    with reindex_lock(spec.label, using) as acquired:
        if not acquired:
            raise ReindexBusy(f"A reindex of {spec.model._meta.label} is already running; wait for it to finish.")
        return _reindex(spec, batch_size, progress, using)


def _reindex(spec: IndexSpec, batch_size: int, progress: Progress | None, using: str) -> ReindexResult:
    import meilisearch.errors

    client = sidecar.client()
    live = sidecar.index_uid(spec.model)
    fresh = f"{live}__reindex"
    result = ReindexResult(spec.label)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        t0 = cursor.fetchone()[0]
    try:
        wait_task(client, client.delete_index(fresh))  # left over by a reindex that crashed
    except (SyncError, meilisearch.errors.MeilisearchApiError):
        pass
    index = apply_settings(client, fresh, spec)  # primary key + settings before the first import
    total = spec.model._base_manager.db_manager(using).count()
    for keys in keyset_batches(spec, batch_size, using):
        docs = spec.documents(keys, using=using)
        if docs:
            wait_task(client, index.add_documents(docs, primary_key=PRIMARY_KEY))
        result.indexed += len(docs)
        if progress:
            progress(result.indexed, total)
    apply_settings(client, live, spec)  # the live index exists (a swap with a missing one fails)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"fastadmin.search:{spec.label}"])
        from fastadmin.models import SearchOutbox

        changed = list(
            SearchOutbox.objects.using(using).filter(model=spec.label)
            .filter(done_at__isnull=True).union(
                SearchOutbox.objects.using(using).filter(model=spec.label, done_at__gte=t0))
            .values_list("object_pk", flat=True)
        )
        changed = list(dict.fromkeys(changed))
        for start in range(0, len(changed), batch_size):
            chunk = changed[start: start + batch_size]
            result.replayed += _replay(client, index, spec, chunk, using)
        swap = client.swap_indexes([{"indexes": [live, fresh]}])
        wait_task(client, swap)
    wait_task(client, client.delete_index(fresh))  # now the old index
    return result


def _replay(client: Any, index: Any, spec: IndexSpec, keys: list[str], using: str) -> int:
    pk_field = spec.model._meta.pk
    docs = spec.documents([pk_field.to_python(k) for k in keys], using=using)
    present = {str(doc[PRIMARY_KEY]) for doc in docs}
    missing = [k for k in keys if k not in present]
    if docs:
        wait_task(client, index.add_documents(docs, primary_key=PRIMARY_KEY))
    if missing:
        wait_task(client, index.delete_documents(filter=delete_filter(spec, missing)))
    return len(keys)


def check(model: type[Model], *, sample: int = 100, batch_size: int = 1000, using: str | None = None) -> Drift:
    """Database and index compared: all ids, and ``sample`` documents field by field."""
    spec = _spec(model)
    using = using or router.db_for_read(model)
    index = sidecar.client().index(sidecar.index_uid(model))
    db_ids = {str(pk) for keys in keyset_batches(spec, batch_size, using) for pk in keys}
    index_ids: set[str] = set()
    offset = 0
    while True:
        page = index.get_documents({"fields": [PRIMARY_KEY], "limit": batch_size, "offset": offset})
        index_ids |= {str(dict(doc)[PRIMARY_KEY]) for doc in page.results}
        offset += len(page.results)
        if not page.results or offset >= page.total:
            break
    drift = Drift(spec.label, sorted(db_ids - index_ids), sorted(index_ids - db_ids))
    common = sorted(db_ids & index_ids)[:sample]
    if common:
        pk_field = spec.model._meta.pk
        expected = {str(d[PRIMARY_KEY]): d for d in spec.documents([pk_field.to_python(k) for k in common], using)}
        stored = index.get_documents({"filter": delete_filter(spec, common), "limit": len(common)})
        for doc in stored.results:
            doc = dict(doc)
            if expected.get(str(doc[PRIMARY_KEY])) != doc:
                drift.different.append(str(doc[PRIMARY_KEY]))
    return drift
