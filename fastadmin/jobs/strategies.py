"""What one chunk of a background action does: the :class:`BackgroundAction` contract and the built-ins.

A strategy's :meth:`~BackgroundAction.run_chunk` is called by :mod:`fastadmin.jobs.runner` inside the
chunk's transaction, after the job row was locked and found still owned by this run. It must write
only through that transaction's connection (``work.using``) and must not commit: the runner commits
the chunk together with the job's checkpoint, which is what makes a killed worker neither lose nor
repeat a chunk. It may open savepoints (``transaction.atomic``) to leave some rows alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.db import IntegrityError, connections, models, transaction
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.db.models.deletion import get_candidate_relations_to_delete

if TYPE_CHECKING:
    from .selection import Work

#: The attribute on an action function that holds its :class:`BackgroundAction` (copied by
#: ``functools.wraps``, so the locking guard's wrapper carries it too).
MARKER = "fastadmin_background"
#: Most row keys one error entry names (the count says how many there were).
KEYS_PER_ERROR = 20


def marked(strategy: BackgroundAction) -> Callable[[Callable], Callable]:
    """Decorator: the action can run in the background, each chunk through ``strategy``."""

    def mark(func: Callable) -> Callable:
        setattr(func, MARKER, strategy)
        return func

    return mark


@dataclass
class ChunkResult:
    """``done``: rows the action applied to; ``skipped``: rows left alone; ``errors``: what to report."""

    done: int
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def error(message: str, keys: list | None = None) -> dict[str, Any]:
    """One entry of ``Job.errors`` (the runner adds the chunk's key range)."""
    keys = keys or []
    return {"message": message, "count": len(keys), "keys": [str(k) for k in keys[:KEYS_PER_ERROR]]}


class BackgroundAction:
    """The contract (see the module docstring): ``run_chunk(work, chunk) -> ChunkResult``."""

    #: Past participle for messages ("12 orders updated").
    verb = "processed"

    def run_chunk(self, work: Work, chunk: QuerySet) -> ChunkResult:
        raise NotImplementedError


class UpdateRows(BackgroundAction):
    """``fastadmin.update_action``'s values as one ``UPDATE … WHERE`` per chunk (:func:`fastadmin.update_rows`)."""

    verb = "updated"

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def run_chunk(self, work: Work, chunk: QuerySet) -> ChunkResult:
        from ..bulk import update_rows

        if chunk.query.distinct:  # UPDATE cannot carry DISTINCT (a search across a to-many relation)
            chunk = work.model._base_manager.using(work.using).filter(pk__in=chunk.values("pk"))
        return ChunkResult(update_rows(chunk, **self.values))


class DeleteRows(BackgroundAction):
    """``delete_selected`` per chunk through the admin's ``log_deletions``/``delete_queryset`` (Django's
    collector: ``CASCADE``, ``SET_NULL``, … as configured). Rows a ``PROTECT`` relation points at are
    left out first (one query per such relation); rows refused deeper in the cascade (``PROTECT``,
    ``RESTRICT``, a deferred constraint) are found by halving the chunk, each half in a savepoint.
    Left-out rows are reported as errors, and the job goes on."""

    verb = "deleted"

    def run_chunk(self, work: Work, chunk: QuerySet) -> ChunkResult:
        pks = list(chunk.order_by("pk").values_list("pk", flat=True))
        result = ChunkResult(0)
        for message, protected in self.directly_protected(work, pks):
            result.errors.append(error(message, protected))
            result.skipped += len(protected)
            gone = set(protected)
            pks = [pk for pk in pks if pk not in gone]
        base = work.modeladmin.get_queryset(work.request).using(work.using).order_by()
        self.delete(work, base, pks, result)
        return result

    @staticmethod
    def directly_protected(work: Work, pks: list) -> list[tuple[str, list]]:
        """``(message, keys)`` per ``PROTECT`` relation to the model that points at some of ``pks``."""
        found = []
        for relation in get_candidate_relations_to_delete(work.model._meta):
            fk = relation.field
            if relation.on_delete is not models.PROTECT or fk.target_field != work.model._meta.pk:
                continue
            keys = set(relation.related_model._base_manager.using(work.using)
                       .filter(**{f"{fk.name}__in": pks}).values_list(fk.attname, flat=True).distinct())
            if keys:
                found.append((f"Protected: {relation.related_model._meta.verbose_name_plural} refer to these "
                              f"{work.model._meta.verbose_name_plural} ({fk.model._meta.label}.{fk.name}, "
                              "on_delete=PROTECT); they were not deleted.", sorted(keys)))
        return found

    def delete(self, work: Work, base: QuerySet, pks: list, result: ChunkResult) -> None:
        if not pks:
            return
        try:
            with transaction.atomic(using=work.using):
                rows = base.filter(pk__in=pks)
                work.modeladmin.log_deletions(work.request, rows)
                work.modeladmin.delete_queryset(work.request, rows)
                connection = connections[work.using]
                if connection.vendor == "postgresql":
                    connection.check_constraints()  # a deferred violation fails this savepoint, not the job
        except (ProtectedError, RestrictedError, IntegrityError) as exc:
            if len(pks) > 1:
                half = len(pks) // 2
                self.delete(work, base, pks[:half], result)
                self.delete(work, base, pks[half:], result)
                return
            message = exc.args[0] if exc.args else str(exc)
            result.errors.append(error(f"Not deleted: {message}", pks))
            result.skipped += 1
        else:
            result.done += len(pks)


class CallAction(BackgroundAction):
    """A project's ``@fastadmin.action(background=True)`` function, called once per chunk with the
    chunk's rows (``modeladmin.get_queryset(request)`` narrowed to their keys). Its
    ``modeladmin.message_user`` calls are kept: warnings and errors go to the job's errors."""

    def __init__(self, func: Callable) -> None:
        self.func = func

    def run_chunk(self, work: Work, chunk: QuerySet) -> ChunkResult:
        pks = list(chunk.order_by().values_list("pk", flat=True))
        result = ChunkResult(len(pks))
        if pks:
            rows = work.modeladmin.get_queryset(work.request).using(work.using).filter(pk__in=pks)
            self.func(MessageSink(work.modeladmin, result), work.request, rows)
        return result


class MessageSink:
    """The ModelAdmin as a background action sees it: everything delegated, except ``message_user``,
    whose warnings and errors become job errors (there is no page to show them on)."""

    def __init__(self, modeladmin: Any, result: ChunkResult) -> None:
        self._modeladmin = modeladmin
        self._result = result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._modeladmin, name)

    def message_user(self, request: Any, message: Any, level: int = messages.INFO, *args: Any, **kwargs: Any) -> None:
        if isinstance(level, str):
            level = getattr(messages.constants, level.upper(), messages.INFO)
        if level >= messages.WARNING:
            self._result.errors.append(error(str(message)))
