"""Keyset ("cursor") pagination: every page costs what the first page costs.

Contract of a paginator strategy (:class:`BasePaginator`; the default is :class:`KeysetPaginator`)::

    paginator = KeysetPaginator(queryset, per_page)   # queryset already ordered by the changelist
    page = paginator.page(cursor=None | str, seek=None | str)
    page.rows, page.next_cursor, page.prev_cursor, page.last_cursor

A page is ``WHERE (sort key) after <cursor> ORDER BY sort key, pk LIMIT per_page + 1``; no ``OFFSET``,
no ``COUNT``. The primary key is always the last sort key, so the order is total and no row is skipped
or repeated while paging, whatever duplicates the sort columns hold.

NULLs sort as larger than every value (PostgreSQL's default: ``ASC NULLS LAST``, ``DESC NULLS FIRST``)
unless the ordering says otherwise (``F("x").desc(nulls_last=True)``: then smaller than every value).
Because that rule is symmetric, walking backwards is walking forwards over the reversed ordering, and
the btree index on ``(column, pk)`` serves both. When the leading column is nullable, rows with NULL
form their own segment at one end; a page that crosses the boundary reads the second segment with a
second (also indexed) query instead of an ``OR ... IS NULL`` the planner cannot bound.

Cursors are signed with :mod:`django.core.signing` and carry a digest of the ordering they were made
for (each key's field path or rendered expression, and its direction; see :mod:`fastadmin.sort_keys`):
an altered cursor, or one from another sort order, raises :class:`~fastadmin.exceptions.InvalidCursor`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator as DjangoPaginator
from django.db import models
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date

from .exceptions import BadParameter, InvalidCursor
from .sort_keys import SortKey, signature, sort_keys
from .tokens import dump_value, sign, unsign
from .walks import bounded_walk, hide

AFTER = "a"  # the page holds the rows after the cursor's values
BEFORE = "b"  # the page holds the rows before the cursor's values


@dataclass
class Page:
    """One page of rows plus the cursors that lead away from it (``None`` where there is nothing)."""

    rows: list[Model]
    next_cursor: str | None
    prev_cursor: str | None
    is_first: bool
    is_last: bool
    first_cursor: None = None  # the first page needs no cursor
    last_cursor: str | None = field(default=None)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


#: Types whose validators hold the database's range (integer bounds, decimal digits): a value outside
#: it would pass ``to_python`` and then fail in PostgreSQL as a DataError (a 500).
_RANGED = (models.IntegerField, models.DecimalField)


def parse_value(model_field: models.Field, raw: Any) -> Any:
    """``raw`` (from a cursor or the seek box) as a value ``model_field`` can be compared with.

    Raises ``ValidationError`` (or ``ValueError``/``TypeError``) for anything the database would
    refuse, so bad input is a 400 where it enters, never a database error while paging.
    """
    target = model_field.target_field if model_field.many_to_one or model_field.one_to_one else model_field
    value = target.to_python(raw)
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError("NUL")
    if value is not None and isinstance(target, _RANGED):
        target.run_validators(value)
    return value


class BasePaginator:
    """The contract of a changelist paginator strategy (``paginator_class`` / ``FASTADMIN["PAGINATOR"]``).

    The changelist builds one per request with its filtered, searched and ordered queryset and the
    admin's ``list_per_page``, then asks for one page. A paginator never counts (that is the
    counter's job) and never evaluates more than the page it returns. Bad input in ``cursor`` or
    ``seek`` raises :class:`~fastadmin.exceptions.BadParameter` (the changelist answers 400); nothing
    else a user can type may surface as a database error.
    """

    def __init__(self, queryset: QuerySet, per_page: int) -> None:
        self.queryset = queryset
        self.per_page = int(per_page)

    def page(self, cursor: str | None = None, seek: str | None = None) -> Page:
        """The page ``cursor`` points at (``seek``: the first rows at or after a value of the leading
        sort key), the first page when both are empty; with cursors to its neighbours."""
        raise NotImplementedError("subclasses of BasePaginator must provide a page() method")

    @property
    def seek_key(self) -> SortKey | None:
        """The sort key ``seek`` jumps along (shown as the jump box), or None when seeking is not offered."""
        return None


class KeysetPaginator(BasePaginator):
    """Pages an ordered queryset by its sort key, never by ``OFFSET``.

    ``queryset`` must already carry the changelist's ordering; the paginator reads it from
    ``queryset.query.order_by`` (a relation expanded into the related model's ordering, as the ORM
    does), keeps it up to the first key that is the primary key, and appends the primary key (in the
    direction of the last key) when it is missing.
    """

    cursor_salt = "fastadmin.pagination.cursor"

    def __init__(self, queryset: QuerySet, per_page: int) -> None:
        super().__init__(queryset, per_page)
        self.model = queryset.model
        self.queryset, self.keys = sort_keys(queryset)
        self.signature = signature(self.keys)

    @property
    def seek_key(self) -> SortKey | None:
        lead = self.keys[0]
        return lead if lead.field is not None and lead.field is not self.model._meta.pk else None

    # ------------------------------------------------------------------ cursors
    def encode(self, direction: str, values: list[Any] | None) -> str:
        payload = {"o": self.signature, "d": direction, "v": None if values is None else list(map(dump_value, values))}
        return sign(payload, self._salt())

    def decode(self, cursor: str) -> tuple[str, list[Any] | None]:
        try:
            payload = unsign(cursor, self._salt())
        except signing.BadSignature:
            raise InvalidCursor(
                "This page link was altered or is corrupt. Go back to the first page.", param="cursor"
            ) from None
        if not isinstance(payload, dict) or payload.get("d") not in (AFTER, BEFORE):
            raise InvalidCursor("This page link is malformed. Go back to the first page.", param="cursor")
        if payload.get("o") != self.signature:
            raise InvalidCursor(
                "This page link was made for another sort order and is stale. Go back to the first page.",
                param="cursor",
            )
        raw = payload.get("v")
        if raw is None:
            return payload["d"], None
        if not isinstance(raw, list) or len(raw) != len(self.keys):
            raise InvalidCursor("This page link is malformed. Go back to the first page.", param="cursor")
        try:
            values = [self._parse(key, value) for key, value in zip(self.keys, raw, strict=True)]
        except (ValidationError, ValueError, TypeError, OverflowError):
            raise InvalidCursor("This page link is malformed. Go back to the first page.", param="cursor") from None
        return payload["d"], values

    def _salt(self) -> str:
        return f"{self.cursor_salt}:{self.model._meta.label_lower}"

    @staticmethod
    def _parse(key: SortKey, value: Any) -> Any:
        if value is None or key.field is None:
            return value
        return parse_value(key.field, value)

    def _values(self, row: Model) -> list[Any]:
        return [getattr(row, key.attname) for key in self.keys]

    # ------------------------------------------------------------------ conditions
    @staticmethod
    def _after(key: SortKey, value: Any, descending: bool, *, with_nulls: bool = True) -> Q | None:
        """Rows strictly after ``value`` in this key's direction, NULLs where the key puts them."""
        if value is None:
            return Q(**{f"{key.name}__isnull": False}) if not key.nulls_at_end(descending) and with_nulls else None
        condition = Q(**{f"{key.name}__lt" if descending else f"{key.name}__gt": value})
        if key.nullable and key.nulls_at_end(descending) and with_nulls:
            condition |= Q(**{f"{key.name}__isnull": True})
        return condition

    @staticmethod
    def _equal(key: SortKey, value: Any) -> Q:
        return Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})

    def _segments(self, values: list[Any], reverse: bool) -> list[Q]:
        """Conditions, in scan order, selecting the rows after ``values``; each one index-bounded."""
        lead, lead_value = self.keys[0], values[0]
        lead_desc = lead.descending != reverse
        # Main segment: same NULL-ness as the cursor's leading value, bounded on the leading column.
        alternatives: Q | None = None
        prefix = Q()
        for index, (key, value) in enumerate(zip(self.keys, values, strict=True)):
            after = self._after(key, value, key.descending != reverse, with_nulls=index > 0)
            if after is not None:
                alternatives = (prefix & after) if alternatives is None else alternatives | (prefix & after)
            prefix &= self._equal(key, value)
        if lead_value is None:
            bound = Q(**{f"{lead.name}__isnull": True})
        else:
            bound = Q(**{f"{lead.name}__lte" if lead_desc else f"{lead.name}__gte": lead_value})
        segments = [bound & alternatives] if alternatives is not None else []
        # Tail segment: the NULL block that follows the non-NULL values (ASC), or the values after it (DESC).
        if lead.nullable and lead_value is not None and lead.nulls_at_end(lead_desc):
            segments.append(Q(**{f"{lead.name}__isnull": True}))
        elif lead.nullable and lead_value is None and not lead.nulls_at_end(lead_desc):
            segments.append(Q(**{f"{lead.name}__isnull": False}))
        return segments

    def _fetch(self, segments: list[Q] | None, reverse: bool, limit: int) -> list[Model]:
        """The next ``limit`` rows; a filtered list's walk is bounded (:mod:`fastadmin.walks`)."""
        return bounded_walk(lambda hidden: self._read(segments, reverse, limit, hidden), self.queryset)

    def _read(self, segments: list[Q] | None, reverse: bool, limit: int, hidden: bool) -> list[Model]:
        orders = [k.order_by(reverse) for k in self.keys]
        ordered = self.queryset.order_by(*(map(hide, orders) if hidden else orders))
        if segments is None:
            return list(ordered[:limit])
        rows: list[Model] = []
        for condition in segments:
            rows.extend(ordered.filter(condition)[: limit - len(rows)])
            if len(rows) >= limit:
                break
        return rows

    # ------------------------------------------------------------------ public API
    def page(self, cursor: str | None = None, seek: str | None = None) -> Page:
        """The page a cursor (or a ``seek`` value for the leading key) points at; the first page without."""
        n = self.per_page
        if cursor:
            direction, values = self.decode(cursor)
        elif seek not in (None, ""):
            return self._seek(seek)
        else:
            direction, values = AFTER, None
        reverse = direction == BEFORE
        segments = None if values is None else self._segments(values, reverse)
        rows = self._fetch(segments, reverse, n + 1)
        more = len(rows) > n
        rows = rows[:n]
        if reverse:
            rows.reverse()
            return self._page(rows, has_prev=more, has_next=values is not None, anchor=values)
        return self._page(rows, has_prev=values is not None, has_next=more, anchor=values)

    def _seek(self, raw: str) -> Page:
        lead = self.keys[0]
        if lead.field is None:
            raise BadParameter("Jumping to a value is not available for this sort column.", param="seek")
        try:
            value = parse_value(lead.field, raw.strip())
            if value is None:
                raise ValidationError("empty")
            whole_day = isinstance(value, datetime.datetime) and parse_date(raw.strip()) is not None
            if whole_day and lead.descending:  # newest first: the day's last rows come first
                value += datetime.timedelta(days=1)
            if isinstance(value, datetime.datetime) and settings.USE_TZ and timezone.is_naive(value):
                value = timezone.make_aware(value)  # a typed date means the user's own time zone
        except (ValidationError, ValueError, TypeError, OverflowError):
            raise BadParameter(
                f"“{raw[:100]}” is not a valid value for {lead.field.verbose_name}.", param="seek"
            ) from None
        # A whole day typed into a newest-first list starts at the day's last row ("< next midnight"),
        # not at the evening before (its "<= midnight" would).
        operator = ("lt" if whole_day else "lte") if lead.descending else "gte"
        bound = Q(**{f"{lead.name}__{operator}": value})
        segments = [bound]
        if lead.nullable and lead.nulls_at_end(lead.descending):
            segments.append(Q(**{f"{lead.name}__isnull": True}))
        rows = self._fetch(segments, False, self.per_page + 1)
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        # Rows before the seek point exist unless the seek value precedes everything; one query tells.
        before = self._fetch(self._segments(self._values(rows[0]), True), True, 1) if rows else []
        return self._page(rows, has_prev=bool(before), has_next=more, anchor=None)

    def _page(self, rows: list[Model], *, has_prev: bool, has_next: bool, anchor: list[Any] | None) -> Page:
        if rows:
            prev_cursor = self.encode(BEFORE, self._values(rows[0])) if has_prev else None
            next_cursor = self.encode(AFTER, self._values(rows[-1])) if has_next else None
        else:  # an empty page after a cursor (rows deleted meanwhile): offer the way back
            prev_cursor = self.encode(BEFORE, anchor) if anchor is not None else None
            next_cursor = None
        return Page(
            rows=rows,
            next_cursor=next_cursor,
            prev_cursor=prev_cursor,
            is_first=not has_prev,
            is_last=not has_next,
            last_cursor=self.encode(BEFORE, None),
        )


#: The largest OFFSET a page may need (PostgreSQL's bigint, less a page of headroom).
MAX_OFFSET = 2**63 - 1 - 100_000


class CountlessPaginator(DjangoPaginator):
    """Django's ``Paginator`` API without ``COUNT(*)``: a page reads ``per_page + 1`` rows and knows
    from the extra one whether another page follows.

    For the numbered lists the admin pages besides the changelist (the autocomplete endpoint of
    ``autocomplete_fields``): their pages stay small, so ``OFFSET`` is cheap, but ``has_next()`` on
    a stock page counts the whole table. ``count`` and ``num_pages`` still count when asked.
    """

    def page(self, number):
        number = self.validate_number_without_count(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        page = CountlessPage(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def validate_number_without_count(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        if (number - 1) * self.per_page > MAX_OFFSET:  # PostgreSQL's OFFSET is a bigint: no such page
            raise EmptyPage("That page contains no results")
        return number


class CountlessPage(DjangoPage):
    more = False

    def has_next(self) -> bool:
        return self.more

    def has_other_pages(self) -> bool:
        return self.more or self.number > 1
