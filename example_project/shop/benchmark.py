"""Stock Django admin vs fastadmin on the same data, the same ``ModelAdmin`` options, the same requests.

The cases are *data*: a list of :class:`Case`. To add one (a search, a save, another model), append
a ``Case`` to :data:`CASES` — or pass your own list to :func:`run` — nothing else changes. A case
names the admin-relative path and the query string (``str.format`` placeholders are filled from a
:class:`Context` computed once per dataset), optionally a different query for fastadmin (the deep
page is ``?p=`` for stock, ``?seek=`` for fastadmin), a method and form data, and what a correct
response looks like (status, number of result rows, text it must contain).

Each case is measured twice over:

* on a small reference dataset (``SMALL_ROWS`` = 1,000 orders), seeded into its own PostgreSQL
  schema (:data:`SMALL_SCHEMA`, re-created on every run in well under a second) and selected by
  ``search_path`` — so the big dataset in the default schema is left alone and a re-run with the
  same ``--rows`` does not reseed;
* on the big dataset (``rows`` orders), seeded only if the tables do not already hold that many.

For every case and dataset: one warm-up request per admin, then ``repeat`` timed rounds, each
round timing stock then fastadmin back to back; the median is reported. Requests go through
``django.test.Client`` (full middleware, view and template rendering; no network), logged in as
a superuser, with ``DEBUG=False`` so no query log is kept.
"""

from __future__ import annotations

import json
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO
from urllib.parse import quote

import django
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connections
from django.test import Client
from django.test.utils import override_settings

from . import seeding
from .admin import OrderOptions
from .management.commands.demo_user import USERNAME as DEMO_USERNAME
from .management.commands.demo_user import ensure_demo_user
from .models import Customer, Lead, Order

FAST_ROOT = "/admin/"
STOCK_ROOT = "/stock-admin/"
SMALL_ROWS = 1_000
SMALL_SCHEMA = "fastadmin_bench_small"
ROW_MARKER = re.compile(rb'name="_selected_action"')


@dataclass(frozen=True)
class Case:
    """One request measured on both admins.

    ``path`` is relative to the admin root; ``query`` / ``fast_query`` / ``data`` values may hold
    ``{placeholders}`` filled from :class:`Context`. ``fast_query=None`` means "same as ``query``".
    ``expect_rows`` counts result-row checkboxes (``name="_selected_action"``); None skips the check.
    """

    name: str
    path: str
    query: str = ""
    fast_query: str | None = None
    method: str = "GET"
    data: dict[str, Any] | None = None
    expect_status: int = 200
    expect_rows: int | str | None = None  # a str is a placeholder filled from the Context
    expect_text: Sequence[str] = ()
    #: Run only on datasets of at least this many orders (e.g. a case that needs deep tables).
    min_rows: int = 0

    def url(self, root: str, ctx: Context, fast: bool) -> str:
        query = self.query if not fast or self.fast_query is None else self.fast_query
        query = query.format(**ctx.values)
        return f"{root}{self.path.format(**ctx.values)}" + (f"?{query}" if query else "")

    def payload(self, ctx: Context) -> dict[str, Any] | None:
        if self.data is None:
            return None
        return {k: v.format(**ctx.values) if isinstance(v, str) else v for k, v in self.data.items()}


@dataclass
class Context:
    """Values a case's URL may refer to, computed from the dataset it runs on."""

    rows: int
    values: dict[str, Any] = field(default_factory=dict)


def order_column(name: str, options=OrderOptions) -> int:
    """The stock ``?o=`` index of ``list_display`` column ``name`` (index 0 is the action checkbox)."""
    return 1 + list(options.list_display).index(name) if options.actions is not None else 0


PER_PAGE = OrderOptions.list_per_page

CASES: list[Case] = [
    Case("first page", "shop/order/", expect_rows=PER_PAGE),
    Case("filtered: status=shipped", "shop/order/", "status__exact=shipped", expect_rows=PER_PAGE),
    Case("sorted by total (?o=)", "shop/order/", "o={o_total}", expect_rows=PER_PAGE),
    Case(
        "deep page at 50%",
        "shop/order/",
        query="p={deep_page}",  # stock: OFFSET rows/2
        fast_query="seek={deep_seek}",  # fastadmin: jump to the placed_at value found at rows/2
        expect_rows=PER_PAGE,
    ),
    # Search (issue #3) on leads: as many rows as orders, search_fields = ["name", "email", "phone"].
    # fastadmin needs the index plan applied (``manage.py fastadmin_indexes --apply``).
    Case("lead list: first page", "shop/lead/", expect_rows=PER_PAGE),
    Case("search: rare term", "shop/lead/", "q={rare_phone}", expect_rows="{rare_phone_rows}"),
    Case("search: common term", "shop/lead/", "q={common}", expect_rows="{common_rows}"),
    Case(
        "search: namespaced",
        "shop/lead/",
        query="q={rare_email_q}",  # stock has no namespaces: the same text in every field
        fast_query="q=email:{rare_email_q}",
        expect_rows="{rare_email_rows}",
    ),
    Case(
        "search: pk lookup",
        "shop/lead/",
        query="q={rare_pk}",  # stock: the id as text in every search field (what a user would try)
        fast_query="q=id:{rare_pk}",
        expect_rows=None,  # stock lists leads whose phone contains the digits, not that lead
    ),
]


