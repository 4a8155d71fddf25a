"""Settings of the Celery worker the sidecar tests start: the test settings plus the fake server."""

import os

from tests.settings import *  # noqa: F403

FASTADMIN = {
    **FASTADMIN,  # noqa: F405
    "SEARCH_BACKEND": "meilisearch",
    "MEILISEARCH": {"URL": os.environ["FASTADMIN_TEST_MEILI_URL"], "API_KEY": os.environ["FASTADMIN_TEST_MEILI_KEY"],
                    "INDEX_PREFIX": "t_", "TIMEOUT_S": 2, "SWEEP_INTERVAL_S": 1},
}
