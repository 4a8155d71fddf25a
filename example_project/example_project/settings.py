"""Settings of the fastadmin example project.

Everything a developer may want to change comes from the environment:

* ``DATABASE_URL`` — PostgreSQL to use; unset means an embedded server in ``<repo>/.pgdata``
  (see :mod:`example_project.devdb`).
* ``REDIS_URL`` — use Redis (django-redis) as the cache and the Celery broker; unset means a
  per-process LocMemCache and the embedded filesystem broker (:mod:`example_project.broker`,
  ``CELERY_BROKER_DIR``). ``CELERY_BROKER_URL`` overrides the broker alone.
* ``MEILI_URL`` / ``MEILI_MASTER_KEY`` — search the lead, customer and order admins through Meilisearch.
* ``DJANGO_DEBUG`` — ``0``/``false`` turns DEBUG off (default on: this is a local demo).
* ``DJANGO_SECRET_KEY`` — a dev default is used when unset; never deploy with it.
"""

from __future__ import annotations

import os
from pathlib import Path

from example_project.broker import filesystem_transport_options
from example_project.devdb import database_url, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent  # example_project/

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-fastadmin-example-key-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1").lower() not in {"0", "false", "no", "off", ""}
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # the "@" (full-text) search field of the lead-notes admin
    "django_filters",
    "fastadmin",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

# Django (4.1+) wraps these loaders in its cached loader whatever DEBUG says (and resets it on code
# reload): the demo and the benchmark read each template file once per process. The benchmark's
# report lists the loaders it ran with.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_db = parse_database_url(database_url())
# pytest-django / `manage.py test` create and drop this database; keep it apart from the demo data.
_db["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or f"test_{_db['NAME']}"}
_db["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "0"))
DATABASES = {"default": _db}

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = []  # a local demo: the seeded login is admin/admin

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# fastadmin: every key is optional (defaults in fastadmin/conf.py); the demo keeps the defaults
# except where an environment variable says otherwise.
FASTADMIN: dict = {}
if os.environ.get("REDIS_URL"):
    # Customers are read far more often than written: their change view reads through the object
    # cache (fastadmin.cache; keys follow the schema, invalidated on commit). Needs a shared cache.
    FASTADMIN["OBJECT_CACHE_MODELS"] = ["shop.Customer"]
if os.environ.get("FASTADMIN_STATEMENT_TIMEOUT_MS"):
    FASTADMIN["STATEMENT_TIMEOUT_MS"] = int(os.environ["FASTADMIN_STATEMENT_TIMEOUT_MS"])

# Celery (example_project/celery.py reads the CELERY_ keys). Redis when REDIS_URL is set, otherwise
# Kombu's filesystem transport: a broker that needs no server, for the demo.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_transport_options(
        Path(os.environ.get("CELERY_BROKER_DIR") or BASE_DIR.parent / ".celery-broker"))
CELERY_TASK_IGNORE_RESULT = True
# A worker killed mid-task: redeliver rather than acknowledge (the outbox sweep is the guarantee).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True

# Meilisearch sidecar: with MEILI_URL set, every fastadmin admin with search_fields searches through it.
if os.environ.get("MEILI_URL"):
    FASTADMIN["MEILISEARCH"] = {"URL": os.environ["MEILI_URL"], "API_KEY": os.environ.get("MEILI_MASTER_KEY"),
                                "INDEX_PREFIX": os.environ.get("MEILI_INDEX_PREFIX", "")}
    FASTADMIN["SEARCH_BACKEND"] = "meilisearch"
