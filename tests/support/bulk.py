"""Many checkouts at once, straight in SQL on PostgreSQL, for query plans and benchmarks.

Each checkout has a payable of its own, so that any number of them may be open.
"""

from datetime import datetime, timedelta
from uuid import UUID

from django.db import connection

INSERT_PAYABLES = """
INSERT INTO checkouts_payable (company_id, internal_reference_id, created_at)
SELECT %(company)s, %(prefix)s || n, now()
FROM generate_series(1, %(count)s) AS n
"""
INSERT_CHECKOUTS = """
INSERT INTO checkouts_checkout (
    id, stripe_session_id, company_id, payable_id, connected_account_id, ui_mode,
    country_code, locale, currency, amount_total, amount_refunded, lines, status,
    payment_status, url, customer_id, customer_email, payment_intent_id, success_url,
    cancel_url, return_url, expires_at, superseded_by_id, superseded_at, stripe_expiry,
    stripe_expiry_attempts, stripe_expiry_error, created_at, updated_at
)
SELECT
    gen_random_uuid(),
    coalesce((%(session_ids)s::text[])[n], 'cs_test_bulk_' || p.id),
    p.company_id, p.id, %(account)s, 'hosted', 'SE', 'sv', 'SEK', 45000, 0, '[]', 'open',
    'unpaid', '', '', '', '', 'https://booking.example.com/confirmed', '', '',
    c.created_at + %(lifetime)s, %(superseded_by)s,
    CASE WHEN %(superseded_by)s::uuid IS NULL THEN NULL ELSE c.created_at END,
    %(stripe_expiry)s, 0, '', c.created_at, c.created_at
FROM generate_series(1, %(count)s) AS n
JOIN checkouts_payable AS p
    ON p.company_id = %(company)s AND p.internal_reference_id = %(prefix)s || n
CROSS JOIN LATERAL (
    SELECT %(start)s::timestamptz + (n * %(stride)s + %(offset)s) * interval '1 millisecond'
        AS created_at
) AS c
"""


def insert_open_checkouts(
    *,
    company_id: UUID,
    account: str,
    count: int,
    prefix: str,
    start: datetime,
    lifetime: timedelta,
    stride: int = 1,
    offset: int = 0,
    superseded_by: UUID | None = None,
    session_ids: list[str] = (),
) -> None:
    """``count`` open checkouts of one company on ``account``, the n-th (from 1) created at
    ``start + (n * stride + offset)`` milliseconds and expiring ``lifetime`` later.

    With ``superseded_by`` they are superseded, their expiry pending. The first take
    ``session_ids`` (sessions made on the emulator); the rest get made-up ids.
    """
    values = {
        "company": company_id,
        "account": account,
        "count": count,
        "prefix": prefix,
        "start": start,
        "lifetime": lifetime,
        "stride": stride,
        "offset": offset,
        "superseded_by": superseded_by,
        "stripe_expiry": "" if superseded_by is None else "pending",
        "session_ids": list(session_ids),
    }
    with connection.cursor() as cursor:
        cursor.execute(INSERT_PAYABLES, values)
        cursor.execute(INSERT_CHECKOUTS, values)
