"""A local stand-in for a Meilisearch server, for contract tests of the official client.

Threaded ``http.server`` on 127.0.0.1 (random port). It records every request and answers with the
response shapes Meilisearch documents (https://www.meilisearch.com/docs/reference/api):

* write routes answer ``202`` with a task summary ``{taskUid, indexUid, status: "enqueued", type,
  enqueuedAt}``; ``GET /tasks/{uid}`` then moves the task ``enqueued -> processing -> succeeded``
  (or ``failed`` with an ``error`` object), applying tasks in uid order like the real task queue;
* ``POST /indexes/{uid}/search`` answers ``{hits, query, processingTimeMs, limit, offset,
  estimatedTotalHits}``; matching is a case-insensitive substring test of every word over the
  searchable attributes, ``attr = value`` / ``attr IN [...]`` filters and ``sort`` (sortable
  attributes only; documents without the value last) are honoured, and no hit past the index's
  ``pagination.maxTotalHits`` (default 1000) is returned;
* errors are ``{message, code, type, link}`` with Meilisearch's status codes.

Knobs for failure tests: ``down`` (connection dropped), ``delay_s`` (slow answers), ``fail_tasks``
(the next n tasks fail), ``hold`` (tasks never finish), ``api_key`` (401/403 like the real server).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error(message: str, code: str, type_: str = "invalid_request") -> dict[str, str]:
    return {"message": message, "code": code, "type": type_, "link": f"https://docs.meilisearch.com/errors#{code}"}


class FakeError(Exception):
    def __init__(self, status: int, answer: dict[str, Any]) -> None:
        super().__init__(answer["message"])
        self.status, self.answer = status, answer


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class FakeIndex:
    uid: str
    primary_key: str | None = None
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=lambda: {
        "displayedAttributes": ["*"], "searchableAttributes": ["*"], "filterableAttributes": [],
        "sortableAttributes": [], "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
        "stopWords": [], "synonyms": {}, "distinctAttribute": None, "pagination": {"maxTotalHits": 1000},
    })


class FakeMeilisearch:
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.indexes: dict[str, FakeIndex] = {}
        self.tasks: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.down = False
        self.delay_s = 0.0
        self.fail_tasks = 0
        self.fail_types: set[str] = set()  # tasks of these types fail (e.g. {"indexSwap"})
        self.hold = False  # tasks stay "processing" (a worker waiting on them can be killed mid-drain)
        self.polled = threading.Event()  # set on every GET /tasks/{uid}
        self.applied_at: dict[tuple[str, str], float] = {}  # (index, doc id) -> monotonic time of its last upsert
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeMeilisearch:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ what tests read
    def writes(self, path_re: str = "") -> list[Request]:
        return [r for r in self.requests if r.method != "GET" and re.search(path_re, r.path)
                and not r.path.endswith("/search")]

    def docs(self, uid: str) -> dict[str, dict[str, Any]]:
        with self.lock:
            self.settle()
            index = self.indexes.get(uid)
            return dict(index.documents) if index else {}

    def settle(self) -> None:
        """Process every queued task (what the real server does on its own, eventually)."""
        with self.lock:
            for task in self.tasks:
                if task["status"] in ("enqueued", "processing"):
                    self._process(task)

    # ------------------------------------------------------------------ tasks
    def enqueue(self, index_uid: str | None, type_: str, apply, details: dict | None = None) -> dict[str, Any]:
        with self.lock:
            task = {"uid": len(self.tasks), "indexUid": index_uid, "status": "enqueued", "type": type_,
                    "canceledBy": None, "details": details or {}, "error": None, "duration": None,
                    "enqueuedAt": _now(), "startedAt": None, "finishedAt": None, "_apply": apply}
            self.tasks.append(task)
            return {"taskUid": task["uid"], "indexUid": index_uid, "status": "enqueued", "type": type_,
                    "enqueuedAt": task["enqueuedAt"]}

    def poll(self, uid: int) -> dict[str, Any] | None:
        with self.lock:
            if uid >= len(self.tasks):
                return None
            task = self.tasks[uid]
            self.polled.set()
            if self.hold:
                task["status"] = "processing"
            elif task["status"] == "enqueued":
                task["status"], task["startedAt"] = "processing", _now()
            elif task["status"] == "processing":
                for earlier in self.tasks[: uid + 1]:
                    if earlier["status"] in ("enqueued", "processing"):
                        self._process(earlier)
            return {k: v for k, v in task.items() if not k.startswith("_")}

    def _process(self, task: dict[str, Any]) -> None:
        task["startedAt"] = task["startedAt"] or _now()
        problem = None
        if self.fail_tasks > 0 or task["type"] in self.fail_types:
            self.fail_tasks = max(0, self.fail_tasks - 1)
            problem = error("Injected failure.", "internal", "internal")
        else:
            problem = task["_apply"]()
        task["status"] = "failed" if problem else "succeeded"
        task["error"] = problem
        task["finishedAt"], task["duration"] = _now(), "PT0.001S"


def _handler(fake: FakeMeilisearch):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            if fake.down:
                self.close_connection = True
                self.connection.close()  # the client sees a dropped connection
                return
            if fake.delay_s:
                time.sleep(fake.delay_s)
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            request = Request(method, parts.path, parse_qs(parts.query), body, dict(self.headers))
            with fake.lock:
                fake.requests.append(request)
            auth = self.headers.get("Authorization")
            if fake.api_key and not auth:
                return self._send(401, error("The Authorization header is missing.", "missing_authorization_header",
                                             "auth"))
            if fake.api_key and auth != f"Bearer {fake.api_key}":
                return self._send(403, error("The provided API key is invalid.", "invalid_api_key", "auth"))
            status, answer = route(fake, request)
            self._send(status, answer)

        def _send(self, status: int, answer: Any) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

    return Handler


def route(fake: FakeMeilisearch, r: Request) -> tuple[int, Any]:
    m = re.fullmatch(r"/tasks/(\d+)", r.path)
    if m and r.method == "GET":
        task = fake.poll(int(m.group(1)))
        return (200, task) if task else (404, error(f"Task `{m.group(1)}` not found.", "task_not_found"))
    if r.path == "/health":
        return 200, {"status": "available"}
    if r.path == "/indexes" and r.method == "POST":
        uid, pk = r.body["uid"], r.body.get("primaryKey")

        def create():
            if uid in fake.indexes:
                return error(f"Index `{uid}` already exists.", "index_already_exists")
            fake.indexes[uid] = FakeIndex(uid, pk)
            return None
        return 202, fake.enqueue(uid, "indexCreation", create, {"primaryKey": pk})
    if r.path == "/swap-indexes" and r.method == "POST":
        pairs = [tuple(item["indexes"]) for item in r.body]

        def swap():
            for a, b in pairs:
                if a not in fake.indexes or b not in fake.indexes:
                    missing = a if a not in fake.indexes else b
                    return error(f"Index `{missing}` not found.", "index_not_found")
            for a, b in pairs:
                fake.indexes[a], fake.indexes[b] = fake.indexes[b], fake.indexes[a]
                fake.indexes[a].uid, fake.indexes[b].uid = a, b
            return None
        return 202, fake.enqueue(None, "indexSwap", swap, {"swaps": r.body})
    m = re.fullmatch(r"/indexes/([^/]+)(/.*)?", r.path)
    if not m:
        return 404, error("Not found.", "not_found")
    uid, rest = m.group(1), m.group(2) or ""
    index = fake.indexes.get(uid)
    if rest == "" and r.method == "GET":
        if index is None:
            return 404, error(f"Index `{uid}` not found.", "index_not_found")
        return 200, {"uid": uid, "primaryKey": index.primary_key, "createdAt": _now(), "updatedAt": _now()}
    if rest == "" and r.method == "DELETE":
        def drop():
            return None if fake.indexes.pop(uid, None) else error(f"Index `{uid}` not found.", "index_not_found")
        return 202, fake.enqueue(uid, "indexDeletion", drop)
    if rest == "/settings" and r.method == "GET":
        if index is None:
            return 404, error(f"Index `{uid}` not found.", "index_not_found")
        return 200, index.settings
    if rest == "/settings" and r.method == "PATCH":
        body = r.body

        def update():
            target = fake.indexes.setdefault(uid, FakeIndex(uid))
            target.settings.update(body)
            return None
        return 202, fake.enqueue(uid, "settingsUpdate", update, body)
    if rest == "/documents" and r.method in ("POST", "PUT"):
        docs, pk_param = r.body, (r.query.get("primaryKey") or [None])[0]

        def add():
            target = fake.indexes.setdefault(uid, FakeIndex(uid, pk_param))
            target.primary_key = target.primary_key or pk_param
            if target.primary_key is None:
                return error("The primary key inference failed.", "index_primary_key_no_candidate_found")
            for doc in docs:
                key = str(doc[target.primary_key])
                fake.applied_at[(uid, key)] = time.monotonic()
                merged = {**target.documents.get(key, {}), **doc} if r.method == "PUT" else doc
                target.documents[key] = merged
            return None
        return 202, fake.enqueue(uid, "documentAdditionOrUpdate", add, {"receivedDocuments": len(docs)})
    if rest == "/documents/delete" and r.method == "POST":
        expression = r.body["filter"]

        def delete():
            target = fake.indexes.get(uid)
            if target is None:
                return error(f"Index `{uid}` not found.", "index_not_found")
            for key in [k for k, d in target.documents.items() if matches_filter(d, expression)]:
                del target.documents[key]
            return None
        return 202, fake.enqueue(uid, "documentDeletion", delete, {"originalFilter": json.dumps(expression)})
    if rest == "/documents/fetch" and r.method == "POST":
        if index is None:
            return 404, error(f"Index `{uid}` not found.", "index_not_found")
        body = r.body or {}
        with fake.lock:
            expression = body.get("filter")
            expression = " AND ".join(expression) if isinstance(expression, list) else expression
            docs = [d for d in index.documents.values() if not expression or matches_filter(d, expression)]
        limit, offset, fields = body.get("limit", 20), body.get("offset", 0), body.get("fields")
        page = [{k: v for k, v in d.items() if not fields or k in fields} for d in docs[offset: offset + limit]]
        return 200, {"results": page, "offset": offset, "limit": limit, "total": len(docs)}
    if rest == "/search" and r.method == "POST":
        if index is None:
            return 404, error(f"Index `{uid}` not found.", "index_not_found")
        try:
            return 200, search(index, r.body)
        except FakeError as exc:
            return exc.status, exc.answer
    return 404, error("Not found.", "not_found")


def search(index: FakeIndex, body: dict[str, Any]) -> dict[str, Any]:
    q = (body.get("q") or "").lower().split()
    fields = index.settings["searchableAttributes"]
    limit, offset = body.get("limit", 20), body.get("offset", 0)
    filters = body.get("filter") or []
    filters = [filters] if isinstance(filters, str) else filters
    hits = []
    for doc in index.documents.values():
        text = " ".join(str(v).lower() for k, v in doc.items() if fields == ["*"] or k in fields)
        if all(word in text for word in q) and all(matches_filter(doc, f) for f in filters):
            hits.append(doc)
    for spec in reversed(body.get("sort") or []):  # stable sorts, last key first; no value sorts last
        attribute, _, direction = spec.partition(":")
        if attribute not in index.settings["sortableAttributes"]:
            raise FakeError(400, error(f"Attribute `{attribute}` is not sortable.", "invalid_search_sort"))
        present = [d for d in hits if d.get(attribute) is not None]
        present.sort(key=lambda d: d[attribute], reverse=direction == "desc")
        hits = present + [d for d in hits if d.get(attribute) is None]
    reachable = hits[: index.settings["pagination"]["maxTotalHits"]]
    retrieve = body.get("attributesToRetrieve")
    page = [{k: v for k, v in d.items() if not retrieve or k in retrieve} for d in reachable[offset: offset + limit]]
    return {"hits": page, "query": body.get("q") or "", "processingTimeMs": 1, "limit": limit, "offset": offset,
            "estimatedTotalHits": len(hits)}


def _value(text: str) -> Any:
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    return json.loads(text) if text.startswith('"') else (float(text) if "." in text else int(text))


def matches_filter(doc: dict[str, Any], expression: str) -> bool:
    """``a = v``, ``a IN [v, ...]``, ``a IS NULL`` / ``IS NOT NULL``, ANDed with ``AND``."""
    for part in re.split(r"\s+AND\s+", expression.strip()):
        m = re.fullmatch(r"(\S+) IN \[(.*)\]", part)
        if m:
            values = [_value(v) for v in re.findall(r'"(?:[^"\\]|\\.)*"|[^,\s]+', m.group(2))]
            if _norm(doc.get(m.group(1))) not in [_norm(v) for v in values]:
                return False
            continue
        m = re.fullmatch(r"(\S+) IS (NOT )?NULL", part)
        if m:
            if (doc.get(m.group(1)) is None) == bool(m.group(2)):
                return False
            continue
        m = re.fullmatch(r"(\S+) = (.+)", part)
        if not m or _norm(doc.get(m.group(1))) != _norm(_value(m.group(2))):
            return False
    return True


def _norm(value: Any) -> Any:
    return str(value) if not isinstance(value, bool) else value
