"""The total order a keyset page walks: a queryset's ordering as sort keys, the primary key last.

Two things here must agree with what stock Django does with the same ``order_by``:

* ``order_by("customer")`` on a foreign key sorts by the related model's ``Meta.ordering`` (the ORM
  expands it through the join, see ``SQLCompiler.find_ordering_name``), not by ``customer_id``; the
  keys are expanded the same way, so a keyset walk shows the rows in the order stock shows them.
* A cursor is valid only for the ordering it was made for. The ordering is identified by what each
  key really compares (a field path, or a stable rendering of an expression) and its direction, so
  ``order_by("category__name")`` and ``order_by(Lower("name"))`` never share cursors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Expression, F, Field, Model, OrderBy, QuerySet
from django.db.models.constants import LOOKUP_SEP


@dataclass(frozen=True)
class SortKey:
    """One column of the total order: what to compare, which way, and how to read it back from a row."""

    name: str  # ORM path or annotation alias used in filter()/order_by()
    descending: bool
    nullable: bool
    field: Field | None  # model field used to parse cursor and seek values (None for expressions)
    attname: str  # attribute holding the value on a fetched row
    source: str = ""  # what the key compares (field path or rendered expression): signed into cursors
    nulls_largest: bool = True  # PostgreSQL's default; False for ASC NULLS FIRST / DESC NULLS LAST

    def nulls_at_end(self, descending: bool) -> bool:
        """Whether NULLs come last when scanning this key in the given direction."""
        return descending != self.nulls_largest

    def order_by(self, reverse: bool = False) -> OrderBy:
        descending = self.descending != reverse
        expression = F(self.name)
        if not self.nullable:
            return expression.desc() if descending else expression.asc()
        # Explicit, so every database (and every direction) puts NULLs where the ordering asked.
        if self.nulls_at_end(descending):
            return expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        return expression.desc(nulls_first=True) if descending else expression.asc(nulls_first=True)


def signature(keys: list[SortKey]) -> str:
    """A short digest naming the ordering: each key's source and direction, in order."""
    text = "\x1f".join(
        ("-" if k.descending else "+") + ("" if k.nulls_largest else "~") + (k.source or k.name) for k in keys
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def render(value: Any) -> str:
    """A stable rendering of an ordering expression (its class path and constructor arguments).

    ``repr()`` of some expressions leaves arguments out, and the compiled SQL depends on join aliases
    that change with the filters; ``deconstruct()`` names exactly what was asked for.
    """
    if isinstance(value, F):
        return f"F({value.name})"
    if isinstance(value, Field):
        _, path, args, kwargs = value.deconstruct()
        return f"{path}({render(args)}, {render(kwargs)})"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(render(v) for v in value)) + "}"
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{value.__module__}.{value.__qualname__}"  # repr() would carry a memory address
    sources = getattr(value, "get_source_expressions", None)
    if callable(sources) and not isinstance(value, type):
        # An expression: its constructor arguments, but its current source expressions (copies made by
        # prefix_references(), as for a related model's ordering, keep the original arguments).
        try:
            path, args, kwargs = value.deconstruct()
        except (AttributeError, TypeError, ValueError):
            path, args, kwargs = f"{type(value).__module__}.{type(value).__qualname__}", (), {}
        return f"{path}({render(sources() or args)}, {render(kwargs)})"
    deconstruct = getattr(value, "deconstruct", None)
    if callable(deconstruct) and not isinstance(value, type):
        try:
            path, args, kwargs = deconstruct()
        except (TypeError, ValueError):
            return repr(value)
        return f"{path}({render(args)}, {render(kwargs)})"
    return repr(value)


# ---------------------------------------------------------------------------------------------- expansion
#: (path or "", expression, descending, nulls_largest)
Item = tuple[str, Any, bool, bool]


def _last_field(model: type[Model], path: str) -> Field | None:
    """The field ``path`` ends on, or None when a part is not a field (a transform, an annotation)."""
    opts = model._meta
    field = None
    for part in path.split(LOOKUP_SEP):
        if field is not None:
            if not field.is_relation or field.related_model is None:
                return None
            opts = field.related_model._meta
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            return None
    return field


