"""Values the benchmark's cases refer to (``{placeholders}``), computed once per dataset with plain SQL:
positions in the table, a month, a customer, search terms, and how many rows each case must show."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

from django.db import connections

from .admin import OrderOptions
from .models import Order

PER_PAGE = OrderOptions.list_per_page


def order_column(name: str, options=OrderOptions) -> int:
    """The stock ``?o=`` index of ``list_display`` column ``name`` (index 0 is the action checkbox)."""
    return 1 + list(options.list_display).index(name) if options.actions is not None else 0


def build_context(rows: int, using: str = "default") -> dict[str, Any]:
    """Placeholders for :data:`CASES`: sort-column indexes and the position half-way down the table."""
    half = rows // 2
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT placed_at FROM {Order._meta.db_table} "
            "ORDER BY placed_at DESC, id DESC OFFSET %s LIMIT 1",
            [half],
        )
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError(f"{Order._meta.db_table} holds fewer than {half + 1} rows")
    return {
        **search_values(using),
        "rows": rows,
        "o_total": order_column("total_display"),
        "o_number": order_column("number"),
        "deep_page": half // PER_PAGE + 1,  # stock pages are 1-based
        "deep_seek": quote(row[0].isoformat(), safe=""),
        **drill_down_values(row[0], using),
    }


COMMON = "smith"  # a last name of the seed: about 1 lead in 60 matches
FULL_TEXT = "demo"  # a word of one of the seed's lead notes ("Asked for a demo"): about 1 lead in 27
SHORT, SHORT_NONE = "al", "qx"  # two letters: below the trigram index's reach; the second matches nothing


def drill_down_values(moment, using: str = "default") -> dict[str, Any]:
    """The month of the half-way order, that order's customer, and how many rows each case shows."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM shop_order WHERE placed_at >= date_trunc('month', %s::timestamptz AT TIME ZONE 'UTC')"
            " AT TIME ZONE 'UTC' AND placed_at < (date_trunc('month', %s::timestamptz AT TIME ZONE 'UTC')"
            " + interval '1 month') AT TIME ZONE 'UTC'",
            [moment, moment],
        )
        month_rows = cursor.fetchone()[0]
        cursor.execute("SELECT customer_id FROM shop_order WHERE placed_at = %s ORDER BY id LIMIT 1", [moment])
        customer = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM shop_order WHERE customer_id = %s", [customer])
        fk_rows = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM shop_order o JOIN shop_customer c ON c.id = o.customer_id WHERE"
            " upper(o.number) LIKE %s OR upper(c.name) LIKE %s OR upper(c.email) LIKE %s",
            [f"%{COMMON.upper()}%"] * 3,
        )
        related_rows = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM shop_customer")
        customers = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM shop_lead WHERE upper(name) LIKE %s OR upper(email) LIKE %s OR upper(phone) LIKE %s",
            [f"%{SHORT_NONE.upper()}%"] * 3,
        )
        matches = cursor.fetchone()[0]
    if matches:
        raise RuntimeError(f"the no-match term {SHORT_NONE!r} matches {matches} leads")
    utc = moment.astimezone(datetime.UTC)
    return {
        "dh_year": utc.year,
        "dh_month": utc.month,
        "dh_rows": min(month_rows, PER_PAGE),
        "fk_customer": customer,
        "fk_rows": min(fk_rows, PER_PAGE),
        "related_rows": min(related_rows, PER_PAGE),
        "customer_rows": min(customers, PER_PAGE),
        "short": SHORT,
        "short_none": SHORT_NONE,
    }


def search_values(using: str = "default") -> dict[str, Any]:
    """A lead half-way down the table: its phone digits (rare term), e-mail (namespaced) and pk, and
    how many rows each search must show (counted once here, with plain SQL)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT id, email, right(phone, 8) FROM shop_lead WHERE phone <> '' AND id >= "
            "(SELECT (min(id) + max(id)) / 2 FROM shop_lead) ORDER BY id LIMIT 1"
        )
        row = cursor.fetchone()
        if row is None:
            raise RuntimeError("shop_lead holds no lead with a phone number")
        pk, email, digits = row
        cursor.execute(
            "SELECT count(*) FILTER (WHERE phone LIKE %s), count(*) FILTER (WHERE email LIKE %s),"
            " count(*) FILTER (WHERE upper(name) LIKE %s OR upper(email) LIKE %s) FROM shop_lead",
            [f"%{digits}%", f"%{email}%", f"%{COMMON.upper()}%", f"%{COMMON.upper()}%"],
        )
        phone_rows, email_rows, common_rows = cursor.fetchone()
        # Stock's "@notes": the default text search configuration, as it runs it.
        cursor.execute("SELECT count(*) FROM shop_lead WHERE to_tsvector(COALESCE(notes, '')) @@ plainto_tsquery(%s)",
                       [FULL_TEXT])
        full_text_rows = cursor.fetchone()[0]
    return {
        "full_text": FULL_TEXT,
        "full_text_rows": min(full_text_rows, PER_PAGE),
        "common": COMMON,
        "common_rows": min(common_rows, PER_PAGE),
        "rare_pk": pk,
        "rare_email": email,
        "rare_email_q": quote(email, safe=""),
        "rare_email_rows": min(email_rows, PER_PAGE),
        "rare_phone": digits,
        "rare_phone_rows": min(phone_rows, PER_PAGE),
    }


