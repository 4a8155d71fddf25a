"""Wall and CPU ms (median of REPEAT, default 5) of issue 8's search cases on a seeded example shop.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_x python example_project/search_timings.py

Seed first (``manage.py seed --rows 1000000``, then ``fastadmin_indexes --apply``). The full-text case
needs an ``@`` field, which the example admins do not have: a lead admin with ``search_fields =
["@notes"]`` is registered on an extra site at ``/ft/`` (``APPLY_FT=1`` builds its planned index).
Each line: case, HTTP status, wall ms, CPU ms of this process (``time.process_time``), and the count
the page shows.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
import example_project.settings as project_settings

project_settings.INSTALLED_APPS.append("django.contrib.postgres")  # stock's '@' lookup needs it
project_settings.ALLOWED_HOSTS = ["*"]
import django  # noqa: E402

django.setup()
import example_project.urls as urls  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import path  # noqa: E402
from shop.admin import LeadOptions  # noqa: E402
from shop.models import Lead  # noqa: E402

import fastadmin  # noqa: E402

CASES = [
    ("related common term (order ?q=smith)", "/admin/shop/order/?q=smith"),
    ("short prefix, no match (lead ?q=qz)", "/admin/shop/lead/?q=qz"),
    ("short prefix, matches (lead ?q=an)", "/admin/shop/lead/?q=an"),
    ("full-text @notes (lead ?q=demo)", "/ft/shop/lead/?q=demo"),
    ("common surname count (lead ?q=smith)", "/admin/shop/lead/?q=smith"),
]


class FullTextLeadAdmin(LeadOptions, fastadmin.ModelAdmin):
    search_fields = ["@notes"]


def main() -> None:
    site = fastadmin.FastAdminSite(name="ft")
    site.register(Lead, FullTextLeadAdmin)
    urls.urlpatterns.append(path("ft/", site.urls))
    if os.environ.get("APPLY_FT"):
        from fastadmin.search_index.catalog import status
        from fastadmin.search_index.operations import build
        from fastadmin.search_index.plan import build_plan

        build(status(build_plan([site.get_model_admin(Lead)])))
    user, _ = get_user_model().objects.update_or_create(
        username="search_timings", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    repeat = int(os.environ.get("REPEAT", 5))
    for name, url in CASES:
        client.get(url)  # warm-up
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        body = response.content.decode()
        count = "-"
        if 'class="fa-count"' in body:
            count = " ".join(body.split('class="fa-count"')[1].split("</span>")[0].split(">", 1)[1].split())
        print(f"{name:40s} {response.status_code} wall {statistics.median(walls):7.1f} ms"
              f"  cpu {statistics.median(cpus):6.1f} ms  count: {count}")


if __name__ == "__main__":
    main()
