"""Reading a rendered changelist the way a person (or a crawler) would: rows and rel= links."""

import html
import re

ROW_PK = re.compile(r'name="_selected_action" value="([^"]+)"')
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
REL_LINK = re.compile(r'<a rel="(first|prev|next|last)" href="([^"]*)"')


#: How ``search_index.sql.read_keys`` wraps a key probe to get its keys back as one array text.
PROBE_PREFIX, PROBE_SUFFIX = "SELECT COUNT(*), ARRAY_AGG(k.v)::text FROM (", ") k(v)"


def unwrapped(sql: str) -> str:
    """A key probe's own SELECT (as written before ``read_keys`` wrapped it); other SQL as it is."""
    if sql.startswith(PROBE_PREFIX) and sql.endswith(PROBE_SUFFIX):
        return sql[len(PROBE_PREFIX):-len(PROBE_SUFFIX)]
    return sql


def probe_end() -> str:
    """How the search's key probe ends (``LIMIT SEARCH_PROBE_LIMIT + 1``): the way tests tell it apart."""
    from fastadmin.conf import fa_settings

    return f"LIMIT {fa_settings.SEARCH_PROBE_LIMIT + 1}"


def row_pks(response) -> list[int]:
    return [int(pk) for pk in ROW_PK.findall(response.content.decode())]


def rel_links(response) -> dict[str, str]:
    return {rel: html.unescape(href) for rel, href in REL_LINK.findall(response.content.decode())}


def walk(client, url: str, direction: str = "next", limit: int = 10_000) -> list[int]:
    """Follow rel=next (or rel=prev) from ``url``; return every row's pk in the order seen."""
    seen: list[int] = []
    base = url.split("?")[0]
    for _ in range(limit):
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        pks = row_pks(response)
        seen += pks if direction == "next" else list(reversed(pks))
        href = rel_links(response).get(direction)
        if not href:
            return seen
        url = base + href
    raise AssertionError("walk did not end")


def hidden_inputs(response) -> dict[str, str]:
    """The hidden fields of a page's forms (CSRF aside, the test client does not enforce it)."""
    return {name: html.unescape(value) for name, value in HIDDEN_INPUT.findall(response.content.decode())}


def walk_paginator(paginator) -> list:
    """Every primary key a keyset paginator returns, following next cursors from the first page."""
    seen, cursor = [], None
    while True:
        page = paginator.page(cursor=cursor)
        seen += [row.pk for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            return seen
