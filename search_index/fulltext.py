"""``@`` search fields: full-text search in the exact shape of the index the plan builds.

Stock's ``@`` compiles to ``to_tsvector(COALESCE(col, '')) @@ plainto_tsquery('term')``: the
one-argument ``to_tsvector`` reads ``default_text_search_config`` at run time, so it is not immutable
and no index can hold it. The trigram backend names the configuration instead —
``to_tsvector('english'::regconfig, COALESCE(col, '')) @@ plainto_tsquery('english'::regconfig, 'term')``
— and the plan builds a GIN index on that same expression. The configuration is
``SEARCH_FULLTEXT_CONFIG``, by default the database's own ``default_text_search_config``, so the rows
found are the rows stock finds.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorExact
from django.db import connections, models
from django.db.models import Q

from fastadmin.conf import fa_settings

from .plan import IndexNeed, Key, index_name, normalise

FULLTEXT_GIN = "full-text gin"

_configs: dict[tuple[str, str | None], str] = {}


def config(using: str) -> str:
    """The text search configuration, as PostgreSQL prints it (``english``): the one in the index
    expression and in every query. Read once per database and setting."""
    configured = fa_settings.SEARCH_FULLTEXT_CONFIG
    key = (using, configured)
    if key not in _configs:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT COALESCE(%s, current_setting('default_text_search_config'))::regconfig::text",
                           [configured])
            _configs[key] = cursor.fetchone()[0]
    return _configs[key]


def condition(path: str, value: str, using: str) -> Q:
    """``to_tsvector(config, COALESCE(path, '')) @@ plainto_tsquery(config, value)``."""
    name = config(using)
    return Q(SearchVectorExact(SearchVector(path, config=name), SearchQuery(value, config=name)))


def fulltext_need(model: type[models.Model], model_field: models.Field, using: str = "default") -> IndexNeed:
    name = config(using)
    index = GinIndex(SearchVector(model_field.name, config=name),
                     name=index_name(model._meta.db_table, [model_field.column], "fts"))
    printed = f"to_tsvector('{name}'::regconfig, COALESCE({model_field.column}, ''::text))"
    return IndexNeed(model, FULLTEXT_GIN, (Key(normalise(printed)),), index,
                     label=f"to_tsvector('{name}', {model_field.column})")
