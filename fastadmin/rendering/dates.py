"""``DATETIME_FORMAT`` compiled once per request, for the date-time columns of a result list.

``formats.localize(dt)`` splits the format with a regex, builds a ``DateFormat`` (which checks the
time zone for ambiguous times) and translates month names and "a.m." for every value. Here the
format is split once; the pieces that depend on the local date only (``N j, Y``) are computed once
per calendar day, the time pieces (``P``) once per time of day (to the minute, or finer when the
format shows seconds), both by Django's own ``DateFormat`` / ``TimeFormat`` and kept per process
for the language and format (a few thousand strings at most), and any time-zone piece
(``e I O T Z U c r``) by a full ``DateFormat`` of the value, as stock does. Same strings as
``dateformat.format`` (tested against it over every format character, several locales and zones in
``tests/test_rendering.py``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.dateformat import DateFormat, TimeFormat, re_escaped, re_formatchars

DATE_CHARS = frozenset("bdDEFjlLmMnNoStwWyYz")
TIME_CHARS = frozenset("aAfgGhHiPsu")
#: Pieces kept per process before the caches start over (days and times of day of any language).
CACHE_LIMIT = 20_000
_days: dict[tuple, tuple[str, ...]] = {}
_times: dict[tuple, tuple[str, ...]] = {}


def _cached(cache: dict, key: tuple, compute: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
    found = cache.get(key)
    if found is None:
        if len(cache) >= CACHE_LIMIT:
            cache.clear()
        found = cache[key] = compute()
    return found


def datetime_formatter(format_type: str = "DATETIME_FORMAT") -> Callable[[datetime.datetime], str]:
    """``formats.localize(timezone.template_localtime(value))`` for datetimes, in the active language."""
    format_string = str(formats.get_format(format_type))
    pieces = []  # (kind, text): kind "lit", "date", "time" or "full"
    for i, piece in enumerate(re_formatchars.split(format_string)):
        if i % 2:
            kind = "date" if piece in DATE_CHARS else "time" if piece in TIME_CHARS else "full"
            pieces.append((kind, piece))
        elif piece:
            pieces.append(("lit", re_escaped.sub(r"\1", piece)))
    date_chars = tuple(p for kind, p in pieces if kind == "date")
    time_chars = tuple(p for kind, p in pieces if kind == "time")
    scope = (translation.get_language(), format_string)
    seconds, micro = bool({"s", "u"} & set(time_chars)), "u" in time_chars

    def day_pieces(day: datetime.date) -> tuple[str, ...]:
        df = DateFormat(day)
        return tuple(str(getattr(df, char)()) for char in date_chars)

    def time_pieces(moment: datetime.time) -> tuple[str, ...]:
        tf = TimeFormat(moment)
        return tuple(str(getattr(tf, char)()) for char in time_chars)

    # timezone.template_localtime(), with the setting and the current zone read once, not per value.
    zone = timezone.get_current_timezone() if settings.USE_TZ else None

    def fmt(value) -> str:
        if value.__class__ is not datetime.datetime:
            return formats.localize(timezone.template_localtime(value))
        if zone is not None and value.utcoffset() is not None and getattr(value, "convert_to_local_time", True):
            value = value.astimezone(zone)
        day = value.date()
        days = _cached(_days, (scope, day), lambda: day_pieces(day)) if date_chars else ()
        moment = value.time().replace(second=value.second if seconds else 0,
                                      microsecond=value.microsecond if micro else 0)
        times = _cached(_times, (scope, moment), lambda: time_pieces(moment)) if time_chars else ()
        full = None
        out = []
        d = t = 0
        for kind, text in pieces:
            if kind == "lit":
                out.append(text)
            elif kind == "date":
                out.append(days[d])
                d += 1
            elif kind == "time":
                out.append(times[t])
                t += 1
            else:
                full = full or DateFormat(value)
                out.append(str(getattr(full, text)()))
        return "".join(out)

    return fmt
