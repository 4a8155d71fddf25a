"""A time budget for one changelist request: ``FASTADMIN["REQUEST_BUDGET_MS"]``.

``STATEMENT_TIMEOUT_MS`` bounds each statement, but a request may send many (an estimate per facet
choice, counts, search probes, the page). The budget bounds their sum. Contract:

* :func:`request_budget` wraps the changelist GET; it installs Django's documented
  ``connection.execute_wrapper`` on the read database for the duration.
* Every statement sent once the budget is spent is not sent: :class:`BudgetExhausted` is raised
  instead, which ``changelist_view`` answers with the too-slow page (503) naming the stage whose
  statement spent it (not the stage that came next and was refused).
* A statement sent while less than ``STATEMENT_TIMEOUT_MS`` remains runs with PostgreSQL's timeout
  lowered to what remains (``set_config(..., true)``, never raised above a stricter timeout already in
  force), so no statement outlives the budget by more than a few milliseconds. The ``set_config`` goes
  through the driver's cursor, below Django's query log, so query-shape tests see only real work.
* Per-choice work asks :func:`remaining_ms` first and degrades (facets: "not counted", see
  :mod:`fastadmin.facets`) instead of starting a statement it cannot finish.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connections

from .guards import current_stage

_LOWER_TIMEOUT = (
    "SELECT set_config('statement_timeout', %s, true) WHERE current_setting('statement_timeout') = '0'"
    " OR current_setting('statement_timeout')::interval > %s::interval"
)


class BudgetExhausted(Exception):
    """The request spent ``REQUEST_BUDGET_MS``; ``stage`` is what spent it."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"request budget spent while {stage}")
        self.stage = stage


@dataclass
class Budget:
    deadline: float
    statement_timeout_ms: int
    spent_by: str | None = None  # the stage whose statement ran past the deadline

    def remaining_ms(self) -> int:
        return int((self.deadline - clock()) * 1000)


def clock() -> float:
    """The budget's clock (a function so a test can advance time without sleeping)."""
    return time.monotonic()


current_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("fastadmin_budget", default=None)


def remaining_ms() -> int | None:
    """Milliseconds left in the current request's budget; None outside a budgeted request."""
    budget = current_budget.get()
    return None if budget is None else budget.remaining_ms()


@contextlib.contextmanager
def request_budget(milliseconds: int | None, statement_timeout_ms: int, using: str) -> Iterator[None]:
    """Run the block under a budget of ``milliseconds`` (None: no budget) on database ``using``."""
    if not milliseconds:
        yield
        return
    budget = Budget(clock() + milliseconds / 1000, statement_timeout_ms)
    token = current_budget.set(budget)
    try:
        with connections[using].execute_wrapper(_guard):
            yield
    finally:
        current_budget.reset(token)


#: Statements that restore the transaction (after a canceled count, say): never refused nor preceded
#: by a timeout change, which an aborted transaction would reject (only a rollback may run there).
_TRANSACTION_CONTROL = ("SAVEPOINT", "ROLLBACK", "RELEASE")


def _guard(execute, sql, params, many, context):
    budget = current_budget.get()
    if budget is None or (isinstance(sql, str) and sql.lstrip().upper().startswith(_TRANSACTION_CONTROL)):
        return execute(sql, params, many, context)
    left = budget.remaining_ms()
    if left <= 0:
        raise BudgetExhausted(budget.spent_by or current_stage.get())
    connection = context["connection"]
    if left < budget.statement_timeout_ms and connection.in_atomic_block and connection.vendor == "postgresql":
        context["cursor"].cursor.execute(_LOWER_TIMEOUT, [f"{left}ms", f"{left}ms"])
    try:
        return execute(sql, params, many, context)
    finally:
        if budget.remaining_ms() <= 0 and budget.spent_by is None:
            budget.spent_by = current_stage.get()
