"""A million checkouts for the benchmarks: a PostgreSQL database of their own, filled in SQL.

The benchmarks that need rows at scale (``payment_log.py``, ``admin.py``) share this:
a database beside DATABASE_URL's on the same server, migrated by Django, then filled
with ``INSERT ... SELECT generate_series`` (a million checkouts in well under a minute,
where the ORM one by one would take an hour), then VACUUM ANALYZEd so the planner
knows the tables as production's would be known.

The rows follow one pattern, by payable id: 70 % paid, 20 % expired, 10 % open, one
in 20 paid ones partly refunded and one in 100 fully, one in 1,000 free (no payment
required), one in 7 hosted ones embedded. With ``superseded_every``, one payable in
that many also has an older session its current one superseded (a handful of them
with their expiry failing, or paid while superseded).
"""

import os
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Payables, ``step`` apart, shared round-robin between the companies.
INSERT_PAYABLES = """
INSERT INTO checkouts_payable (company_id, internal_reference_id, created_at)
SELECT (%(companies)s::uuid[])[1 + n %% cardinality(%(companies)s::uuid[])],
       'booking-' || n, %(start)s::timestamptz + n * %(step)s::interval
FROM generate_series(1, %(count)s) AS n
"""

# Each payable's current checkout; its state follows from the payable's id.
INSERT_CHECKOUTS = """
INSERT INTO checkouts_checkout (
    id, stripe_session_id, company_id, payable_id, connected_account_id, ui_mode,
    country_code, locale, currency, amount_total, application_fee_amount, amount_refunded,
    lines, status, payment_status, url, customer_id, customer_email, payment_intent_id,
    success_url, cancel_url, return_url, expires_at, stripe_expiry, stripe_expiry_attempts,
    stripe_expiry_error, paid_at, created_at, updated_at
)
SELECT
    gen_random_uuid(), 'cs_test_bench_' || p.id, p.company_id, p.id, %(account)s,
    CASE WHEN p.id %% 7 = 3 THEN 'embedded' ELSE 'hosted' END,
    'SE', 'sv', 'SEK', s.amount, CASE WHEN s.amount > 0 THEN 1125 END,
    CASE WHEN s.paid AND p.id %% 100 = 1 THEN 45000
         WHEN s.paid AND p.id %% 20 = 0 THEN 15000 ELSE 0 END,
    %(lines)s::jsonb, s.status, s.payment_status,
    CASE WHEN p.id %% 7 = 3 THEN ''
         ELSE 'https://checkout.stripe.com/c/pay/cs_test_bench_' || p.id END,
    CASE WHEN s.paid THEN 'cus_bench_' || p.id ELSE '' END,
    CASE WHEN s.paid THEN 'kund' || p.id || '@example.se' ELSE '' END,
    CASE WHEN s.paid THEN 'pi_bench_' || p.id ELSE '' END,
    'https://booking.example.com/confirmed?session_id={CHECKOUT_SESSION_ID}',
    'https://booking.example.com/cancelled', '', p.created_at + interval '1 hour', '', 0,
    '', CASE WHEN s.paid THEN p.created_at + interval '2 minutes' END,
    p.created_at, p.created_at
FROM checkouts_payable AS p
CROSS JOIN LATERAL (
    SELECT
        CASE WHEN p.id %% 10 < 7 THEN 'complete' WHEN p.id %% 10 < 9 THEN 'expired'
             ELSE 'open' END AS status,
        CASE WHEN p.id %% 1000 = 2 THEN 'no_payment_required'
             WHEN p.id %% 10 < 7 THEN 'paid' ELSE 'unpaid' END AS payment_status,
        p.id %% 10 < 7 AS paid,
        CASE WHEN p.id %% 1000 = 2 THEN 0 ELSE 45000 END AS amount
) AS s
WHERE p.id > %(after)s
"""

# The older session of one payable in ``superseded_every``, ended on Stripe when its
# current one was made; now and then its expiry keeps failing, or it was paid anyway.
INSERT_SUPERSEDED = """
INSERT INTO checkouts_checkout (
    id, stripe_session_id, company_id, payable_id, connected_account_id, ui_mode,
    country_code, locale, currency, amount_total, application_fee_amount, amount_refunded,
    lines, status, payment_status, url, customer_id, customer_email, payment_intent_id,
    success_url, cancel_url, return_url, expires_at, superseded_by_id, superseded_at,
    stripe_expiry, stripe_expiry_attempts, stripe_expiry_error, paid_at, created_at, updated_at
)
SELECT
    gen_random_uuid(), 'cs_test_bench_older_' || p.id, p.company_id, p.id, c.connected_account_id,
    'hosted', 'SE', 'sv', 'SEK', 45000, 1125, 0, c.lines,
    CASE WHEN s.paid THEN 'complete' WHEN s.failing THEN 'open' ELSE 'expired' END,
    CASE WHEN s.paid THEN 'paid' ELSE 'unpaid' END,
    'https://checkout.stripe.com/c/pay/cs_test_bench_older_' || p.id,
    '', '', CASE WHEN s.paid THEN 'pi_bench_older_' || p.id ELSE '' END,
    c.success_url, c.cancel_url, '', c.created_at + interval '50 minutes', c.id, c.created_at,
    CASE WHEN s.paid THEN 'already_complete' WHEN s.failing THEN 'pending' ELSE 'expired' END,
    CASE WHEN s.failing THEN 3 ELSE 1 END,
    CASE WHEN s.failing THEN 'Stripe was unavailable.' ELSE '' END,
    CASE WHEN s.paid THEN c.created_at + interval '1 minute' END,
    c.created_at - interval '10 minutes', c.created_at
FROM checkouts_payable AS p
JOIN checkouts_checkout AS c ON c.payable_id = p.id
CROSS JOIN LATERAL (
    SELECT p.id %% 14000 = 7 AS paid, p.id %% 14000 = 0 AS failing
) AS s
WHERE p.id > %(after)s AND p.id %% %(every)s = 0
"""

