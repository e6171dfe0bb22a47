"""Rows by the ten thousand, straight in SQL on PostgreSQL: enough for its planner to
choose as it would at scale (the factories' one row at a time would take minutes).

Each checkout has a payable of its own. The helpers insert plain, common rows (paid or
open hosted checkouts, processed deliveries); tests add the rare ones with the factories.
``analyse`` then gives the planner their statistics, and ``forget`` takes them back
before the test's transaction is rolled back (a table's row count, unlike its rows,
survives a rollback).
"""

from datetime import datetime, timedelta
from uuid import UUID

from django.db import connection

from articles.models import Company
from checkouts.models import UiMode

INSERT_PAYABLES = """
INSERT INTO checkouts_payable (company_id, internal_reference_id, created_at)
SELECT %(company)s, %(prefix)s || n, now()
FROM generate_series(1, %(count)s) AS n
"""
# What every bulk checkout sets, in this order; each INSERT below names its own columns
# after these ({checkout_columns}, filled in where the statements run).
CHECKOUT_COLUMNS = """
    id, stripe_session_id, company_id, payable_id, connected_account_id, ui_mode,
    country_code, locale, currency, amount_total, amount_refunded, lines, status,
    payment_status, url, customer_id, customer_email, payment_intent_id, success_url,
    cancel_url, return_url, expires_at, stripe_expiry, stripe_expiry_attempts,
    stripe_expiry_error, created_at, updated_at"""
INSERT_CHECKOUTS = """
INSERT INTO checkouts_checkout ({checkout_columns}, superseded_by_id, superseded_at)
SELECT
    gen_random_uuid(),
    coalesce((%(session_ids)s::text[])[n], 'cs_test_bulk_' || p.id),
    p.company_id, p.id, %(account)s, 'hosted', 'SE', 'sv', 'SEK', 45000, 0, '[]', 'open',
    'unpaid', '', '', '', '', 'https://booking.example.com/confirmed', '', '',
    c.created_at + %(lifetime)s, %(stripe_expiry)s, 0, '', c.created_at, c.created_at,
    %(superseded_by)s,
    CASE WHEN %(superseded_by)s::uuid IS NULL THEN NULL ELSE c.created_at END
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
        cursor.execute(INSERT_CHECKOUTS.format(checkout_columns=CHECKOUT_COLUMNS), values)


INSERT_PAYABLES_AND_CHECKOUTS = """
WITH payables AS (
    INSERT INTO checkouts_payable (company_id, internal_reference_id, created_at)
    SELECT %(company)s, %(prefix)s || n, %(newest)s::timestamptz - n * %(spacing)s::interval
    FROM generate_series(1, %(count)s) AS n
    RETURNING id, company_id, created_at
)
INSERT INTO checkouts_checkout ({checkout_columns}, paid_at)
SELECT gen_random_uuid(), 'cs_test_bulk_' || p.id, p.company_id, p.id, 'acct_1Bulk', %(ui_mode)s,
       'SE', 'sv', 'SEK', 45000, 0, '[]', 'complete', 'paid', '', 'cus_bulk_' || p.id,
       'kund@example.se', 'pi_bulk_' || p.id, 'https://booking.example.com/confirmed', '', '',
       p.created_at + interval '1 hour', '', 0, '', p.created_at, p.created_at, p.created_at
FROM payables AS p
"""

INSERT_SUPERSEDED = """
INSERT INTO checkouts_checkout ({checkout_columns}, superseded_by_id, superseded_at)
SELECT gen_random_uuid(), 'cs_test_bulk_older_' || c.payable_id, c.company_id, c.payable_id,
       c.connected_account_id, 'hosted', 'SE', 'sv', 'SEK', 45000, 0, '[]', 'expired',
       'unpaid', '', '', '', '', c.success_url, '', '', c.created_at,
       'expired', 1, '', c.created_at - interval '10 minutes', c.created_at, c.id, c.created_at
FROM checkouts_checkout AS c
WHERE c.stripe_session_id LIKE 'cs_test_bulk_%%' AND c.payable_id %% %(every)s = 0
"""

INSERT_DELIVERIES = """
INSERT INTO checkouts_webhookdelivery (
    event_id, event_type, account, payload, received_at, processed_at, outcome, error
)
SELECT 'evt_bulk_' || n, 'checkout.session.completed', 'acct_1Bulk', '{}',
       %(newest)s::timestamptz - n * %(spacing)s::interval,
       %(newest)s::timestamptz - n * %(spacing)s::interval, 'processed', ''
FROM generate_series(1, %(count)s) AS n
"""

# The big tables of a deployment (the admin's lists).
TABLES = [
    "checkouts_payable",
    "checkouts_checkout",
    "checkouts_webhookdelivery",
    "checkouts_refund",
]


def insert_paid_checkouts(
    company: Company,
    *,
    count: int,
    newest: datetime,
    spacing: timedelta,
    prefix: str,
    ui_mode: str = UiMode.HOSTED,
) -> None:
    """``count`` payables of ``company`` (references ``prefix`` 1, 2...), each with a
    paid checkout, the newest made at ``newest``, then one ``spacing`` apart."""
    values = {
        "company": company.pk,
        "count": count,
        "newest": newest,
        "spacing": spacing,
        "prefix": prefix,
        "ui_mode": ui_mode,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_PAYABLES_AND_CHECKOUTS.format(checkout_columns=CHECKOUT_COLUMNS), values
        )


def insert_superseded_checkouts(*, every: int) -> None:
    """For one in ``every`` of the payables ``insert_paid_checkouts`` made, an older
    session that its checkout superseded, expired on Stripe (as a booking made twice
    leaves)."""
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_SUPERSEDED.format(checkout_columns=CHECKOUT_COLUMNS), {"every": every}
        )


def insert_processed_deliveries(*, count: int, newest: datetime, spacing: timedelta) -> None:
    """``count`` processed ``checkout.session.completed`` deliveries, ``spacing`` apart."""
    with connection.cursor() as cursor:
        cursor.execute(INSERT_DELIVERIES, {"count": count, "newest": newest, "spacing": spacing})


def analyse() -> None:
    """The tables' statistics, as autovacuum would keep them."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(TABLES)}")


def forget() -> None:
    """Delete the tables' rows and analyse them again, inside the test's transaction, so
    that the row counts the next tests see are back to none. (Their foreign keys are
    checked at commit, which never comes.)"""
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table names
    analyse()
