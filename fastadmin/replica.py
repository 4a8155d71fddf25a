"""Which database serves a changelist: the read replica, unless it would show a user stale data.

Contract of a read policy (``FASTADMIN["READ_POLICY"]``; the default is :class:`ReplicaPolicy`)::

    policy.route(request, model) -> ReadRoute(alias, notice)   # once per changelist GET; cheap
    policy.wrote(request, model)                                # after any admin write (POST)

``route`` answers in at most one query to each server and never raises for a replica that is down
or behind: it answers with the primary and says why (``notice``, shown on the page). ``wrote`` keeps,
in the user's session, the primary's WAL position after the write's commit; until the replica has
replayed past it, that user's lists are read from the primary (read-your-writes), others' are not.
Change forms, saves and everything that locks never ask: they use the model's write database.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext as _

from .conf import fa_settings

#: Session key: ``{primary alias: "X/Y" LSN}`` of the user's last write not yet seen replayed.
SESSION_KEY = "fastadmin_written_lsn"
#: Lag below this many seconds is not worth a notice (a busy replica is always a few ms behind).
NOTICE_LAG_S = 1.0

REPLICA_STATUS_SQL = """
SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,
       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8
"""


@dataclass(frozen=True)
class ReadRoute:
    """The answer for one changelist: read ``alias`` (instead of ``replica``); ``notice`` says why."""

    alias: str
    replica: str
    notice: str | None = None
    lag_s: float | None = None


#: The route the current changelist request took; :func:`fastadmin.guards.read_alias` follows it.
current_route: contextvars.ContextVar[ReadRoute | None] = contextvars.ContextVar("fastadmin_route", default=None)


def lsn_value(lsn: str | None) -> int | None:
    """``'16/B374D848'`` -> an integer that orders like the WAL position."""
    if not lsn:
        return None
    high, _sep, low = lsn.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def primary_alias(model: type[Model]) -> str:
    return router.db_for_write(model) or DEFAULT_DB_ALIAS


def replica_alias(model: type[Model]) -> str:
    return fa_settings.READ_DATABASE or router.db_for_read(model) or DEFAULT_DB_ALIAS


class ReplicaPolicy:
    """Replica reads with read-your-writes, a lag limit (``REPLICA_MAX_LAG_S``) and a primary fallback."""

    def __init__(self, max_lag_s: float | None = None) -> None:
        self.max_lag_s = fa_settings.REPLICA_MAX_LAG_S if max_lag_s is None else max_lag_s

    # ------------------------------------------------------------------ contract
    def route(self, request: HttpRequest, model: type[Model]) -> ReadRoute:
        replica, primary = replica_alias(model), primary_alias(model)
        if replica == primary or not self._is_postgresql(replica, primary):
            return ReadRoute(replica, replica)
        try:
            in_recovery, replay_lsn, replay_age_s = self._query(replica, REPLICA_STATUS_SQL)
        except DatabaseError as exc:
            connections[replica].close()  # a broken connection must not serve the next request
            reason = " ".join(str(exc).split())[:200]
            return ReadRoute(primary, replica, _("The read replica is unavailable (%(reason)s); this list is "
                                                 "read from the primary database.") % {"reason": reason})
        if not in_recovery:
            return ReadRoute(replica, replica)  # not a standby (a test mirror, a promoted replica)
        replayed = lsn_value(replay_lsn) or 0
        written = self._written(request).get(primary)
        if written is not None:
            if replayed < lsn_value(written):
                return ReadRoute(primary, replica)  # the user's own write is not on the replica yet
            self._forget(request, primary)
        (primary_lsn,) = self._query(primary, "SELECT pg_current_wal_insert_lsn()::text")
        lag_s = 0.0 if replayed >= lsn_value(primary_lsn) else max(replay_age_s or 0.0, 0.0)
        if lag_s > self.max_lag_s:
            return ReadRoute(primary, replica, _(
                "The read replica is %(lag)s s behind the primary (more than the %(max)s s allowed); this "
                "list is read from the primary database.") % {"lag": f"{lag_s:.0f}", "max": self.max_lag_s},
                lag_s)
        if lag_s >= NOTICE_LAG_S:
            return ReadRoute(replica, replica, _(
                "This list is read from a replica that is %(lag)s s behind the primary: recent changes by "
                "others may not show yet.") % {"lag": f"{lag_s:.0f}"}, lag_s)
        return ReadRoute(replica, replica, lag_s=lag_s)

    def wrote(self, request: HttpRequest, model: type[Model]) -> None:
        """Remember the primary's WAL position once the current transaction (if any) commits."""
        primary = primary_alias(model)
        if replica_alias(model) == primary or connections[primary].vendor != "postgresql":
            return
        session = getattr(request, "session", None)
        if session is None:
            return

        def remember() -> None:
            try:
                (lsn,) = self._query(primary, "SELECT pg_current_wal_insert_lsn()::text")
            except DatabaseError:
                return  # the primary is itself in recovery: nothing a replica could be behind
            session[SESSION_KEY] = {**self._written(request), primary: lsn}

        transaction.on_commit(remember, using=primary)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _is_postgresql(*aliases: str) -> bool:
        return all(connections[alias].vendor == "postgresql" for alias in aliases)

    @staticmethod
    def _query(alias: str, sql: str) -> tuple:
        with connections[alias].cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()

    @staticmethod
    def _written(request: HttpRequest) -> dict[str, str]:
        session = getattr(request, "session", None)
        return dict(session.get(SESSION_KEY) or {}) if session is not None else {}

    def _forget(self, request: HttpRequest, primary: str) -> None:
        written = self._written(request)
        written.pop(primary, None)
        request.session[SESSION_KEY] = written
