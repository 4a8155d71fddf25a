"""Stock Django admin, a tuned stock admin and fastadmin on the same data, options and requests.

The cases are *data*: a list of :class:`Case`. To add one (a search, a save, another model), append
a ``Case`` to :data:`CASES` — or pass your own list to :func:`run` — nothing else changes. A case
names the admin-relative path and the query string (``str.format`` placeholders are filled from a
:class:`Context` computed once per dataset), optionally a different query for fastadmin (the deep
page is ``?p=`` for stock, ``?seek=`` for fastadmin), a method and form data, and what a correct
response looks like (status, number of result rows, text it must contain).

Three admins answer every case (:data:`ADMINS`): stock (``/stock-admin/``), stock tuned as experts
do (``/tuned-admin/``, :mod:`shop.tuned`: no full count, ``reltuples`` paginator; it gets stock's
query) and fastadmin (``/admin/``). Each is measured on

* a small reference dataset (``SMALL_ROWS`` = 1,000 orders), seeded into its own PostgreSQL
  schema (:data:`SMALL_SCHEMA`, re-created on every run in well under a second) and selected by
  ``search_path`` — so the big dataset in the default schema is left alone and a re-run with the
  same ``--rows`` does not reseed;
* the big dataset (``rows`` orders), seeded only if the tables do not already hold that many.

For every case: one warm-up request per admin and dataset, then ``repeat`` timed rounds, each round
timing the admins back to back on the small dataset, then on the big one (interleaved, so a slow
spell of a shared machine weighs on both sides of a "vs 1k" ratio); medians are reported for wall
ms, CPU ms, SQL ms and query count, and render ms (:mod:`shop.bench_timing`). Requests go through
``django.test.Client`` (full middleware, view and template rendering; no network), logged in as a
superuser, with
``DEBUG=False`` (so no query log is kept and templates come from Django's cached loader).
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

import django
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connections
from django.test import Client
from django.test.utils import override_settings

from . import seeding
from .bench_context import PER_PAGE, build_context
from .bench_report import format_line
from .bench_timing import Sample, medians, probe, timed_rendering
from .management.commands.demo_user import USERNAME as DEMO_USERNAME
from .management.commands.demo_user import ensure_demo_user
from .models import Customer, Lead, Order

#: Admin key -> URL root. Stock and tuned get a case's ``query``; fastadmin its ``fast_query``.
ADMINS = {"stock": "/stock-admin/", "tuned": "/tuned-admin/", "fast": "/admin/"}
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
    #: A yardstick, not a page to make faster: its report entry says ``"reference": true``.
    reference: bool = False

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
    #: The connection's ``search_path`` that selects this dataset's tables (set by :func:`run`).
    search_path: str = ""


CASES: list[Case] = [
    # The framework's floor: the same stock GroupAdmin on all three sites, no rows, no filter, no
    # search. Session, user, permissions, the admin's shell and an empty table: no admin page of this
    # run can be cheaper, so "half of stock" below this line is out of reach for any changelist.
    Case("floor: empty changelist (groups)", "auth/group/", expect_rows=0, reference=True),
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
    Case("date drill-down: one month", "shop/order/", "placed_at__year={dh_year}&placed_at__month={dh_month}",
         expect_rows="{dh_rows}"),
    Case("filtered: one customer (FK)", "shop/order/", "customer__id__exact={fk_customer}", expect_rows="{fk_rows}"),
    Case("list_editable page (customers)", "shop/customer/", expect_rows="{customer_rows}"),
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
    # Orders search number, customer__name, customer__email: a common surname through the join.
    Case("search: related field (orders)", "shop/order/", "q={common}", expect_rows="{related_rows}"),
    # Stock matches a two-letter word anywhere; fastadmin, past SEARCH_SCAN_ROWS, as a prefix (index-served).
    Case("search: short term", "shop/lead/", "q={short}", expect_rows=None),
    Case("search: short term, no match", "shop/lead/", "q={short_none}", expect_rows=0),
    # Leads by notes (a proxy of leads) search ["@notes"]: full text, a word of the seeded notes.
    Case("search: full text (@notes)", "shop/leadnote/", "q={full_text}", expect_rows="{full_text_rows}"),
]


@dataclass
class Measurement:
    """One case on one dataset: per admin, the medians (:func:`shop.bench_timing.medians`) and URL."""

    case: str
    rows: int
    admins: dict[str, dict[str, float]]
    urls: dict[str, str]
    wall_samples: dict[str, list[float]]

    def ratio(self, admin: str, metric: str = "wall_ms") -> float:
        """How many times slower ``admin`` is than fastadmin on ``metric``."""
        fast = self.admins["fast"][metric]
        return self.admins[admin][metric] / fast if fast else float("inf")


class BenchmarkError(AssertionError):
    pass


def _request(client: Client, case: Case, url: str, ctx: Context) -> Sample:
    with probe() as current:
        if case.method == "GET":
            response = client.get(url)
        elif case.method == "POST":
            response = client.post(url, case.payload(ctx) or {})
        else:
            response = client.generic(case.method, url)
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
    return current.sample


def measure(client: Client, cases: Sequence[Case], datasets: Sequence[Context], repeat: int,
            log: Callable[[str], None], admins: Sequence[str] = tuple(ADMINS), failures: list[str] | None = None,
            using: str = "default") -> list[Measurement]:
    """Measure ``cases`` on every dataset, interleaved: each round times every admin on the small
    dataset, then on the big one, so a machine that slows down for a while (a shared 2-core host)
    slows both sides of the "vs 1k" ratio alike. A case whose response fails its check on a dataset
    is logged and added to ``failures`` (raised as :class:`BenchmarkError` when ``failures`` is None)
    and the run goes on."""
    results = []
    for case in cases:
        active = [ctx for ctx in datasets if ctx.rows >= case.min_rows]
        urls = {id(ctx): {a: case.url(ADMINS[a], ctx, fast=a == "fast") for a in admins} for ctx in active}
        samples: dict[int, dict[str, list[Sample]]] = {id(ctx): {a: [] for a in admins} for ctx in active}
        for round_ in range(repeat + 1):  # round 0: one warm-up (and correctness check) per admin
            for ctx in list(active):
                use_dataset(ctx, using)
                try:
                    for admin_key, url in urls[id(ctx)].items():
                        sample = _request(client, case, url, ctx)
                        if round_:
                            samples[id(ctx)][admin_key].append(sample)
                except BenchmarkError as exc:
                    if failures is None:
                        raise
                    failures.append(f"{ctx.rows:,} rows: {exc}")
                    log(f"  {case.name:<32} FAILED at {ctx.rows:,} rows: {exc}")
                    active.remove(ctx)
        for ctx in active:
            per_admin = samples[id(ctx)]
            m = Measurement(case.name, ctx.rows, {a: medians(s) for a, s in per_admin.items()}, urls[id(ctx)],
                            {a: [round(x.wall_ms, 2) for x in s] for a, s in per_admin.items()})
            log("  " + format_line(m))
            results.append(m)
    return results


def use_dataset(ctx: Context, using: str = "default") -> None:
    """Point the live connection at ``ctx``'s tables (its ``search_path``) and forget what any
    cache holds: nothing cached for one dataset may leak into the other. Not timed."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, false)", [ctx.search_path])
    for alias in caches:
        caches[alias].clear()


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
    admins: Sequence[str] = tuple(ADMINS),
    fastadmin: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Seed as needed, measure every case on the 1k reference and on ``rows``, return the report.

    ``fastadmin`` overrides keys of ``settings.FASTADMIN`` for the run (e.g. ``COMPILED_RESULT_LIST``
    False measures the stock row rendering inside fastadmin)."""
    from django.conf import settings

    fastadmin_settings = {**getattr(settings, "FASTADMIN", {}), **(fastadmin or {})}
    stream = stream if stream is not None else sys.stderr

    def log(message: str) -> None:
        stream.write(message + "\n")
        stream.flush()

    ensure_demo_user(using=using)
    admin_user = get_user_model()._default_manager.db_manager(using).get(username=DEMO_USERNAME)
    measurements: list[Measurement] = []
    failures: list[str] = []

    with override_settings(DEBUG=False, FASTADMIN=fastadmin_settings), timed_rendering():
        datasets: list[Context] = []
        for schema, n in ([(SMALL_SCHEMA, SMALL_ROWS)] if rows != SMALL_ROWS else []) + [(None, rows)]:
            if schema is not None:
                log(f"Reference dataset: {n:,} orders in schema {schema}")
                prepare_small_schema(using)
            with search_path(schema, using):
                if schema is not None or not seeding.is_seeded(n, using=using):
                    log(f"Seeding {n:,} orders ...")
                    seeding.seed(n, chunk=chunk, using=using, stream=stream)
                else:
                    log(f"Dataset: {n:,} orders already seeded")
                with connections[using].cursor() as cursor:
                    cursor.execute("SHOW search_path")
                    path = cursor.fetchone()[0]
                datasets.append(Context(n, build_context(n, using), path))
        client = Client()
        client.force_login(admin_user)
        sizes = " and ".join(f"{ctx.rows:,}" for ctx in datasets)
        log(f"Measuring at {sizes} orders, interleaved ({repeat} rounds + 1 warm-up per case and admin):")
        try:
            measurements += measure(client, cases, datasets, repeat, log, admins, failures, using)
        finally:
            connections[using].close()  # its search_path was switched per request
            if len(datasets) > 1 and not keep_small:
                drop_small_schema(using)

    small = {m.case: m for m in measurements if m.rows == SMALL_ROWS}
    references = {c.name for c in cases if c.reference}
    report_cases = []
    for m in measurements:
        entry = asdict(m)
        entry["reference"] = m.case in references
        ref = small.get(m.case)
        entry["vs_fast"] = {a: round(m.ratio(a), 2) for a in m.admins if a != "fast"}
        entry["vs_1k"] = {
            a: round(med["wall_ms"] / ref.admins[a]["wall_ms"], 2) if ref and ref.admins[a]["wall_ms"] else None
            for a, med in m.admins.items()
        }
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
        "failures": failures,
        "fastadmin_settings": fastadmin or {},
        "template_loaders": _loaders(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": server_version,
        "database_host": settings_dict.get("HOST") or "(default socket)",
        "cases": report_cases,
    }


def _loaders() -> list[str]:
    """The template loaders the run used (DEBUG=False: Django wraps them in the cached loader)."""
    from django.template import engines

    loaders = engines["django"].engine.template_loaders
    return [f"{type(loader).__module__}.{type(loader).__name__}" for loader in loaders]
