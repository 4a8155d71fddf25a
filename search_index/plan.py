"""The index plan: every index fastadmin's changelists need to answer in milliseconds, and which exist.

For each fastadmin ModelAdmin:

* each ``search_fields`` entry needs an index on the exact expression the trigram backend emits —
  a trigram GIN on ``UPPER(col::text)`` for contains and ``^`` fields plus a ``text_pattern_ops``
  btree on the same expression for prefixes (``LIKE 'AL%'``: a word too short for trigrams, or a
  prefix that matches nothing, is a range scan of a few index pages), a GIN on
  ``to_tsvector('<config>'::regconfig, COALESCE(col, ''))`` for ``@`` fields (:mod:`.fulltext`), a btree on
  ``UPPER(col::text)`` for ``=`` text fields, a btree on the column for ``=`` on other types;
* the default ordering and each sortable ``list_display`` column need a btree on
  ``(column, ..., pk)`` in the directions of the keyset paginator's ``ORDER BY`` (a backward scan
  serves the reverse order, so ``-created`` needs ``(created, id)``).

Sort keys through a relation (``customer__name``) or on expressions cannot be served by one
table's index and are reported as such, not planned.

An existing index counts when it is valid, not partial, of the right access method and operator
class, and its leading key columns are the expected expressions (compared as
``pg_get_indexdef`` prints them, minus quoting, casts to text and parentheses). A unique btree on a
prefix of a sort key counts too: it already orders the rows completely.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.admin.sites import all_sites
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models
from django.db.models import OrderBy
from django.db.models.functions import Cast, Collate, Upper
from django.db.models.indexes import IndexExpression

from fastadmin.sort_keys import local_field, ordering_items

from .fields import LOOKUP, forward_relation, resolve
from .query import CONTAINS, EXACT, FULLTEXT, STARTSWITH

# What django.contrib.postgres does in its ready(): without it OpClass is not lifted out of the
# expression's parentheses and the index SQL is invalid. fastadmin must not require that app.
IndexExpression.register_wrappers(OrderBy, OpClass, Collate)

TRIGRAM = "trigram"
BTREE = "btree"
PATTERN = "prefix btree"  # text_pattern_ops: serves LIKE 'prefix%' whatever the database's collation
TRIGRAM_OPCLASSES = {"gin_trgm_ops", "gist_trgm_ops"}
PATTERN_OPCLASSES = {"text_pattern_ops", "varchar_pattern_ops"}


@dataclass(frozen=True)
class Key:
    """One key column: a normalised expression (``name``, ``upper(name)``) and its direction."""

    expression: str
    descending: bool = False


@dataclass
class IndexNeed:
    """One index the admins need on ``model``'s table, and why (one reason per admin and field)."""

    model: type[models.Model]
    kind: str  # TRIGRAM or BTREE
    keys: tuple[Key, ...]
    index: models.Index  # what to create (named, so re-runs and migrations agree)
    reasons: list[tuple[Any, str]] = field(default_factory=list)  # (model_admin, "search field 'name'")
    label: str | None = None  # how describe() shows the keys, when their normalised form reads badly

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def identity(self) -> tuple:
        return (self.table, self.kind, self.keys)

    def describe(self) -> str:
        cols = self.label or ", ".join(k.expression + (" DESC" if k.descending else "") for k in self.keys)
        return f"{self.kind} ({cols}) on {self.table}"

    def sql(self, using: str = "default") -> str:
        connection = connections[using]
        editor = connection.schema_editor(collect_sql=True, atomic=False)
        return str(self.index.create_sql(self.model, editor, concurrently=True)) + ";"


@dataclass
class Skipped:
    """A sort the plan cannot serve with an index on one table, with the reason."""

    model_admin: Any
    what: str
    reason: str


