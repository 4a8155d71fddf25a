"""Many staff at once: N logged-in sessions drive an admin over real HTTP for a bounded time.

Each session is a thread with its own cookies (its own login, session and CSRF token) and loops
through what a member of staff does: the order list, the next page, a filter, a search, open a
record and save it unchanged (the form is re-posted as rendered, so fastadmin's edit token and the
CSRF token travel exactly as a browser sends them). Every request is timed; a request whose status
is not the expected one (200 for pages, 302 after a save) or that fails outright is an error, and
its body's first bytes are kept for the report. A fastadmin 409 (two sessions saved the same row)
is counted apart as a conflict: that is the locking doing its job, not a failure.

Only the standard library is used (``http.client``), so the driver adds no dependency; the server
(gunicorn, see :mod:`shop.management.commands.loadtest`) is the only extra.
"""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin

ORDER_LIST = "shop/order/"
CHANGE_LINK = re.compile(r'href="([^"]*/shop/order/(\d+)/change/[^"]*)"')
NEXT_LINK = re.compile(r'<a rel="next" href="([^"]+)"')
STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")


class FormFields(HTMLParser):
    """The successful controls of every ``<form method="post">``, as a browser would post them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._in_form, self.fields = True, []
            self.forms.append(self.fields)
        if not self._in_form or "name" not in a:
            if tag == "option" and self._select is not None and ("selected" in a or self._select_value is None):
                self._select_value = a.get("value", "")
            return
        kind = a.get("type", "text").lower()
        if tag == "input" and kind not in {"submit", "button", "file", "image", "reset"}:
            if kind not in {"checkbox", "radio"} or "checked" in a:
                self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select, self._select_value = a["name"], None
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            self.fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._in_form = False


def form_fields(html: str) -> list[tuple[str, str]]:
    """The page's biggest POST form (the change form, not the header's logout form)."""
    parser = FormFields()
    parser.feed(html)
    return max(parser.forms, key=len, default=[])


class Session:
    """One member of staff: their own cookie jar, over a fresh loopback connection per request."""

    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Host": f"{self.host}:{self.port}", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{self.host}:{self.port}{path}"  # Django's CSRF origin check
            headers["Origin"] = f"http://{self.host}:{self.port}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for value in response.headers.get_all("Set-Cookie") or ():
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
            return response.status, text
        finally:
            conn.close()

    def login(self, root: str, username: str, password: str) -> None:
        status, page = self.request("GET", f"{root}login/?next={root}")
        fields = dict(form_fields(page))
        if status != 200 or "csrfmiddlewaretoken" not in fields:
            raise RuntimeError(f"login page {root}login/ answered {status}: {page[:200]!r}")
        fields.update(username=username, password=password)
        status, page = self.request("POST", f"{root}login/?next={root}", list(fields.items()))
        if status != 302:
            raise RuntimeError(f"login as {username!r} at {root} failed ({status}): {page[:200]!r}")


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int  # 0: no response (connection error or timeout)
    ok: bool


@dataclass
class Result:
    """What one run measured; :meth:`summary` is the row of the report."""

    label: str
    sessions: int
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(not s.ok and s.status != 409 for s in self.samples)

    @property
    def conflicts(self) -> int:
        return sum(s.status == 409 for s in self.samples)

    def summary(self) -> dict:
        times = sorted(s.seconds for s in self.samples)
        done = [s for s in self.samples if s.ok]
        return {
            "admin": self.label, "sessions": self.sessions, "seconds": round(self.seconds, 1),
            "requests": len(self.samples), "req_per_s": round(len(done) / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": percentile_ms(times, 50), "p95_ms": percentile_ms(times, 95),
            "p99_ms": percentile_ms(times, 99), "errors": self.error_count, "conflicts": self.conflicts,
            "by_kind_p50_ms": {kind: percentile_ms(sorted(s.seconds for s in self.samples if s.kind == kind), 50)
                               for kind in sorted({s.kind for s in self.samples})},
        }


def percentile_ms(sorted_seconds: list[float], pct: int) -> float:
    """Nearest-rank percentile in milliseconds (0.0 for no samples)."""
    if not sorted_seconds:
        return 0.0
    rank = max(1, -(-pct * len(sorted_seconds) // 100))
    return round(sorted_seconds[rank - 1] * 1000, 1)


def staff_mix(session: Session, root: str, rnd: random.Random, record: Callable[..., None],
              search_terms: list[str]) -> None:
    """One round of a staff member's work on the order list (the realistic mix)."""

    def get(kind: str, path: str) -> str | None:
        start = time.perf_counter()
        try:
            status, page = session.request("GET", path)
        except OSError:
            record(kind, time.perf_counter() - start, 0, False)
            return None
        record(kind, time.perf_counter() - start, status, status == 200, page)
        return page if status == 200 else None

    listing = get("list", f"{root}{ORDER_LIST}")
    if listing is None:
        return
    nxt = NEXT_LINK.search(listing)  # fastadmin's keyset link; stock admin pages by number
    second = get("next page", urljoin(f"{root}{ORDER_LIST}", unescape(nxt.group(1))) if nxt
                 else f"{root}{ORDER_LIST}?p=1")
    get("filter", f"{root}{ORDER_LIST}?status__exact={rnd.choice(STATUSES)}")
    get("search", f"{root}{ORDER_LIST}?{urlencode({'q': rnd.choice(search_terms)})}")
    links = CHANGE_LINK.findall(second or listing)
    if not links:
        return
    href, _pk = rnd.choice(links)
    change = unescape(href)
    form_page = get("open", change)
    if form_page is None:
        return
    fields = [*form_fields(form_page), ("_save", "Save")]  # hidden inputs carry CSRF and fastadmin's edit token
    start = time.perf_counter()
    try:
        status, page = session.request("POST", change.split("?")[0], fields)
    except OSError:
        record("save", time.perf_counter() - start, 0, False)
        return
    record("save", time.perf_counter() - start, status, status == 302, page)


def run(host: str, port: int, root: str, sessions: int, seconds: float, username: str, password: str,
        search_terms: list[str], label: str | None = None, seed: int = 1, timeout: float = 60.0) -> Result:
    """Drive ``sessions`` concurrent staff for ``seconds`` (each finishes the request it is in)."""
    result = Result(label or root, sessions, seconds)
    lock = threading.Lock()
    deadline = [0.0]

    def record(kind: str, took: float, status: int, ok: bool, body: str = "") -> None:
        with lock:
            result.samples.append(Sample(kind, took, status, ok))
            if not ok and status != 409 and len(result.errors) < 5:
                result.errors.append(f"{kind}: {status} {body[:160]!r}")

    staff = [Session(host, port, timeout) for _ in range(sessions)]
    with ThreadPoolExecutor(8) as pool:  # every session logs in itself: its own session row and CSRF cookie
        list(pool.map(lambda person: person.login(root, username, password), staff))
    start = time.monotonic()
    deadline[0] = start + seconds

    def work(i: int) -> None:
        rnd = random.Random(seed * 1000 + i)
        while time.monotonic() < deadline[0]:
            staff_mix(staff[i], root, rnd, record, search_terms)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - start
    return result
