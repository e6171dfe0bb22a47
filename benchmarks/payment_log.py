"""Benchmark: how long a page of the payment log takes with a million checkouts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bokacheckout \\
        .venv/bin/python benchmarks/payment_log.py [--checkouts 1000000] [--repeat 5]

It makes a throwaway database next to DATABASE_URL's (on the same PostgreSQL server),
migrates it, inserts one company's checkouts (paid, expired and open, one second apart,
with their payables) straight in SQL, and VACUUM ANALYZEs. It then asks the real
endpoint, through Django's test client with an API key, for pages at the start, the
middle and the end of the log and with each filter, in JSON and CSV, and prints each
one's median time. The database is dropped at the end unless --keep.
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# One company's checkouts, in the order they were made: paid, expired, open.
INSERT_PAYABLES = """
INSERT INTO checkouts_payable (company_id, internal_reference_id, created_at)
SELECT %(company)s, 'booking-' || n, %(start)s::timestamptz + n * interval '1 second'
FROM generate_series(1, %(count)s) AS n
"""
INSERT_CHECKOUTS = """
INSERT INTO checkouts_checkout (
    id, stripe_session_id, company_id, payable_id, connected_account_id, ui_mode,
    country_code, locale, currency, amount_total, application_fee_amount, amount_refunded,
    lines, status, payment_status, url, customer_id, customer_email, payment_intent_id,
    success_url, cancel_url, return_url, expires_at, stripe_expiry, stripe_expiry_attempts,
    stripe_expiry_error, paid_at, created_at, updated_at
)
SELECT
    gen_random_uuid(), 'cs_test_bench_' || p.id, p.company_id, p.id, %(account)s, 'hosted',
    'SE', 'sv', 'SEK', 45000, 1125, CASE WHEN p.id %% 20 = 0 THEN 15000 ELSE 0 END,
    '[]', s.status, s.payment_status, '', '', s.email, s.intent,
    'https://booking.example.com/confirmed', '', '', p.created_at + interval '1 hour', '', 0,
    '', s.paid_at, p.created_at, p.created_at
FROM checkouts_payable AS p
CROSS JOIN LATERAL (
    SELECT
        CASE WHEN p.id %% 10 < 7 THEN 'complete' WHEN p.id %% 10 < 9 THEN 'expired'
             ELSE 'open' END AS status,
        CASE WHEN p.id %% 10 < 7 THEN 'paid' ELSE 'unpaid' END AS payment_status,
        CASE WHEN p.id %% 10 < 7 THEN 'kund' || p.id || '@example.se' ELSE '' END AS email,
        CASE WHEN p.id %% 10 < 7 THEN 'pi_bench_' || p.id ELSE '' END AS intent,
        CASE WHEN p.id %% 10 < 7 THEN p.created_at + interval '2 minutes' END AS paid_at
) AS s
WHERE p.company_id = %(company)s
"""


def database_urls(base_url: str) -> tuple[str, str]:
    """The server's maintenance database, and a throwaway one beside ``base_url``'s."""
    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'bokacheckout'}_payment_log_bench_{os.getpid()}"
    return urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts._replace(path=f"/{name}"))


def execute_autocommit(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


def configure_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bokacheckout.settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("API_THROTTLE_RATE", "1000000/min")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    # WhiteNoise looks for collected static files, which a benchmark has no use for.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_checkouts(count: int):
    """The company with ``count`` checkouts, and an API key of it."""
    from django.db import connection
    from django.utils import timezone

    from tests.support.factories import DEFAULT_ACCOUNT, make_api_key, make_company

    company = make_company(name="Benchmark salon")
    start = timezone.now() - timezone.timedelta(seconds=count + 3600)
    values = {"company": company.pk, "start": start, "count": count, "account": DEFAULT_ACCOUNT}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(INSERT_PAYABLES, values)
        cursor.execute(INSERT_CHECKOUTS, values)
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE checkouts_payable")
        cursor.execute("VACUUM ANALYZE checkouts_checkout")
    print(f"{count} checkouts inserted and analysed in {time.perf_counter() - started:.0f} s")
    return company, make_api_key(company)


def median_ms(client, url: str, repeat: int) -> tuple[float, object]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return statistics.median(times), response


def run(count: int, repeat: int) -> None:
    from django.test import Client
    from django.utils import timezone

    company, key = make_checkouts(count)
    client = Client(headers={"X-Api-Key": key})
    two_hours_ago = (timezone.now() - timezone.timedelta(hours=2)).isoformat()
    cases = [
        ("first page, Take=100", {}),
        ("first page, Take=1000", {"Take": 1000}),
        ("middle, Skip=N/2", {"Skip": count // 2}),
        ("last page", {"Skip": count - 100}),
        ("PaymentStatus=paid, Skip=10000", {"PaymentStatus": "paid", "Skip": 10000}),
        ("one InternalReferenceId", {"InternalReferenceId": f"booking-{count // 3}"}),
        ("CreatedFrom two hours ago", {"CreatedFrom": two_hours_ago}),
    ]
    print(f"{'page':<34} {'JSON ms':>9} {'CSV ms':>9}  Total")
    for name, query in cases:
        url = f"/payment/stripe/v1/payments?{urlencode({'CompanyId': company.pk, **query})}"
        as_json, response = median_ms(client, url, repeat)
        as_csv, _ = median_ms(client, f"{url}&format=csv", repeat)
        body = response.json()
        capped = " (lower bound)" if body["Meta"] else ""
        print(f"{name:<34} {as_json:9.1f} {as_csv:9.1f}  {body['Total']}{capped}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="Requests per page timed.")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL database (its server gets a throwaway one)")
    maintenance, url = database_urls(base_url)
    name = urlsplit(url).path.lstrip("/")
    execute_autocommit(maintenance, f'CREATE DATABASE "{name}"')
    try:
        configure_django(url)
        run(args.checkouts, args.repeat)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            execute_autocommit(maintenance, f'DROP DATABASE "{name}"')


if __name__ == "__main__":
    main()
