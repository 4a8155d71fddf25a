"""Settings of the Celery worker the background-action tests start: small, slow chunks and a fast
sweep, from the environment (``FASTADMIN_TEST_JOBS``: ``chunk,pause_s,heartbeat_s,sweep_s``)."""

import os

from tests.settings import *  # noqa: F403

_chunk, _pause, _heartbeat, _sweep = os.environ.get("FASTADMIN_TEST_JOBS", "20,0,30,15").split(",")
FASTADMIN = {
    **FASTADMIN,  # noqa: F405
    "BACKGROUND_CHUNK_SIZE": int(_chunk),
    "BACKGROUND_CHUNK_PAUSE_S": float(_pause),
    "JOB_HEARTBEAT_TIMEOUT_S": int(_heartbeat),
    "JOB_SWEEP_INTERVAL_S": int(_sweep),
}
