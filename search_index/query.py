"""Parsing the admin search box: terms, quotes, namespaces and per-term prefixes.

Grammar (whitespace separates terms; every term must match, like stock admin search)::

    anne smith            two terms, each searched in every search field
    "anne marie"          one term (a phrase); single quotes work too, as in stock
    email:priya@          the term is searched in the ``email`` search field only
    name:"anne marie"     a namespaced phrase
    phone:^+9198          ``^`` after the colon: the field must start with the value
    email:=a@b.test       ``=`` after the colon: the field must equal the value (case-insensitively)
    id:123                the primary key (``pk:`` works too); only valid ids are accepted

A word is taken for a namespace only when it looks like a field path (``[A-Za-z_][A-Za-z0-9_]*``) and
is followed by a colon; to search for text containing a colon, quote it: ``"10:30"``, ``"http://x"``.

The parser knows nothing about models: it turns text into :class:`Term` objects and rejects input
PostgreSQL cannot take (NUL bytes), with a message a person can act on
(:class:`~fastadmin.exceptions.BadParameter`, answered with HTTP 400). Like stock, a search of any
length is accepted (repeated words count once: every word must match anyway); a project may set
``SEARCH_MAX_LENGTH`` / ``SEARCH_MAX_TERMS`` to refuse longer input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.text import smart_split, unescape_string_literal

from fastadmin.exceptions import BadParameter

SEARCH_PARAM = "q"  # django.contrib.admin.views.main.SEARCH_VAR

CONTAINS = "contains"
STARTSWITH = "startswith"
EXACT = "exact"
FULLTEXT = "fulltext"

#: Django's search_fields prefix -> match mode.
FIELD_PREFIXES = {"^": STARTSWITH, "=": EXACT, "@": FULLTEXT}
#: Prefixes a namespaced value may carry (``phone:^+91``, ``email:=a@b.test``).
VALUE_PREFIXES = {"^": STARTSWITH, "=": EXACT}

_NAMESPACE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Term:
    """One whitespace-separated part of the search.

    ``namespace`` is the field path the user named (``None``: every search field); ``mode`` is a mode
    the user forced with a value prefix (``None``: each field's own mode from ``search_fields``).
    """

    value: str
    namespace: str | None = None
    mode: str | None = None
    quoted: bool = False

    def __str__(self) -> str:
        value = f'"{self.value}"' if self.quoted else self.value
        prefix = {STARTSWITH: "^", EXACT: "="}.get(self.mode or "", "")
        return f"{self.namespace}:{prefix}{value}" if self.namespace else value


def _unquote(text: str, shortest: int = 2) -> tuple[str, bool]:
    """``text`` without its quotes when it is a quoted string. A word that is one quote mark alone
    (``shortest=1``: stock's rule for a whole word, ``bit[0] == bit[-1]``) unquotes to nothing, as in
    stock, where it then matches every row: ``'John O'Hara'`` splits into ``'John O'Hara`` and ``'``."""
    if len(text) >= shortest and text[0] in "\"'" and text[0] == text[-1]:
        try:
            return unescape_string_literal(text), True
        except ValueError:
            return text, False
    return text, False


def parse(text: str, *, max_length: int | None = None, max_terms: int | None = None) -> list[Term]:
    """Split ``text`` into terms; raise :class:`BadParameter` for input that cannot be searched.

    ``max_length`` and ``max_terms`` (None: no limit, as in stock) refuse longer input with a 400.
    """
    if "\x00" in text:
        raise BadParameter(
            "The search contains a NUL character (\\x00), which cannot be stored or searched for. "
            "Remove it and search again.",
            param=SEARCH_PARAM,
        )
    text = text.strip()
    if max_length is not None and len(text) > max_length:
        raise BadParameter(
            f"The search is {len(text):,} characters long; at most {max_length:,} are accepted. "
            "Search for a shorter, distinctive part.",
            param=SEARCH_PARAM,
        )
    terms: list[Term] = []
    for bit in smart_split(text):
        value, quoted = _unquote(bit, shortest=1)
        if quoted:
            terms.append(Term(value, quoted=True))
            continue
        match = _NAMESPACE.match(bit)
        if match is None:
            terms.append(Term(bit))
            continue
        namespace, raw = match.groups()
        mode = None
        if raw[:1] in VALUE_PREFIXES:
            mode, raw = VALUE_PREFIXES[raw[:1]], raw[1:]
        value, quoted = _unquote(raw)
        # An empty value is kept: the backend knows whether ``namespace`` is a field (then the user
        # must give a value) or just text ending in a colon (then it is searched as typed).
        terms.append(Term(value, namespace=namespace, mode=mode, quoted=quoted))
    terms = list(dict.fromkeys(t for t in terms if t.value or t.namespace))  # "a a" matches what "a" does
    if max_terms is not None and len(terms) > max_terms:
        raise BadParameter(
            f"The search has {len(terms)} words; at most {max_terms} are accepted. "
            "Use fewer, more distinctive words (quote a phrase to search for it as one).",
            param=SEARCH_PARAM,
        )
    return terms


def longest_word(value: str) -> int:
    """Length of the longest run of letters and digits: what pg_trgm builds trigrams from.

    A contains-search (``LIKE '%value%'``) can use a trigram index only if the value holds a run of
    three or more such characters; shorter values would make PostgreSQL read the whole index.
    """
    best = run = 0
    for char in value:
        run = run + 1 if char.isalnum() else 0
        best = max(best, run)
    return best
