"""Concurrent editors against a live admin over HTTP: counts silent lost updates.

Used by ``tests/test_locking_stress.py`` (reduced size) and the ``stress_edits`` command (full size).

Each editor logs in, then per round: GET a change form, sleep a random time, append a unique marker
to one text field (``value + "|e3r1"``) and POST the whole form back, as a browser would. An edit
that was *reported saved* (redirect after POST) must still be in the final value of its field,
because every later edit of that field started from a value that contained it -- unless a save
silently wrote an older value over it: that is a lost update. An explicit conflict (HTTP 409) is
fine: the editor was told. Anything else (500, 400, a re-rendered form) is counted as an error.

A field is named as the form posts it, so inline rows are edited the same way (``part_set-0-note``:
the first inline row's ``note``); ``tests/stress_scenario.py::inline_scenario`` does that.
"""

from __future__ import annotations

import http.cookiejar
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path


# --------------------------------------------------------------------------- reading forms like a browser
class FormParser(HTMLParser):
    """The successful controls of each ``<form>``.

    ``forms[i] = {"attrs": {...}, "fields": [(name, value), ...]}``, in document order.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._textarea: list | None = None
        self._select: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": a, "fields": []})
            return
        owner = self._owner(a)
        if owner is None:
            return
        fields = owner["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            fields.append((name, a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select = [name, "multiple" in a, [], None]
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select[3] is None:
                self._select[3] = value
            if "selected" in a:
                self._select[2].append(value)

    def _owner(self, attrs: dict) -> dict | None:
        """The form a control belongs to: its ``form="id"`` attribute, else the enclosing form."""
        if attrs.get("form"):
            for form in self.forms:
                if form["attrs"].get("id") == attrs["form"]:
                    return form
        return self.forms[-1] if self.forms else None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None and self.forms:
            value = self._textarea[1]
            self.forms[-1]["fields"].append(
                (self._textarea[0], value[1:] if value.startswith("\n") else value)
            )
            self._textarea = None
        elif tag == "select" and self._select is not None and self.forms:
            name, multiple, selected, first = self._select
            if not selected and not multiple and first is not None:
                selected = [first]
            self.forms[-1]["fields"].extend((name, v) for v in selected)
            self._select = None


def form_fields(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    """Fields of the form with id ``form_id`` (default: the admin change form or the page's main form)."""
    parser = FormParser()
    parser.feed(html)
    if form_id is not None:
        for form in parser.forms:
            if form["attrs"].get("id") == form_id:
                return form["fields"]
    else:  # the admin's change form ("<model>_form"), else the first other form with a CSRF token
        candidates = [
            f
            for f in parser.forms
            if f["attrs"].get("id") != "logout-form"
            and any(n == "csrfmiddlewaretoken" for n, _ in f["fields"])
        ]
        for form in candidates:
            if form["attrs"].get("id", "").endswith("_form"):
                return form["fields"]
        if candidates:
            return candidates[0]["fields"]
    raise LookupError(f"no form {form_id or 'with a CSRF token'} in the page")


def replace(fields: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    out = [(n, v) for n, v in fields if n not in values]
    return out + list(values.items())


# --------------------------------------------------------------------------- one editor
@dataclass
class Tally:
    saved: list[tuple[int, str, str]] = field(default_factory=list)  # (pk, field, marker)
    outcomes: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Editor:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)
        self.username, self.password = username, password

    def request(self, path: str, data: list[tuple[str, str]] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base_url + path, data=body)
        if body is not None:
            req.add_header("Referer", self.base_url + path)
        try:
            with self.opener.open(req, timeout=120) as response:
                return response.status, response.read().decode(), response.headers.get("Location", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace"), exc.headers.get("Location", "")

    def login(self, login_path: str) -> None:
        status, html, _ = self.request(login_path)
        fields = replace(form_fields(html), username=self.username, password=self.password)
        status, _html, _location = self.request(login_path, fields)
        if status != 302:
            raise RuntimeError(f"login failed for {self.username}: HTTP {status}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def edit_round(
    editor: Editor, change_path: str, pk: int, field_name: str, marker: str, delay: float, tally: Tally
) -> None:
    status, html, _ = editor.request(change_path)
    if status != 200:
        with tally.lock:
            tally.outcomes["error"] += 1
            tally.errors.append(f"GET {change_path}: HTTP {status}")
        return
    fields = form_fields(html, form_id=None)
    shown = dict(fields).get(field_name, "")
    time.sleep(delay)
    status, html, location = editor.request(
        change_path, replace(fields, **{field_name: shown + "|" + marker, "_save": "Save"})
    )
    with tally.lock:
        if status == 302 and "/change/" not in location:
            tally.outcomes["saved"] += 1
            tally.saved.append((pk, field_name, marker))
        elif status == 409:
            tally.outcomes["conflict"] += 1
        else:
            tally.outcomes["error"] += 1
            tally.errors.append(f"POST {change_path}: HTTP {status} {html[:300]!r}")


def run_editors(
    base_url: str,
    login_path: str,
    change_paths: dict[int, str],
    fields: list[str],
    *,
    editors: int,
    rounds: int,
    max_delay: float,
    users: list[tuple[str, str]],
    seed: int = 1,
) -> Tally:
    """``editors`` threads x ``rounds`` edits over ``change_paths`` ({pk: path}) and ``fields``."""
    tally = Tally()
    rnd = random.Random(seed)
    people = [Editor(base_url, *users[i % len(users)]) for i in range(editors)]
    for person in people:
        person.login(login_path)
    plans = [
        [
            (rnd.choice(list(change_paths)), rnd.choice(fields), rnd.uniform(0, max_delay))
            for _ in range(rounds)
        ]
        for _ in range(editors)
    ]
    start = threading.Barrier(editors)

    def work(i: int) -> None:
        start.wait()
        for r, (pk, field_name, delay) in enumerate(plans[i]):
            try:
                edit_round(people[i], change_paths[pk], pk, field_name, f"e{i}r{r}", delay, tally)
            except Exception as exc:  # counted, reported, and fails the run
                with tally.lock:
                    tally.outcomes["error"] += 1
                    tally.errors.append(f"editor {i}: {exc!r}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(editors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


def lost_updates(tally: Tally, final: dict[int, dict[str, str]]) -> list[tuple[int, str, str]]:
    """Edits reported saved whose marker is missing from the final value of their field."""
    return [(pk, f, m) for pk, f, m in tally.saved if m not in re.split(r"\|", final[pk][f])]


# --------------------------------------------------------------------------- a live server in another process
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(settings_dict: dict, query: dict | None = None) -> str:
    """A ``postgresql://`` URL for a Django DATABASES entry (socket directories as ``?host=``).

    ``DISABLE_SERVER_SIDE_CURSORS`` (a pooler in front) travels as ``?pgbouncer=1``, which
    :func:`example_project.devdb.parse_database_url` turns back into the setting; ``query`` adds
    other parameters (they become connection ``OPTIONS``).
    """
    user = urllib.parse.quote(settings_dict.get("USER") or "")
    password = urllib.parse.quote(settings_dict.get("PASSWORD") or "")
    host = settings_dict.get("HOST") or ""
    port = settings_dict.get("PORT") or ""
    auth = f"{user}:{password}@" if user or password else ""
    name = urllib.parse.quote(settings_dict["NAME"])
    query = dict(query or {})
    if settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        query["pgbouncer"] = "1"
    if host.startswith("/"):
        query["host"], host = host, ""
    tail = f"?{urllib.parse.urlencode(query)}" if query else ""
    return f"postgresql://{auth}{host}{':' + str(port) if port and host else ''}/{name}{tail}"


class LiveServer:
    """``manage.py runserver --noreload`` (threaded) in a child process, on a free port."""

    def __init__(self, settings_module: str, database: dict, repo_root: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": database_url(database),
            "PYTHONPATH": os.pathsep.join(
                [str(repo_root), str(repo_root / "example_project"), os.environ.get("PYTHONPATH", "")]
            ),
            "DJANGO_DEBUG": "0",
            "CONN_MAX_AGE": "0",
        }
        self.log = tempfile.TemporaryFile()  # a pipe nobody drains would block the server
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(repo_root / "example_project" / "manage.py"),
                "runserver",
                "--noreload",
                "--skip-checks",
                f"127.0.0.1:{self.port}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            cwd=str(repo_root),
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def wait_ready(self, path: str = "/admin/login/", attempts: int = 600) -> None:
        for _ in range(attempts):
            if self.process.poll() is not None:
                raise RuntimeError("the server exited: " + self.output()[-2000:])
            try:
                with urllib.request.urlopen(self.url + path, timeout=5):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
