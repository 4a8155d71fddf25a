"""SQL building blocks of the trigram backend: index-friendly lookups and the planner's estimate.

Kept apart from :mod:`fastadmin.search_index.backends` so the backend reads as the search semantics
and this module as the PostgreSQL shapes they compile to.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import F, Field, Lookup, QuerySet

from fastadmin.counting import explain, leaf_sizes


class AnyOfSubquery(Lookup):
    """``lhs = ANY(ARRAY(subquery))``: the subquery runs once (an InitPlan) and the outer condition
    stays an index condition that a BitmapOr can combine with the other fields' trigram scans
    (``IN (subquery)`` would be a hashed filter, forcing a scan of the outer table)."""

    lookup_name = "fa_any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = compiler.compile(self.rhs)
        return f"{lhs_sql} = ANY(ARRAY{rhs_sql})", (*lhs_params, *rhs_params)


class AnyOfArray(Lookup):
    """``lhs = ANY(%s::<column type>[])`` with one array parameter: compact for many keys, and never an
    ``EmptyResultSet`` for none (``pk__in=[]`` raises it where the counter compiles the query).

    The cast matters: psycopg sends small integers as ``int2[]``/``int4[]``, and PostgreSQL hashes an
    ``= ANY(constant array)`` filter only when both sides have one type; ``bigint = ANY(int4[])``
    compares every element for every row (17 µs a row for 3,000 keys, measured)."""

    lookup_name = "fa_any_array"
    prepare_rhs = False
    template = "{lhs} = ANY({array})"

    def __init__(self, lhs: Any, rhs: Any) -> None:
        super().__init__(lhs, rhs if isinstance(rhs, KeyArray) else list(rhs))
        # Written once: a page compiles its query several times (estimate, page, date range), and
        # 16,705 keys cost milliseconds to write.
        self.literal = rhs.literal if isinstance(rhs, KeyArray) else array_literal(self.rhs)

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        db_type = self.lhs.output_field.cast_db_type(connection)
        array = f"%s::{db_type}[]" if db_type else "%s"  # an untyped literal takes the column's array type
        return self.template.format(lhs=lhs_sql, array=array), (*lhs_params, self.literal)


class KeyArray:
    """Keys as the database wrote them (``array_agg(key)::text``) and how many: read by
    :func:`read_keys` without turning a key into a Python object, and sent back as the same text."""

    def __init__(self, literal: str, count: int) -> None:
        self.literal, self.count = literal, count

    def __len__(self) -> int:
        return self.count


def read_keys(queryset: QuerySet, limit: int) -> KeyArray:
    """The first ``limit`` values of a one-column ``queryset`` in one row: ``SELECT count(*),
    array_agg(v)::text``. 16,705 customer keys read as rows cost 15-25 ms of CPU in the driver and
    the ORM; as one text, next to nothing."""
    sql, params = queryset[:limit].query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), ARRAY_AGG(k.v)::text FROM ({sql}) k(v)", params)
        count, literal = cursor.fetchone()
    return KeyArray(literal or "{}", count)


def array_literal(values: Any) -> str:
    """PostgreSQL's text form of an array (``{1,2}``, ``{"a b","c\\"d"}``): one constant in the
    statement, where psycopg's client-side binding of a list writes ``ARRAY[…]``, an expression per
    element that the planner folds one by one (16,705 keys: 27 ms of planning, against 0.2 ms)."""
    def element(value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

    if all(type(v) is int for v in values):  # the usual keys: no quoting to decide per element
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join(element(v) for v in values) + "}"


class AnyOfFencedArray(AnyOfArray):
    """``lhs = ANY(ARRAY(SELECT unnest(%s::<type>[])))``: the same keys, hidden from the planner.

    With thousands of keys sized exactly, the planner prefers walking the sort index with the keys as
    a hashed filter (it assumes they are spread evenly over the sort order) to looking them up: 16.5 s
    at 10M orders for 10,000 keys that all sit at the far end of the order, measured. Behind an
    InitPlan the array's length is unknown (estimated small), so the plan is always "look the keys up
    by primary key, then sort them": bounded by the number of keys (10,000 lookups: 35 ms), whatever
    their order."""

    lookup_name = "fa_any_fenced_array"
    template = "{lhs} = ANY(ARRAY(SELECT unnest({array})))"


class InUnnestedArray(AnyOfArray):
    """``lhs IN (SELECT unnest(%s::<type>[]))``: many keys read once, hashed by the statement (a hashed
    subplan, or a semi join the planner sizes by the array's length) without sizing each element (a
    constant ``= ANY`` array of 16,000 keys costs the planner 38 ms)."""

    lookup_name = "fa_in_unnested_array"
    template = "{lhs} IN (SELECT unnest({array}))"


#: Found keys up to this many are a constant the planner sizes (it looks a few keys up, whatever their
#: order); more are fenced (:class:`AnyOfFencedArray`), as the planner's walk of the sort index starts
#: to look cheaper than a few thousand lookups and costs the whole table when the keys are not spread
#: evenly.
PLANNED_KEYS = 1_000


def found_keys(keys: list[Any] | KeyArray) -> Lookup:
    """``pk`` is one of ``keys``, the rows a search found: sized for the planner up to
    :data:`PLANNED_KEYS`, fenced beyond. Marked ``bounds_rows``: the page reads these rows by primary
    key, so :mod:`fastadmin.walks` has no walk to bound."""
    lookup = (AnyOfArray if len(keys) <= PLANNED_KEYS else AnyOfFencedArray)(F("pk"), keys)
    lookup.bounds_rows = True
    return lookup


#: A search the planner expects to match at least this share of the table skips the probe. No-match
#: and rare terms are estimated around 0.1-0.2% (pg_trgm-less LIKE statistics); common ones at several %.
COMMON_SHARE = 0.01


#: Rows per 8 kB page assumed for a table never analyzed: generous, so a guess errs towards "large".
ROWS_PER_PAGE_GUESS = 200


def table_rows(queryset: QuerySet) -> tuple[float, float]:
    """``(reltuples, rows)`` of ``queryset``'s table (summed over a partitioned table's leaves): the
    statistics (-1 when never analyzed) and the best size known (for a table never analyzed, a
    generous guess from its size on disk); -1 when the table is not found."""
    leaves = leaf_sizes(queryset.db, queryset.model._meta.db_table)  # the counter's read: one per request
    if not leaves:
        return -1.0, -1.0
    analyzed = [reltuples for reltuples, _relpages, _pages in leaves if reltuples is not None and reltuples >= 0]
    reltuples = float(sum(analyzed)) if analyzed else -1.0
    pages = sum(pages for _reltuples, _relpages, pages in leaves)
    return reltuples, reltuples if reltuples >= 0 else float(pages * ROWS_PER_PAGE_GUESS)


def planner_share(queryset: QuerySet, rows: float) -> float:
    """Rows the planner expects ``queryset`` to return, as a share of ``rows`` (0 when unknown). The
    statement is the one the counter's estimate explains (the list's columns, without the joins that
    only display rows, no order), so the plan is read once (:func:`fastadmin.counting.explain`)."""
    return planner_rows(queryset.select_related(None)) / rows if rows > 0 else 0.0


def planner_rows(queryset: QuerySet) -> float:
    """Rows the planner expects ``queryset`` (unordered) to return: one ``EXPLAIN``, nothing run."""
    sql, params = queryset.order_by().query.get_compiler(using=queryset.db).as_sql()
    return float(explain(queryset.db, sql, params)["Plan Rows"])


#: What :func:`to_python` returns for a word that is not one of the field's values.
INVALID = object()


class _StrictNullBoolean(forms.NullBooleanField):
    """"true"/"false"/"1"/"0" (any case) and, when ``allow_none``, "none"; anything else is invalid
    (forms.BooleanField would take almost any word as True). Stock admin's rule since Django 6.1."""

    allow_none = True

    def to_python(self, value: Any) -> Any:
        value = value.lower() if isinstance(value, str) else value
        if self.allow_none and value in (None, "none"):
            return None
        parsed = super().to_python(value)
        if parsed is None:
            raise ValidationError("Invalid value.")
        return parsed


class _StrictBoolean(_StrictNullBoolean):
    allow_none = False


def to_python(field: Field, value: str) -> Any:
    """``value`` as ``field``'s Python type, or :data:`INVALID` (e.g. "abc" for an integer): stock
    admin's conversion of a search word for an exact lookup (through the form field, so "3." is 3 for
    an integer but not JSON), plus the column's range validators (an id beyond bigint)."""
    try:
        formfield = field.formfield()
        if formfield is None:  # AutoField and friends
            parsed = field.to_python(value.strip())
        elif isinstance(formfield, forms.NullBooleanField):
            parsed = _StrictNullBoolean().to_python(value)
        elif isinstance(formfield, forms.BooleanField):
            parsed = _StrictBoolean().to_python(value)
        elif isinstance(formfield, forms.TypedChoiceField | forms.TypedMultipleChoiceField):
            parsed = formfield.clean(value)
        else:
            parsed = formfield.to_python(value)
        if parsed is not None:
            field.run_validators(parsed)
        return parsed
    except (ValidationError, ValueError, TypeError, OverflowError, FieldDoesNotExist):
        return INVALID
