"""Benchmark: how many requests 3 gunicorn workers admit for one API key, with and without Redis.

    python3 dev.py python benchmarks/throttle.py [--rate 100/min] [--requests 2000] [--clients 64]

It runs the production server (``gunicorn -c gunicorn.conf.py``, WEB_CONCURRENCY=3)
against the Stripe emulator on a throwaway SQLite database (DATABASE_URL's instead, if
set), twice: with ``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``, ``--redis-url``)
and with local memory. Each time it fires ``--requests`` creates at once from
``--clients`` threads with one new API key, and as many requests with a wrong key from
one client address (behind one trusted proxy, a new address each run, so earlier runs'
counts in Redis never matter). It prints how many of each were admitted against the
configured rates: with Redis exactly the rate; in local memory each worker counts alone,
so up to 3 times it.
"""

import argparse
import ipaddress
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKERS = 3
FAILED_KEY_RATE = "30/min"


def configure_django(workdir: str) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/benchmark.sqlite3")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bokacheckout.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_company():
    from django.db import connection

    from tests.support.factories import make_article
    from tests.support.factories import make_company as make_company_row

    company = make_company_row(name="Throttle benchmark salon")
    make_article(company)
    # The server's processes write to this database too; SQLite needs it let go.
    connection.close()
    return company


def server_environment(emulator_url: str, rate: str, redis_url: str | None) -> dict[str, str]:
    environment = {
        **os.environ,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "STRIPE_API_BASE": emulator_url,
        "STRIPE_SECRET_KEY": "sk_test_benchmark",
        "WEB_CONCURRENCY": str(WORKERS),
        "API_THROTTLE_RATE": rate,
        "API_FAILED_KEY_RATE": FAILED_KEY_RATE,
        # The benchmark is the one proxy in front: it names each run's client address.
        "API_NUM_PROXIES": "1",
        "LOG_LEVEL": "ERROR",
    }
    environment.pop("REDIS_URL", None)
    if redis_url:
        environment["REDIS_URL"] = redis_url
    return environment


def fire(url: str, count: int, clients: int, headers: dict, body_of) -> tuple[Counter, float]:
    """``count`` POSTs at once from ``clients`` threads, each on its own connection; the
    statuses they got and the seconds they took."""
    import requests

    from tests.support.api import CHECKOUT_URL

    connections = threading.local()

    def one(n: int) -> int:
        if not hasattr(connections, "session"):
            connections.session = requests.Session()
        response = connections.session.post(
            url + CHECKOUT_URL, json=body_of(n), headers=headers, timeout=60
        )
        return response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        statuses = Counter(pool.map(one, range(count)))
    return statuses, time.perf_counter() - started


def run_once(label: str, environment: dict, company, count: int, clients: int) -> None:
    from tests.support.api import checkout_body
    from tests.support.factories import make_api_key
    from tests.support.servers import gunicorn_server

    key = make_api_key(company)
    client_address = str(ipaddress.IPv4Address(0x0A000000 + secrets.randbelow(2**24)))

    def create(n: int) -> dict:
        return checkout_body(company, InternalReferenceId=f"throttle-bench-{n}")

    with gunicorn_server(environment) as url:
        valid, valid_seconds = fire(url, count, clients, {"X-Api-Key": key}, create)
        wrong = {"X-Api-Key": "wrongkey.wrong", "X-Forwarded-For": client_address}
        failed, failed_seconds = fire(url, count, clients, wrong, create)
    report(label, "one API key", valid, 200, environment["API_THROTTLE_RATE"], valid_seconds)
    report(label, "wrong keys, one address", failed, 401, FAILED_KEY_RATE, failed_seconds)


def report(label: str, what: str, statuses: Counter, admitted_status: int, rate: str, seconds):
    limit = int(rate.split("/")[0])
    admitted = statuses[admitted_status]
    others = {status: n for status, n in statuses.items() if status not in (admitted_status, 429)}
    print(
        f"{label:<13} {what:<24} {sum(statuses.values()):>5} sent in {seconds:5.1f} s   "
        f"{admitted:>4} admitted ({admitted / limit:.2f} x {rate})   {statuses[429]:>4} got 429"
        + (f"   other statuses: {others}" if others else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", default="100/min", help="API_THROTTLE_RATE (default 100/min)")
    parser.add_argument("--requests", type=int, default=2000, help="sent per run, default 2000")
    parser.add_argument("--clients", type=int, default=64, help="at once, default 64")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    from stripe_emulator import StripeEmulator

    with tempfile.TemporaryDirectory() as workdir:
        configure_django(workdir)
        company = make_company()
        emulator = StripeEmulator().start()
        try:
            print(
                f"gunicorn -c gunicorn.conf.py, {WORKERS} workers, {args.clients} clients at once"
            )
            for label, redis_url in (("REDIS_URL", args.redis_url), ("local memory", None)):
                environment = server_environment(emulator.url, args.rate, redis_url)
                run_once(label, environment, company, args.requests, args.clients)
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
