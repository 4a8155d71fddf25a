"""What one benchmark request costs: wall and CPU time, SQL time and count, template rendering time.

* wall: ``time.perf_counter`` around ``django.test.Client`` (full middleware, view, rendering);
* CPU: ``time.process_time`` over the same span — this process only, so steadier than wall time on
  a shared machine (the database server's work is in SQL ms, not here);
* SQL: every statement on every connection, timed by a ``connection.execute_wrapper``;
* render: time inside ``SimpleTemplateResponse.render`` minus the SQL run from inside it (a
  changelist's rows are read lazily, by the template). The benchmark wraps that public method for
  the duration of the run (:func:`timed_rendering`); nothing else is touched.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields

from django.db import connections
from django.template.response import SimpleTemplateResponse


@dataclass
class Sample:
    wall_ms: float = 0.0
    cpu_ms: float = 0.0
    sql_ms: float = 0.0
    queries: int = 0
    render_ms: float = 0.0


class Probe:
    """Accumulates one request's SQL and rendering time (one probe active at a time)."""

    def __init__(self) -> None:
        self.sample = Sample()
        self.rendering = 0
        self.render_sql = 0.0

    def execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.sample.sql_ms += elapsed
            self.sample.queries += 1
            if self.rendering:
                self.render_sql += elapsed


_active: list[Probe] = []


@contextmanager
def timed_rendering() -> Iterator[None]:
    """Time ``SimpleTemplateResponse.render`` into the active probe while the benchmark runs."""
    original = SimpleTemplateResponse.render

    def render(self):
        probe = _active[-1] if _active and not self.is_rendered else None
        if probe is None:
            return original(self)
        probe.rendering += 1
        started = time.perf_counter()
        try:
            return original(self)
        finally:
            probe.rendering -= 1
            if not probe.rendering:
                probe.sample.render_ms += (time.perf_counter() - started) * 1000

    SimpleTemplateResponse.render = render
    try:
        yield
    finally:
        SimpleTemplateResponse.render = original


@contextmanager
def probe() -> Iterator[Probe]:
    """Measure the request made inside the block; ``render_ms`` excludes SQL run while rendering."""
    current = Probe()
    _active.append(current)
    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(current.execute))
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield current
        finally:
            current.sample.cpu_ms = (time.process_time() - cpu) * 1000
            current.sample.wall_ms = (time.perf_counter() - wall) * 1000
            current.sample.render_ms = max(0.0, current.sample.render_ms - current.render_sql)
            _active.pop()


def medians(samples: list[Sample]) -> dict[str, float]:
    """Each metric's median over ``samples`` (rounded for the report)."""
    return {f.name: round(statistics.median(getattr(s, f.name) for s in samples), 2) for f in fields(Sample)}
