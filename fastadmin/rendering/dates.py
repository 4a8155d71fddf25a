"""``DATETIME_FORMAT`` compiled once per request, for the date-time columns of a result list.

``formats.localize(dt)`` splits the format with a regex, builds a ``DateFormat`` (which checks the
time zone for ambiguous times) and translates month names and "a.m." for every value. Here the
format is split once; the pieces that depend on the date only (``N j, Y``) are computed once per
calendar day (a page of rows sorted by date shares a few days), the time pieces (``P``) by
Django's own ``TimeFormat`` on the value's time, and any time-zone piece (``e I O T Z U c r``) by
a full ``DateFormat`` of the value, as stock does. Same strings as ``dateformat.format`` (tested
against it over every format character, several locales and zones in ``tests/test_rendering.py``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.utils import formats, timezone
from django.utils.dateformat import DateFormat, TimeFormat, re_escaped, re_formatchars

DATE_CHARS = frozenset("bdDEFjlLmMnNoStwWyYz")
TIME_CHARS = frozenset("aAfgGhHiPsu")


def datetime_formatter(format_type: str = "DATETIME_FORMAT") -> Callable[[datetime.datetime], str]:
    """``formats.localize(timezone.template_localtime(value))`` for datetimes, in the active language."""
    pieces = []  # (kind, text): kind "lit", "date", "time" or "full"
    for i, piece in enumerate(re_formatchars.split(str(formats.get_format(format_type)))):
        if i % 2:
            kind = "date" if piece in DATE_CHARS else "time" if piece in TIME_CHARS else "full"
            pieces.append((kind, piece))
        elif piece:
            pieces.append(("lit", re_escaped.sub(r"\1", piece)))
    date_chars = [p for kind, p in pieces if kind == "date"]
    days: dict[datetime.date, dict[str, str]] = {}

    def day_pieces(day: datetime.date) -> dict[str, str]:
        found = days.get(day)
        if found is None:
            df = DateFormat(day)
            found = days[day] = {char: str(getattr(df, char)()) for char in date_chars}
        return found

    def fmt(value) -> str:
        if value.__class__ is not datetime.datetime:
            return formats.localize(timezone.template_localtime(value))
        value = timezone.template_localtime(value)
        day = day_pieces(value.date())
        tf = full = None
        out = []
        for kind, text in pieces:
            if kind == "lit":
                out.append(text)
            elif kind == "date":
                out.append(day[text])
            elif kind == "time":
                tf = tf or TimeFormat(value.time())
                out.append(str(getattr(tf, text)()))
            else:
                full = full or DateFormat(value)
                out.append(str(getattr(full, text)()))
        return "".join(out)

    return fmt
