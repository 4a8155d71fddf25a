"""The lost-update comparison, shared by ``tests/test_locking_stress.py`` and ``stress_edits``.

Rows of a test model, editors on a live server (another process), then the final rows compared
with every edit the server reported saved. See :mod:`example_project.stress` for the method.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from example_project.stress import LiveServer, Tally, form_fields, lost_updates, replace, run_editors

from tests.testapp.models import Gadget, Part, Ticket

REPO_ROOT = Path(__file__).resolve().parents[1]
FIELDS = ["notes", "memo", "log"]
PASSWORD = "stress-pw"


@dataclass
class Result:
    site: str
    model: str
    tally: Tally
    lost: list

    def line(self) -> str:
        o = self.tally.outcomes
        return (
            f"{self.site:<9} {self.model:<7} saved={o['saved']:<5} conflicts(409)={o['conflict']:<5} "
            f"errors={o['error']:<3} LOST UPDATES={len(self.lost)}"
        )


def users(n: int = 8) -> list[tuple[str, str]]:
    User = get_user_model()
    out = []
    for i in range(n):
        name = f"editor{i}"
        if not User.objects.filter(username=name).exists():
            User.objects.create_superuser(name, f"{name}@example.com", PASSWORD)
        out.append((name, PASSWORD))
    return out


def start_server() -> LiveServer:
    server = LiveServer("tests.settings", connection.settings_dict, REPO_ROOT)
    server.wait_ready()
    return server


def scenario(
    server: LiveServer,
    site: str,
    model,
    *,
    rows: int,
    editors: int,
    rounds: int,
    max_delay: float,
    seed: int = 1,
) -> Result:
    objs = [model.objects.create(name=f"stress {i}", city="Oslo") for i in range(rows)]
    paths = {o.pk: f"/{site}/testapp/{model._meta.model_name}/{o.pk}/change/" for o in objs}
    tally = run_editors(
        server.url,
        f"/{site}/login/",
        paths,
        FIELDS,
        editors=editors,
        rounds=rounds,
        max_delay=max_delay,
        users=users(),
        seed=seed,
    )
    final = {o.pk: {f: getattr(o, f) for f in FIELDS} for o in model.objects.filter(pk__in=paths)}
    return Result(site, model.__name__, tally, lost_updates(tally, final))


#: The inline scenario's fields: two inline rows' notes (form names, rows in pk order) and the parent's.
INLINE_FIELDS = ["part_set-0-note", "part_set-1-note", "notes"]


def inline_scenario(
    server: LiveServer, site: str, *, rows: int, editors: int, rounds: int, max_delay: float, seed: int = 1
) -> Result:
    """Editors appending to inline rows (Part of Gadget) and to the parent, through the change form."""
    objs = [Gadget.objects.create(name=f"inline stress {i}", city="Oslo") for i in range(rows)]
    for obj in objs:
        Part.objects.bulk_create([Part(gadget=obj, label="a"), Part(gadget=obj, label="b")])
    paths = {o.pk: f"/{site}/testapp/gadget/{o.pk}/change/" for o in objs}
    tally = run_editors(server.url, f"/{site}/login/", paths, INLINE_FIELDS, editors=editors, rounds=rounds,
                        max_delay=max_delay, users=users(), seed=seed)
    final = {}
    for obj in Gadget.objects.filter(pk__in=paths):
        parts = list(Part.objects.filter(gadget=obj).order_by("pk"))
        final[obj.pk] = {"part_set-0-note": parts[0].note, "part_set-1-note": parts[1].note, "notes": obj.notes}
    return Result(site, "inlines", tally, lost_updates(tally, final))


def change_form_queries(model) -> dict[str, int]:
    """Queries of one change-form save (GET excluded), stock admin vs fastadmin, same data."""
    client = Client()
    client.force_login(get_user_model().objects.get(username="editor0"))
    obj = model.objects.create(name="query count", city="Oslo")
    counts = {}
    for site in ("stock", "admin"):
        path = f"/{site}/testapp/{model._meta.model_name}/{obj.pk}/change/"
        fields = replace(form_fields(client.get(path).content.decode()), city=f"city {site}", _save="1")
        data: dict[str, list[str]] = {}
        for name, value in fields:
            data.setdefault(name, []).append(value)
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, data)
        assert response.status_code == 302, response.status_code
        counts[site] = len(queries)
    return counts


MODELS = [Gadget, Ticket]
