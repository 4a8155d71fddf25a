"""``ObjectCacheMixin``: the change view (GET) of read-mostly models reads through :mod:`fastadmin.cache`."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from . import cache as object_cache
from .conf import fa_settings


class ObjectCacheMixin:
    """Serves ``get_object`` for GET/HEAD from the object cache when the admin opts in.

    Misses are read through ``get_queryset(request)``, as stock's ``get_object`` reads, so a row the
    default manager hides (soft delete) is "not found" here too.
    """

    #: Read the change view's object (GET) through :mod:`fastadmin.cache`; None means the model's label
    #: is in ``FASTADMIN["OBJECT_CACHE_MODELS"]``. Ignored when ``get_queryset`` is overridden (W202).
    object_cache: bool | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.uses_object_cache():
            object_cache.register(self.model)

    def uses_object_cache(self) -> bool:
        wanted = self.object_cache
        if wanted is None:
            wanted = self.model._meta.label in fa_settings.OBJECT_CACHE_MODELS
        return bool(wanted) and not queryset_is_customised(self)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        if request.method in ("GET", "HEAD") and from_field is None and self.uses_object_cache():
            try:
                queryset = self.get_queryset(request)
                return object_cache.get_object(self.model, unquote(object_id), queryset=queryset)
            except (self.model.DoesNotExist, ValidationError, ValueError):
                return None
        return super().get_object(request, object_id, from_field)


def queryset_is_customised(model_admin: Any) -> bool:
    """True if a project class overrides ``get_queryset`` (it may hide rows the cache would serve)."""
    for klass in type(model_admin).__mro__:
        if "get_queryset" in vars(klass):
            return not klass.__module__.startswith(("django.contrib.admin.", "fastadmin."))
    return False
