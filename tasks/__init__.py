"""Celery tasks of fastadmin, installed as ``fastadmin.tasks``.

Empty for now: the Meilisearch sidecar (outbox drain, sweep, reindex) and background actions land
here with their own issues. The package exists so the wheel layout is final from the start.
"""