def build_context(rows: int, using: str = "default") -> Context:
    """Placeholders for :data:`CASES`: sort-column indexes and the position half-way down the table."""
    half = rows // 2
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT placed_at FROM {Order._meta.db_table} "
            "ORDER BY placed_at DESC, id DESC OFFSET %s LIMIT 1",
            [half],
        )
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError(f"{Order._meta.db_table} holds fewer than {half + 1} rows")
    return Context(
        rows=rows,
        values={
            **search_values(using),
            "rows": rows,
            "o_total": order_column("total_display"),
            "o_number": order_column("number"),
            "deep_page": half // PER_PAGE + 1,  # stock pages are 1-based
            "deep_seek": quote(row[0].isoformat(), safe=""),
        },
    )


COMMON = "smith"  # a last name of the seed: about 1 lead in 60 matches


def search_values(using: str = "default") -> dict[str, Any]:
    """A lead half-way down the table: its phone digits (rare term), e-mail (namespaced) and pk, and
    how many rows each search must show (counted once here, with plain SQL)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT id, email, right(phone, 8) FROM shop_lead WHERE phone <> '' AND id >= "
            "(SELECT (min(id) + max(id)) / 2 FROM shop_lead) ORDER BY id LIMIT 1"
        )
        row = cursor.fetchone()
        if row is None:
            raise RuntimeError("shop_lead holds no lead with a phone number")
        pk, email, digits = row
        cursor.execute(
            "SELECT count(*) FILTER (WHERE phone LIKE %s), count(*) FILTER (WHERE email LIKE %s),"
            " count(*) FILTER (WHERE upper(name) LIKE %s OR upper(email) LIKE %s) FROM shop_lead",
            [f"%{digits}%", f"%{email}%", f"%{COMMON.upper()}%", f"%{COMMON.upper()}%"],
        )
        phone_rows, email_rows, common_rows = cursor.fetchone()
    return {
        "common": COMMON,
        "common_rows": min(common_rows, PER_PAGE),
        "rare_pk": pk,
        "rare_email": email,
        "rare_email_q": quote(email, safe=""),
        "rare_email_rows": min(email_rows, PER_PAGE),
        "rare_phone": digits,
        "rare_phone_rows": min(phone_rows, PER_PAGE),
    }


@dataclass
class Measurement:
    case: str
    rows: int
    stock_ms: float
    fast_ms: float
    stock_samples: list[float]
    fast_samples: list[float]
    stock_url: str
    fast_url: str

    @property
    def speedup(self) -> float:
        return self.stock_ms / self.fast_ms if self.fast_ms else float("inf")


class BenchmarkError(AssertionError):
    pass


def _request(client: Client, case: Case, url: str, ctx: Context):
    started = time.perf_counter()
    if case.method == "GET":
        response = client.get(url)
    elif case.method == "POST":
        response = client.post(url, case.payload(ctx) or {})
    else:
        response = client.generic(case.method, url)
    elapsed = (time.perf_counter() - started) * 1000
    body = response.content  # TemplateResponse is rendered by the handler: included above
    if response.status_code != case.expect_status:
        raise BenchmarkError(
            f"{case.name}: {url} answered HTTP {response.status_code}, not {case.expect_status}"
        )
    expected_rows = case.expect_rows
    if isinstance(expected_rows, str):
        expected_rows = int(expected_rows.format(**ctx.values))
    if expected_rows is not None:
        found = len(ROW_MARKER.findall(body))
        if found != expected_rows:
            raise BenchmarkError(f"{case.name}: {url} shows {found} rows, expected {expected_rows}")
    for text in case.expect_text:
        text = text.format(**ctx.values)
        if text.encode() not in body:
            raise BenchmarkError(f"{case.name}: {url} does not contain {text!r}")
    return elapsed


def measure(client: Client, cases: Sequence[Case], ctx: Context, repeat: int, log: Callable[[str], None]):
    results = []
    for case in cases:
        if ctx.rows < case.min_rows:
            continue
        stock_url, fast_url = case.url(STOCK_ROOT, ctx, fast=False), case.url(FAST_ROOT, ctx, fast=True)
        _request(client, case, stock_url, ctx)  # warm-up (and correctness check) for both
        _request(client, case, fast_url, ctx)
        stock, fast = [], []
        for _ in range(repeat):
            stock.append(_request(client, case, stock_url, ctx))
            fast.append(_request(client, case, fast_url, ctx))
        m = Measurement(
            case.name,
            ctx.rows,
            statistics.median(stock),
            statistics.median(fast),
            [round(x, 2) for x in stock],
            [round(x, 2) for x in fast],
            stock_url,
            fast_url,
        )
        log(f"  {case.name:<28} stock {m.stock_ms:9.1f} ms   fastadmin {m.fast_ms:8.1f} ms   "
            f"x{m.speedup:.1f}")
        results.append(m)
    return results


@contextmanager
def search_path(schema: str | None, using: str = "default"):
    """Make every connection of ``using`` resolve unqualified tables in ``schema`` first.

    Set both on the live connection and in its connect options, so a reconnect keeps it.
    """
    if schema is None:
        yield
        return
    connection = connections[using]
    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = options.get("options")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schemas(false)")
        path = [schema, *[s for s in cursor.fetchone()[0] if s != schema]]
    options["options"] = ((saved + " ") if saved else "") + f"-c search_path={','.join(path)}"
    connection.close()
    try:
        yield
    finally:
        if saved is None:
            options.pop("options", None)
        else:
            options["options"] = saved
        connection.close()


def prepare_small_schema(using: str = "default") -> None:
    """(Re)create :data:`SMALL_SCHEMA` with empty copies of the shop tables (indexes included)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        home = cursor.fetchone()[0]
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SMALL_SCHEMA}" CASCADE')
        cursor.execute(f'CREATE SCHEMA "{SMALL_SCHEMA}"')
        for model in (Customer, Order, Lead):
            table = model._meta.db_table
            cursor.execute(f'CREATE TABLE "{SMALL_SCHEMA}"."{table}" (LIKE "{home}"."{table}" INCLUDING ALL)')


