"""fastadmin: a drop-in Django admin for PostgreSQL tables with tens of millions of rows.

Change ``from django.contrib import admin`` / ``admin.site`` to ``import fastadmin`` / ``fastadmin.site``;
every stock option keeps working, and changelists page by cursor and count by estimate.
"""

from django.contrib.admin import display

from . import cache
from .bulk import update_action, update_rows
from .counting import BaseCounter
from .fields import VersionField
from .jobs import BackgroundAction, action
from .locking import BaseLocking, EditConflict, OptimisticLockingMixin, RowLocking, StaleVersion, save_versioned
from .options import FastAdminMixin, ModelAdmin, StackedInline, TabularInline
from .pagination import BasePaginator
from .replica import ReadRoute, ReplicaPolicy
from .search_index.backends import BaseSearchBackend
from .sites import FastAdminSite, site

__all__ = [
    "BackgroundAction",
    "BaseCounter",
    "BaseLocking",
    "BasePaginator",
    "BaseSearchBackend",
    "EditConflict",
    "FastAdminMixin",
    "FastAdminSite",
    "ModelAdmin",
    "OptimisticLockingMixin",
    "ReadRoute",
    "ReplicaPolicy",
    "RowLocking",
    "StackedInline",
    "StaleVersion",
    "TabularInline",
    "VersionField",
    "action",
    "cache",
    "display",
    "register",
    "save_versioned",
    "site",
    "update_action",
    "update_rows",
]


def register(*models, site: FastAdminSite | None = None):
    """``@fastadmin.register(Model)``: like ``@admin.register``, on :data:`fastadmin.site` by default."""
    from django.contrib.admin import register as stock_register

    return stock_register(*models, site=site or globals()["site"])
