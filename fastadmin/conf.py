"""All of fastadmin's settings, read from one ``FASTADMIN`` dict in the project's settings.

Every key has a default here; a project sets only what it changes::

    FASTADMIN = {"EXACT_COUNT_THRESHOLD": 50_000, "READ_DATABASE": "replica"}

Values are read on each access (not cached at import) so ``override_settings`` works in tests.
Unknown keys are reported by the system check ``fastadmin.E001``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

DEFAULTS: dict[str, Any] = {
    # Paginator strategy used by every fastadmin.ModelAdmin that does not set ``paginator_class``.
    "PAGINATOR": "fastadmin.pagination.KeysetPaginator",
    # Counter strategy used by every fastadmin.ModelAdmin that does not set ``counter_class``.
    "COUNTER": "fastadmin.counting.EstimatedCounter",
    # Below this estimated number of rows an exact COUNT(*) is affordable and is run (under a timeout).
    "EXACT_COUNT_THRESHOLD": 10_000,
    # Milliseconds one admin read (changelist, counts, filters) may take before PostgreSQL cancels it.
    "STATEMENT_TIMEOUT_MS": 5_000,
    # Milliseconds an ordered read of a filtered list (a page, the date range) may walk its sort index
    # looking for matches; past it the read runs again as "read the matches, then sort them" (matches
    # at the far end of the sort order made the walk read the whole table). None turns it off. See
    # fastadmin/walks.py.
    "WALK_TIMEOUT_MS": 500,
    # Milliseconds the changelist's capped count (at most EXACT_COUNT_THRESHOLD + 1 rows, run when the
    # estimate is under the threshold) may take; past it the estimate is shown.
    "COUNT_TIMEOUT_MS": 250,
    # Milliseconds one changelist request may spend on the database in all (page, counts, facets, search
    # probes): per-choice facet estimates stop ("not counted") when it runs out, anything else answers
    # the too-slow page (503). A little above STATEMENT_TIMEOUT_MS, so one slow statement alone still
    # gets the statement timeout's answer. None turns it off. See fastadmin.budget.
    "REQUEST_BUDGET_MS": 6_000,
    # Milliseconds the "count exactly" link may spend counting before it answers "more than N".
    "EXACT_COUNT_TIMEOUT_MS": 5_000,
    # Database alias serving changelist reads and counts (a read replica); None means the model's own.
    "READ_DATABASE": None,
    # Strategy deciding, per changelist request, whether READ_DATABASE or the primary serves it
    # (read-your-writes, lag limit, replica down); see fastadmin/replica.py for the contract.
    "READ_POLICY": "fastadmin.replica.ReplicaPolicy",
    # Seconds a replica may lag (time since its last replayed commit, while it has WAL left to replay)
    # before changelists read the primary instead, saying so on the page.
    "REPLICA_MAX_LAG_S": 30,
    # A related table with more rows than this is not listed in full by a list_filter.
    "FILTER_MAX_CHOICES": 100,
    # A foreign key edited in a list_editable or inline row is a <select> of its choices in every row;
    # with more choices than this (read with LIMIT n + 1) it is a raw-id input, as raw_id_fields would make it.
    "EDITABLE_MAX_CHOICES": 500,
    # How many objects the delete confirmation of a large selection previews.
    "DELETE_PREVIEW_LIMIT": 20,
    # Search backend used by every fastadmin.ModelAdmin that does not set ``search_backend``
    # (fastadmin.search_index.backends.DjangoSearchBackend is stock admin search, unchanged).
    "SEARCH_BACKEND": "fastadmin.search_index.backends.TrigramSearchBackend",
    # Longest search (characters) and most distinct words accepted; longer input gets a 400 page
    # saying so. None (the default) accepts any search, as stock admin does.
    "SEARCH_MAX_LENGTH": None,
    "SEARCH_MAX_TERMS": None,
    # On a table with fewer rows than this (estimated), a word too short for the trigram index is
    # still searched inside values, as stock does (reading the table is cheap); 0 never does.
    "SEARCH_SCAN_ROWS": 10_000,
    # A search first collects up to this many matching primary keys (unordered, index-served); if
    # that is all of them the page looks those keys up and sorts them (bounded by their number, however
    # they lie in the sort order) and they are the exact count. More matches: the page filters and walks
    # the sort index, fast for a common term. 0 turns the probe off. See backends._narrow.
    "SEARCH_PROBE_LIMIT": 10_000,
    # A search term through a foreign key (``customer__name``) first reads up to this many matching
    # related keys and filters on ``customer_id = ANY(those)``; more (a common term) use a hashed
    # ``IN (subquery)``. 0 keeps the subquery always. See search_index/relations.py.
    "SEARCH_RELATED_LIMIT": 10_000,
    # Text search configuration of '@' search fields, in the query and the index the plan builds
    # (e.g. "simple"); None: the database's default_text_search_config, which stock's '@' uses.
    "SEARCH_FULLTEXT_CONFIG": None,
    # Salt-less secret for signed cursors; None uses SECRET_KEY (a dedicated key can be rotated alone).
    "SIGNING_KEY": None,
    # Optimistic locking (edit tokens + three-way merge) on every fastadmin.ModelAdmin: True (a POST
    # without a fastadmin token is saved like stock, with a logged warning), "strict" (such a POST is a
    # 400) or False (off). An admin can opt out with ``optimistic_locking = False``. See docs/locking.md.
    "LOCKING": True,
    # Locking strategy used by every fastadmin.ModelAdmin that does not set ``locking_class``.
    "LOCKING_CLASS": "fastadmin.locking.RowLocking",
    # Seconds an edit or page token stays valid; an older form gets a 400 page asking for a reload.
    "TOKEN_MAX_AGE_S": 86_400,
    # An action on rows changed since the page was shown: "refuse" runs nothing and names the rows;
    # "skip" runs the action on the unchanged rows only and names the skipped ones.
    "STALE_SELECTION": "refuse",
    # Cache alias (settings.CACHES) holding fastadmin.cache's pickled model instances.
    "OBJECT_CACHE_ALIAS": "default",
    # Seconds a cached instance lives; invalidation on save/delete normally removes it sooner.
    "OBJECT_CACHE_TIMEOUT": 300,
    # Model labels ("shop.Customer") whose admin change view (GET) reads the object through the cache.
    "OBJECT_CACHE_MODELS": [],
    # Render the changelist's rows with fastadmin.rendering (each list_display column compiled once per
    # request; the same HTML as stock), its sidebar filters in one pass, and reuse the navigation sidebar
    # while its inputs stay the same (fastadmin.rendering.sidebar). Off, or with a project's own
    # templates, or on a Django version it was not verified against, stock's templates render them.
    "COMPILED_RESULT_LIST": True,
    # Meilisearch sidecar (``search_backend = "meilisearch"``); None turns it off. A dict with the keys
    # of fastadmin.search_index.sidecar.MEILISEARCH_DEFAULTS: "URL" (required), "API_KEY" (None; kept
    # server-side, never rendered), "INDEX_PREFIX" ("": index uid is <prefix><app_label>_<model_name>),
    # "SWEEP_INTERVAL_S" (60: beat runs fastadmin.tasks.sweep_search_outbox this often), "TIMEOUT_S" (5:
    # per Meilisearch request and task wait; a slower search falls back to the trigram backend),
    # "MAX_TOTAL_HITS" (10000: the index's pagination.maxTotalHits, how far a search can be paged).
    "MEILISEARCH": None,
    # Background actions (fastadmin.jobs, run by Celery): update_action and delete_selected leave the
    # request for a job when the selection holds more rows than this (counted or estimated); actions
    # declared with ``@fastadmin.action(background=True)`` always do.
    "BACKGROUND_ACTION_THRESHOLD": 10_000,
    # Rows of a background job's first chunk; each chunk (and the job's checkpoint) is one transaction.
    # Later chunks double while one takes under a tenth of JOB_HEARTBEAT_TIMEOUT_S, up to 10x this
    # (not when BACKGROUND_CHUNK_PAUSE_S throttles the job).
    "BACKGROUND_CHUNK_SIZE": 5_000,
    # Seconds a job pauses after each chunk, to leave the database (and replicas) room; 0: none.
    "BACKGROUND_CHUNK_PAUSE_S": 0,
    # A running job whose heartbeat (refreshed every chunk) is older than this many seconds is handed
    # to a new task run by the sweep (fastadmin.tasks.sweep_jobs), which beat runs every
    # JOB_SWEEP_INTERVAL_S seconds: a killed worker's job resumes within the sum of the two.
    "JOB_HEARTBEAT_TIMEOUT_S": 30,
    "JOB_SWEEP_INTERVAL_S": 15,
}


class FastAdminSettings:
    """Attribute access to ``settings.FASTADMIN`` merged over :data:`DEFAULTS`."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown fastadmin setting {name!r}")
        user = getattr(django_settings, "FASTADMIN", {}) or {}
        return user.get(name, DEFAULTS[name])


fa_settings = FastAdminSettings()
