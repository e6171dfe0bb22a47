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
import time
from datetime import timedelta
from urllib.parse import urlencode

from scale_data import (
    BenchmarkDatabase,
    Stopwatch,
    configure_django,
    insert_checkouts,
    require_postgres,
    vacuum_analyse,
)


def make_checkouts(count: int):
    """The company with ``count`` checkouts, one second apart, and an API key of it."""
    from django.utils import timezone

    from tests.support.factories import DEFAULT_ACCOUNT, make_api_key, make_company

    company = make_company(name="Benchmark salon")
    with Stopwatch(f"{count} checkouts inserted and analysed"):
        insert_checkouts(
            company_ids=[company.pk],
            count=count,
            start=timezone.now() - timedelta(seconds=count + 3600),
            step=timedelta(seconds=1),
            account=DEFAULT_ACCOUNT,
        )
        vacuum_analyse("checkouts_payable", "checkouts_checkout")
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

    database = BenchmarkDatabase.beside(
        require_postgres(parser), f"payment_log_bench_{os.getpid()}"
    )
    database.create()
    try:
        configure_django(database.url)
        run(args.checkouts, args.repeat)
    finally:
        if not args.keep:
            database.drop()


if __name__ == "__main__":
    main()