def _expand(model: type[Model], path: str, descending: bool, seen: frozenset) -> Iterator[Item]:
    """The items of one ordering string: a relation replaced by the related model's ``Meta.ordering``
    (recursively) the way Django's compiler replaces it (``SQLCompiler.find_ordering_name``)."""
    field = _last_field(model, path)
    last = path.rsplit(LOOKUP_SEP, 1)[-1]
    related = field.related_model if field is not None and field.is_relation else None
    if (
        related is None
        or not related._meta.ordering
        or getattr(field, "attname", None) == last
        or path == "pk"
        or field in seen  # a relation cycle: Django raises FieldError, the column is as good
    ):
        yield path, F(path), descending, True
        return
    seen = seen | {field}
    for item in related._meta.ordering:
        if isinstance(item, str):
            if item == "?":
                continue
            inner_desc = item.startswith("-") != descending
            yield from _expand(model, f"{path}{LOOKUP_SEP}{item.lstrip('-+')}", inner_desc, seen)
            continue
        if hasattr(item, "resolve_expression") and not isinstance(item, OrderBy):
            item = item.desc() if descending else item.asc()
        if isinstance(item, OrderBy):
            # Django does not flip an explicit OrderBy of the related ordering either.
            prefixed = item.prefix_references(f"{path}{LOOKUP_SEP}")
            inner = prefixed.expression
            yield (inner.name if isinstance(inner, F) else ""), inner, prefixed.descending, _nulls_largest(prefixed)


def ordering_items(model: type[Model], order_by: Any) -> Iterator[Item]:
    """``(path, expression, descending, nulls_largest)`` per item of ``query.order_by``; ``path`` is ""
    for expressions.

    Only strings are expanded through relations, as in Django: ``order_by(F("fk"))`` sorts by the column.
    """
    for item in order_by or ():
        if isinstance(item, str):
            if item == "?":
                continue
            yield from _expand(model, item.lstrip("-+"), item.startswith("-"), frozenset())
        elif isinstance(item, OrderBy):
            expression = item.expression
            yield (expression.name if isinstance(expression, F) else ""), expression, item.descending, \
                _nulls_largest(item)
        elif isinstance(item, Expression | F):
            yield (item.name if isinstance(item, F) else ""), item, False, True


def _nulls_largest(order_by: OrderBy) -> bool:
    """False when an explicit NULLS FIRST/LAST puts NULLs where PostgreSQL puts the smallest values."""
    if order_by.descending:
        return not order_by.nulls_last
    return not order_by.nulls_first


# ---------------------------------------------------------------------------------------------- keys
def local_field(model: type[Model], name: str) -> Field | None:
    """The concrete, single-valued column ``name`` of ``model`` itself ("pk" included), else None
    (a related path, an expression's empty path, a many-to-many or reverse relation)."""
    if name == "pk":
        return model._meta.pk
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not getattr(model_field, "concrete", False) or model_field.many_to_many:
        return None
    return model_field


def _path_field(model: type[Model], path: str) -> Field | None:
    field = _last_field(model, path)
    return field if field is not None and getattr(field, "concrete", False) else None


def _pk_descending(order_by: Any, pk: Field) -> bool:
    """Direction of an ordering that starts with the primary key (descending when unordered)."""
    for item in order_by or ():
        if isinstance(item, str) and item.lstrip("-") in ("pk", pk.name, pk.attname):
            return item.startswith("-")
        break
    return True


def sort_keys(queryset: QuerySet) -> tuple[QuerySet, list[SortKey]]:
    """The keys of ``queryset``'s ordering up to its first primary-key key, the pk appended (in the
    direction of the key before it), and the queryset annotated and ordered by them."""
    model = queryset.model
    pk = model._meta.pk
    keys: list[SortKey] = []
    annotations: dict[str, Any] = {}
    for path, expression, descending, nulls_largest in ordering_items(model, queryset.query.order_by):
        if path in ("pk", pk.name, pk.attname):
            break  # appended below
        model_field = local_field(model, path)
        if model_field is not None:
            keys.append(SortKey(model_field.name, descending, model_field.null, model_field,
                                model_field.attname, source=model_field.attname, nulls_largest=nulls_largest))
            continue
        # A related path or an expression: select it under an alias so its value can be read back.
        alias = f"_fastadmin_k{len(keys)}"
        annotations[alias] = expression
        target = _path_field(model, path) if path else None
        keys.append(SortKey(alias, descending, True, target, alias, source=path or render(expression),
                            nulls_largest=nulls_largest))
    # The pk breaks ties in the direction of the key before it, so one btree index on
    # (column, pk) serves the page and its reverse (stock appends "-pk" whatever the direction).
    pk_descending = keys[-1].descending if keys else _pk_descending(queryset.query.order_by, pk)
    keys.append(SortKey(pk.name, pk_descending, False, pk, pk.attname, source=pk.attname))
    if annotations:
        queryset = queryset.annotate(**annotations)
    return queryset.order_by(*(k.order_by() for k in keys)), keys
