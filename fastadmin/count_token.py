"""An exact count the user asked for ("count exactly"), carried by the page links.

Counting exactly can take seconds; "Next" must not drop the answer nor pay for it again. The page
links carry it as ``?_count=<token>``: the count signed together with what it counted (the model, the
user, the filters and the search), so it is shown exactly only on pages of that same list, and only
for ``MAX_AGE_S`` (rows come and go; after that the list is estimated again, with the link to count).
A token that does not verify is ignored, never an error: the page falls back to the estimate.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core import signing

SALT = "fastadmin.count"
MAX_AGE_S = 3600


def scope(changelist: Any) -> str:
    """What the count counted: model, user, filters and search (a count of other rows must not apply)."""
    params = sorted((str(k), str(v)) for k, v in changelist.get_filters_params().items())
    raw = repr((changelist.model._meta.label, changelist.user_key, params, changelist.query))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def sign(value: int, where: str) -> str:
    return signing.dumps([value, where], salt=SALT, compress=True)


def carried(token: str | None, where: str) -> int | None:
    """The count ``token`` carries for this list, or None (absent, altered, expired or another list's)."""
    if not token:
        return None
    try:
        value, signed_where = signing.loads(token, salt=SALT, max_age=MAX_AGE_S)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return value if signed_where == where and isinstance(value, int) and value >= 0 else None
