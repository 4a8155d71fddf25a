"""The changelist's link query strings (``ChangeList.get_query_string``), built with each
``key=value`` pair encoded once per request.

A sidebar lists a hundred or more choices, and stock builds each one's link by copying the
parameters and URL-encoding all of them again (``urlencode(sorted(params.items()), doseq=True)``).
The parameters are the same for every link of one page, so their encoded pairs are kept; the result
is the same string, byte for byte (``tests/test_query_strings.py`` compares it with stock's).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from django.utils.http import urlencode


class QueryStrings:
    """Stock's ``get_query_string`` steps over one changelist's ``filter_params``."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.pairs: dict[tuple[str, str], str] = {}

    def build(self, new_params: dict[str, Any] | None, remove: list[str] | tuple[str, ...] | None) -> str:
        params = self.params.copy()
        for prefix in remove or ():
            for key in [k for k in params if k.startswith(prefix)]:
                del params[key]
        for key, value in (new_params or {}).items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        encoded = (self.pair(key, value) for key, value in sorted(params.items()))
        return "?" + "&".join(pair for pair in encoded if pair)  # an empty list encodes to nothing

    def pair(self, key: str, value: Any) -> str:
        """``key=value``; a list (``filter_params`` holds ``request.GET.lists()``) as one pair per item."""
        if isinstance(value, int):  # a relation filter's choices: the related keys; bools print as stock's
            value = str(value)
        if isinstance(value, str):
            memo_key: Any = (key, value)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            memo_key = (key, tuple(value))
        else:
            return urlencode([(key, value)], doseq=True)  # numbers, bytes, other iterables: stock's own
        found = self.pairs.get(memo_key)
        if found is None:
            name = quote_plus(key)
            items = [value] if isinstance(value, str) else value
            found = self.pairs[memo_key] = "&".join(f"{name}={quote_plus(item)}" for item in items)
        return found