# ---------------------------------------------------------------------------------------------- naming
def normalise(expression: str | None) -> str | None:
    """``upper((name)::text)`` / ``UPPER(("name")::text)`` -> ``upper(name)``: comparable spellings.

    None stays None: ``pg_get_indexdef`` answers NULL for an index dropped while the catalog is read.
    """
    if expression is None:
        return None
    text = expression.lower().replace('"', "").replace(" ", "")
    for cast in ("::charactervarying", "::text", "::varchar"):
        text = text.replace(cast, "")
    stripped = text.replace("(", "").replace(")", "")
    if stripped.startswith("upper"):
        return f"upper({stripped[len('upper'):]})"
    return stripped


def index_name(table: str, columns: list[str], suffix: str) -> str:
    """``fa_<table>_<cols>_<suffix>``, at most 63 characters (PostgreSQL's limit), stable across runs."""
    name = "_".join(["fa", table, *columns, suffix]).lower()
    if len(name) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:54]}_{digest}"


# ---------------------------------------------------------------------------------------------- needs
def _upper_text(field_name: str) -> Upper:
    return Upper(Cast(field_name, output_field=models.TextField()))


def trigram_need(model: type[models.Model], model_field: models.Field) -> IndexNeed:
    name = index_name(model._meta.db_table, [model_field.column], "trgm")
    index = GinIndex(OpClass(_upper_text(model_field.name), name="gin_trgm_ops"), name=name)
    return IndexNeed(model, TRIGRAM, (Key(f"upper({model_field.column})"),), index)


def pattern_need(model: type[models.Model], model_field: models.Field) -> IndexNeed:
    name = index_name(model._meta.db_table, [model_field.column], "prefix")
    index = models.Index(OpClass(_upper_text(model_field.name), name="text_pattern_ops"), name=name)
    return IndexNeed(model, PATTERN, (Key(f"upper({model_field.column})"),), index)


def upper_btree_need(model: type[models.Model], model_field: models.Field) -> IndexNeed:
    name = index_name(model._meta.db_table, [model_field.column], "upper")
    index = models.Index(_upper_text(model_field.name), name=name)
    return IndexNeed(model, BTREE, (Key(f"upper({model_field.column})"),), index)


def btree_need(model: type[models.Model], fields: list[tuple[models.Field, bool]]) -> IndexNeed:
    """A btree on ``fields`` (field, descending), flipped so the first key is ascending."""
    if fields and fields[0][1]:
        fields = [(f, not desc) for f, desc in fields]
    columns = [f.column for f, _ in fields]
    name = index_name(model._meta.db_table, columns, "key")
    index = models.Index(fields=[("-" if desc else "") + f.name for f, desc in fields], name=name)
    return IndexNeed(model, BTREE, tuple(Key(f.column.lower(), desc) for f, desc in fields), index)


def search_needs(model_admin: Any) -> list[IndexNeed]:
    needs = []
    for spec in model_admin.search_fields or ():
        try:
            search_field = resolve(model_admin.model, str(spec))
        except FieldDoesNotExist:
            continue  # reported by check fastadmin.E103
        target = search_field.field
        if search_field.mode == LOOKUP or search_field.column is None or target is None:
            continue
        owner = target.model
        if search_field.mode == FULLTEXT:
            from .fulltext import fulltext_need  # it reads the database's text search configuration

            field_needs = [fulltext_need(owner, target)]
        elif search_field.mode in (CONTAINS, STARTSWITH):
            field_needs = [trigram_need(owner, target), pattern_need(owner, target)]
        elif search_field.mode == EXACT and search_field.is_text:
            field_needs = [upper_btree_need(owner, target)]
        else:
            field_needs = [btree_need(owner, [(target, False)])]
        for need in field_needs:
            need.reasons.append((model_admin, f"search field {str(spec)!r}"))
        needs += field_needs
        if search_field.related:
            # The backend matches the related rows first, then this table by its foreign key column.
            relation = forward_relation(model_admin.model, search_field.path.split("__")[0])
            if relation is not None:
                fk_need = btree_need(model_admin.model, [(relation, False)])
                fk_need.reasons.append((model_admin, f"search field {str(spec)!r} (the foreign key)"))
                needs.append(fk_need)
    return needs