# A paid payable stays on its paid checkout: the first one paid.
POINT_PAYABLES = """
UPDATE checkouts_payable AS p
SET current_checkout_id = coalesce(older.id, c.id),
    paid_checkout_id = coalesce(older.id, CASE WHEN c.payment_status <> 'unpaid' THEN c.id END)
FROM checkouts_checkout AS c
LEFT JOIN checkouts_checkout AS older
    ON older.superseded_by_id = c.id AND older.payment_status = 'paid'
WHERE c.payable_id = p.id AND c.superseded_by_id IS NULL
    AND p.id > %(after)s
"""

LINES = (
    '[{"article_type": 1, "article_id": 1, "name": "Haircut", "quantity": 1,'
    ' "unit_amount": 45000, "vat_rate": "25.00"}]'
)


@dataclass(frozen=True)
class BenchmarkDatabase:
    """A database beside DATABASE_URL's, on the same PostgreSQL server."""

    url: str
    maintenance_url: str

    @classmethod
    def beside(cls, base_url: str, suffix: str) -> "BenchmarkDatabase":
        parts = urlsplit(base_url)
        name = f"{parts.path.lstrip('/') or 'bokacheckout'}_{suffix}"
        return cls(
            url=urlunsplit(parts._replace(path=f"/{name}")),
            maintenance_url=urlunsplit(parts._replace(path="/postgres")),
        )

    @property
    def name(self) -> str:
        return urlsplit(self.url).path.lstrip("/")

    def exists(self) -> bool:
        import psycopg

        with psycopg.connect(self.maintenance_url, autocommit=True) as connection:
            found = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.name]
            ).fetchone()
        return found is not None

    def create(self) -> None:
        self._maintain(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        from django.conf import settings
        from django.db import connections

        if settings.configured:
            connections.close_all()
        self._maintain(f'DROP DATABASE IF EXISTS "{self.name}"')

    def _maintain(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.maintenance_url, autocommit=True) as connection:
            connection.execute(sql)


def require_postgres(parser) -> str:
    """DATABASE_URL, if it is PostgreSQL's; the benchmark refuses SQLite."""
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL database (its server gets one beside it)")
    return base_url


def configure_django(url: str) -> None:
    """Django on ``url``, migrated."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bokacheckout.settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("API_THROTTLE_RATE", "1000000/min")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    # The test client speaks plain http, as dev.py run does.
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
    # WhiteNoise looks for collected static files, which a benchmark has no use for.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def insert_checkouts(
    *,
    company_ids: list,
    count: int,
    start: datetime,
    step: timedelta,
    account: str,
    superseded_every: int | None = None,
) -> None:
    """``count`` payables, ``step`` apart from ``start``, each with its current checkout
    (and, one in ``superseded_every``, an older superseded one)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM checkouts_payable")
        (before,) = cursor.fetchone()
        values = {
            "companies": company_ids,
            "after": before,
            "count": count,
            "start": start,
            "step": step,
            "account": account,
            "lines": LINES,
            "every": superseded_every,
        }
        cursor.execute(INSERT_PAYABLES, values)
        cursor.execute(INSERT_CHECKOUTS, values)
        cursor.execute("ANALYZE checkouts_payable, checkouts_checkout")
        if superseded_every:
            cursor.execute(INSERT_SUPERSEDED, values)
        # The planner must know the tables' new size to join them other than row by row.
        cursor.execute("ANALYZE checkouts_checkout")
        cursor.execute(POINT_PAYABLES, values)


def vacuum_analyse(*tables: str) -> None:
    """What autovacuum would have done by now: statistics and the visibility map."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM ANALYZE "{table}"')


class Stopwatch:
    """Prints how long a step took."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> "Stopwatch":
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc_info) -> None:
        if exc_info[0] is None:
            print(f"{self.what}: {time.perf_counter() - self.started:.0f} s", flush=True)
