"""The demo's embedded Celery broker: Kombu's filesystem transport, a broker that needs no server.

Used when neither ``CELERY_BROKER_URL`` nor ``REDIS_URL`` is set (``make demo`` on a bare machine).
Messages are files in ``<directory>/queue`` shared by every process of the project (runserver
publishes, ``celery worker -B`` consumes); ``control`` holds the broadcast mailboxes that ``celery
inspect`` uses. Set ``CELERY_BROKER_DIR`` to keep them elsewhere than ``<repo>/.celery-broker``.
"""

from __future__ import annotations

from pathlib import Path


def filesystem_transport_options(directory: Path) -> dict[str, str]:
    """``CELERY_BROKER_TRANSPORT_OPTIONS`` for ``filesystem://`` in ``directory`` (created)."""
    for sub in ("queue", "processed", "control"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    return {"data_folder_in": str(directory / "queue"), "data_folder_out": str(directory / "queue"),
            "processed_folder": str(directory / "processed"), "control_folder": str(directory / "control")}