def drop_small_schema(using: str = "default") -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SMALL_SCHEMA}" CASCADE')


def run(
    rows: int,
    *,
    repeat: int = 7,
    cases: Sequence[Case] = CASES,
    chunk: int = 100_000,
    using: str = "default",
    stream: TextIO | None = None,
    keep_small: bool = False,
) -> dict[str, Any]:
    """Seed as needed, measure every case on the 1k reference and on ``rows``, return the report."""
    stream = stream if stream is not None else sys.stderr

    def log(message: str) -> None:
        stream.write(message + "\n")
        stream.flush()

    ensure_demo_user(using=using)
    admin_user = get_user_model()._default_manager.db_manager(using).get(username=DEMO_USERNAME)
    measurements: list[Measurement] = []

    with override_settings(DEBUG=False):
        datasets: list[tuple[str | None, int]] = [(SMALL_SCHEMA, SMALL_ROWS), (None, rows)]
        if rows == SMALL_ROWS:
            datasets = [(None, rows)]
        for schema, n in datasets:
            if schema is not None:
                log(f"Reference dataset: {n:,} orders in schema {schema}")
                prepare_small_schema(using)
            with search_path(schema, using):
                if schema is not None or not seeding.is_seeded(n, using=using):
                    log(f"Seeding {n:,} orders ...")
                    seeding.seed(n, chunk=chunk, using=using, stream=stream)
                else:
                    log(f"Dataset: {n:,} orders already seeded")
                for alias in caches:  # nothing cached for one dataset may leak into the other
                    caches[alias].clear()
                ctx = build_context(n, using)
                client = Client()
                client.force_login(admin_user)
                log(f"Measuring at {n:,} orders ({repeat} rounds + 1 warm-up per case and admin):")
                measurements += measure(client, cases, ctx, repeat, log)
            if schema is not None and not keep_small:
                drop_small_schema(using)

    small = {m.case: m for m in measurements if m.rows == SMALL_ROWS}
    report_cases = []
    for m in measurements:
        entry = asdict(m)
        entry["speedup"] = round(m.speedup, 2)
        ref = small.get(m.case)
        entry["fast_vs_1k"] = round(m.fast_ms / ref.fast_ms, 2) if ref and ref.fast_ms else None
        entry["stock_vs_1k"] = round(m.stock_ms / ref.stock_ms, 2) if ref and ref.stock_ms else None
        entry["stock_ms"], entry["fast_ms"] = round(m.stock_ms, 2), round(m.fast_ms, 2)
        report_cases.append(entry)

    with connections[using].cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    settings_dict = connections[using].settings_dict
    return {
        "rows": rows,
        "reference_rows": SMALL_ROWS,
        "repeat": repeat,
        "per_page": PER_PAGE,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": server_version,
        "database_host": settings_dict.get("HOST") or "(default socket)",
        "cases": report_cases,
    }


def format_table(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    header = ["case", "rows", "stock ms", "fastadmin ms", "speed-up", "fastadmin vs 1k"]
    lines = []
    for entry in report["cases"]:
        lines.append(
            [
                entry["case"],
                f"{entry['rows']:,}",
                f"{entry['stock_ms']:.1f}",
                f"{entry['fast_ms']:.1f}",
                f"x{entry['speedup']:.1f}",
                "-" if entry["fast_vs_1k"] is None else f"x{entry['fast_vs_1k']:.2f}",
            ]
        )
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row):
        return " | ".join(
            str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i]) for i, cell in enumerate(row)
        )

    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep, *(fmt(row) for row in lines)])


def write_json(report: dict[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
