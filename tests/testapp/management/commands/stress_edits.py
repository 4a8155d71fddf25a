"""``stress_edits``: the full-size lost-update benchmark, stock admin vs fastadmin.

    PYTHONPATH=. .venv/bin/python example_project/manage.py stress_edits --settings=tests.settings \\
        --editors 64 --rounds 5

Creates a scratch database (``<name>_stress``, dropped afterwards) on the configured PostgreSQL,
starts ``runserver`` on it in another process, lets ``--editors`` threads edit ``--rows`` rows of
Gadget (versionless) and Ticket (VersionField) with random pauses between GET and POST, then edit
two inline rows (Part) and the parent of ``--rows`` Gadgets through the change form, and prints the
lost updates counted for each site and scenario, then the queries of one change-form save.
"""

from __future__ import annotations

import time
from functools import partial

from django.core.management.base import BaseCommand
from django.db import connection

from tests.stress_scenario import MODELS, change_form_queries, inline_scenario, scenario, start_server


class Command(BaseCommand):
    help = "Concurrent editors over HTTP: silent lost updates on stock admin vs fastadmin, and query counts."

    def add_arguments(self, parser):
        parser.add_argument("--editors", type=int, default=64)
        parser.add_argument("--rounds", type=int, default=5)
        parser.add_argument("--rows", type=int, default=4)
        parser.add_argument(
            "--max-delay", type=float, default=0.2, help="seconds between GET and POST, at most"
        )
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        creation = connection.creation
        original = connection.settings_dict["NAME"]
        connection.settings_dict["TEST"] = {
            **connection.settings_dict.get("TEST", {}),
            "NAME": f"{original}_stress",
        }
        creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        try:
            self.run(options)
        finally:
            creation.destroy_test_db(original, verbosity=0)

    def run(self, options):
        out = self.stdout
        out.write(
            f"{options['editors']} editors x {options['rounds']} rounds over {options['rows']} rows, "
            f"3 text fields, pause 0-{options['max_delay']}s between GET and POST\n"
        )
        server = start_server()
        try:
            sizes = {key: options[key] for key in ("rows", "editors", "rounds", "max_delay", "seed")}
            for site in ("stock", "admin"):
                runs = [partial(scenario, server, site, model) for model in MODELS]
                runs.append(partial(inline_scenario, server, site))
                for run in runs:
                    started = time.perf_counter()
                    result = run(**sizes)
                    out.write(f"{result.line()}  ({time.perf_counter() - started:.1f}s)\n")
                    for error in result.tally.errors[:3]:
                        out.write(f"    error: {error}\n")
        finally:
            server.stop()
        out.write("queries for one change-form save (POST only):\n")
        for model in MODELS:
            counts = change_form_queries(model)
            out.write(
                f"    {model.__name__:<7} stock={counts['stock']}  fastadmin={counts['admin']}  "
                f"extra={counts['admin'] - counts['stock']}\n"
            )
