"""Optimistic locking: no lost updates through the change form, inlines, list_editable, actions, deletes.

A stock admin form posts every field and ``Model.save()`` writes every column, so the second of two
concurrent editors silently puts back what the first changed. Here every page carries a signed token
of the values it showed; a save locks the row ``FOR UPDATE``, merges field by field (mine / theirs /
base, :func:`~fastadmin.locking.values.merge`) and writes only what this user changed, through the
admin's own hooks. Modules:

==============  ================================================================
``values``      the merge policy, conflicts, keyed row digests
``tokens``      edit and page tokens (signed, expiring, bound to model/object/user)
``rows``        locked reads; :func:`save_versioned` for code outside the admin
``strategy``    :class:`BaseLocking` (the contract) and :class:`RowLocking` (default)
``listedit``    list_editable saves;  ``inlines``: inline rows merged per row
``actions``     the stale-selection guard of actions
``pages``       the 409 conflict and 400 pages;  ``forms``: the hidden token field
``admin``       :class:`OptimisticLockingMixin`, hook wiring only
==============  ================================================================
"""

from .admin import OptimisticLockingMixin
from .rows import lock_rows, read_current, save_versioned
from .strategy import BaseLocking, RowLocking
from .tokens import PAGE_TOKEN, TOKEN, EditToken, PageToken
from .values import (
    MINE,
    THEIRS,
    BadEditToken,
    EditConflict,
    FieldConflict,
    StaleVersion,
    editable_fields,
    merge,
    row_digest,
    same,
    snapshot,
)

__all__ = [
    "MINE", "PAGE_TOKEN", "THEIRS", "TOKEN", "BadEditToken", "BaseLocking", "EditConflict", "EditToken",
    "FieldConflict", "OptimisticLockingMixin", "PageToken", "RowLocking", "StaleVersion", "editable_fields",
    "lock_rows", "merge", "read_current", "row_digest", "same", "save_versioned", "snapshot",
]