def _ordering_need(model_admin: Any, ordering: list[Any], what: str) -> IndexNeed | Skipped | None:
    """The btree the keyset paginator needs for ``ordering`` (pk appended in the last key's direction).

    The ordering is read the way the paginator reads it (:func:`fastadmin.sort_keys.ordering_items`):
    a foreign key with a related ``Meta.ordering`` sorts through the join, which no index here serves.
    """
    model = model_admin.model
    pk = model._meta.pk
    fields: list[tuple[models.Field, bool]] = []
    for path, _expression, descending, _nulls in ordering_items(model, ordering):
        if not path:
            return Skipped(model_admin, what, "sorts by an expression")
        model_field = local_field(model, path)
        if model_field is None:
            return Skipped(model_admin, what, f"sorts through a relation or a non-column ({path!r})")
        if model_field.primary_key:
            break
        fields.append((model_field, descending))
    if not fields:
        return None  # the primary key's own index serves it
    fields.append((pk, fields[-1][1]))
    need = btree_need(model, fields)
    need.reasons.append((model_admin, what))
    return need


def _sortable_columns(model_admin: Any) -> list[tuple[str, str]]:
    """(list_display name, ordering field) for each column the changelist lets the user sort by."""
    out = []
    sortable_by = model_admin.sortable_by
    for name in model_admin.list_display or ():
        if not isinstance(name, str) or name == "action_checkbox":
            continue
        if sortable_by is not None and name not in sortable_by:
            continue
        try:
            out.append((name, model_admin.model._meta.get_field(name).name))
            continue
        except FieldDoesNotExist:
            pass
        attr = getattr(model_admin, name, None) or getattr(model_admin.model, name, None)
        if isinstance(attr, property):
            attr = attr.fget
        order_field = getattr(attr, "admin_order_field", None)
        if order_field is not None:
            out.append((name, order_field))
    return out


def sort_needs(model_admin: Any) -> tuple[list[IndexNeed], list[Skipped]]:
    needs, skipped = [], []
    default = list(model_admin.ordering or model_admin.model._meta.ordering or [])
    candidates: list[tuple[list[Any], str]] = [(default, f"default ordering {default!r}")] if default else []
    for name, order_field in _sortable_columns(model_admin):
        candidates.append(([order_field], f"sortable column {name!r}"))
    for ordering, what in candidates:
        result = _ordering_need(model_admin, ordering, what)
        if isinstance(result, Skipped):
            skipped.append(result)
        elif result is not None:
            needs.append(result)
    return needs, skipped


def fastadmin_model_admins() -> list[Any]:
    """Every fastadmin ModelAdmin registered on any admin site (stock ModelAdmins are left alone)."""
    from fastadmin.options import FastAdminMixin

    seen, out = set(), []
    models_ = apps.get_models(include_auto_created=True)
    for site in all_sites:
        for model in models_:
            if not site.is_registered(model):
                continue
            model_admin = site.get_model_admin(model)
            if isinstance(model_admin, FastAdminMixin) and id(model_admin) not in seen:
                seen.add(id(model_admin))
                out.append(model_admin)
    return out


@dataclass
class Plan:
    needs: list[IndexNeed]
    skipped: list[Skipped]

    def for_app(self, app_label: str) -> list[IndexNeed]:
        return [n for n in self.needs if n.model._meta.app_label == app_label]

    @property
    def needs_trigram(self) -> bool:
        return any(n.kind == TRIGRAM for n in self.needs)


def build_plan(model_admins: list[Any] | None = None) -> Plan:
    """The deduplicated needs of ``model_admins`` (default: every fastadmin ModelAdmin)."""
    merged: dict[tuple, IndexNeed] = {}
    skipped: list[Skipped] = []
    for model_admin in fastadmin_model_admins() if model_admins is None else model_admins:
        sorted_needs, sorted_skipped = sort_needs(model_admin)
        skipped += sorted_skipped
        for need in [*search_needs(model_admin), *sorted_needs]:
            if need.identity in merged:
                merged[need.identity].reasons += need.reasons
            else:
                merged[need.identity] = need
    return Plan(list(merged.values()), skipped)
