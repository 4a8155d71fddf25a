"""The example project's Celery app ("First steps with Django"): settings under the ``CELERY_``
namespace, tasks found in every installed app — fastadmin's in ``fastadmin.tasks``.

    celery -A example_project worker -B -l info     # from example_project/ (beat runs the outbox sweep)
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

app = Celery("example_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
