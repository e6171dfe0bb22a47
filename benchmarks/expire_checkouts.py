"""Benchmark: expire_checkouts across connected accounts, the cost of a claim, and its memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bokacheckout \\
        .venv/bin/python benchmarks/expire_checkouts.py [--due 100000] [--accounts 20] \\
        [--rate 20] [--latency 0.3] [--calls 6000] [--hosts 1] [--claim-sizes 1000 100000]

It makes a throwaway PostgreSQL database beside DATABASE_URL's and starts the Stripe
emulator in a process of its own, then prints:

1. Throughput. ``--due`` superseded checkouts, their expiry pending, over ``--accounts``
   connected accounts: clustered (every account's rows older than the next's), then
   interleaved. The emulator answers each call after ``--latency`` seconds. A run at
   ``--rate`` per account ends the first ``--calls`` of them (their sessions are made on
   the emulator first; the rest are never reached), and the calls per second Stripe
   saw are set beside rate x accounts. With ``--hosts N`` the run is N processes of
   ``manage.py expire_checkouts`` at once, which share the rate only through Redis:
   set REDIS_URL. Each line also gives the CPU per call of the service and of the
   emulator, and the busiest second of any one account.
2. The claim's cost with 1,000, 100,000... due checkouts (``--claim-sizes``), a third of
   each kind (superseded, past expires_at, older than asked) over the accounts: the
   median of one claim of 20 rows per kind, rolled back, beside the single query over
   every due row that claims used to be; and finding the accounts with due rows.
3. Memory: the peak Python memory (tracemalloc) of runs ending 1,000 and 4,000
   checkouts (``--memory-runs``) of 100,000 due, without latency.
"""

import argparse
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPIRE_PATH = re.compile(r"/v1/checkout/sessions/[^/]+/expire")
KINDS = ("superseded", "past its expires_at", "older than 1:00:00")


class EmulatorProcess:
    """``python -m stripe_emulator`` on a free port, in a child process; its control API."""

    def __enter__(self) -> "EmulatorProcess":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stripe_emulator", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        self.url = re.search(r"listening on (\S+)", line).group(1)
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        self.process.wait()

    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        response = requests.request(
            method, f"{self.url}/_emulator/{path}", json=body or {}, timeout=120
        )
        response.raise_for_status()
        return response.json()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throwaway_database(base_url: str) -> tuple[str, str]:
    """The server's maintenance database, and a throwaway one beside ``base_url``'s."""
    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'bokacheckout'}_expire_bench_{os.getpid()}"
    return urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts._replace(path=f"/{name}"))


def execute_autocommit(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


def configure_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bokacheckout.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def sql(statement: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement)


def start_afresh(emulator: EmulatorProcess) -> None:
    sql("TRUNCATE checkouts_checkout, checkouts_payable CASCADE")
    emulator.control("POST", "reset")


def make_companies(count: int) -> list:
    from tests.support.factories import make_company

    return [make_company(name=f"Salon {n:02}", account=f"acct_1Bench{n:02}") for n in range(count)]


def make_sessions(emulator: EmulatorProcess, account: str, count: int) -> list[str]:
    import stripe

    client = stripe.StripeClient("sk_test_benchmark", base_addresses={"api": emulator.url})
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "sek",
                    "unit_amount": 45000,
                    "product_data": {"name": "Haircut"},
                },
            }
        ],
        "success_url": "https://example.com/ok",
    }

    def create(_) -> str:
        return client.v1.checkout.sessions.create(
            params=params, options={"stripe_account": account}
        ).id

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(create, range(count)))


def insert_superseded(
    emulator: EmulatorProcess, companies: list, due: int, order: str, reached: int
) -> None:
    """``due`` superseded checkouts over ``companies``, in ``order``; the first ``reached`` of
    each account have sessions on the emulator."""
    from django.utils import timezone

    from tests.support.bulk import insert_open_checkouts
    from tests.support.factories import make_checkout, make_payable

    per_account = due // len(companies)
    current = make_checkout(make_payable(companies[0], "current"))
    start = timezone.now() - timedelta(days=1)
    for position, company in enumerate(companies):
        account = company.stripe_settings.connected_account_id
        clustered = order == "clustered"
        insert_open_checkouts(
            company_id=company.pk,
            account=account,
            count=per_account,
            prefix=f"{order}-",
            start=start,
            lifetime=timedelta(days=2),
            stride=1 if clustered else len(companies),
            offset=position * per_account if clustered else position,
            superseded_by=current.pk,
            session_ids=make_sessions(emulator, account, min(reached, per_account)),
        )
    sql("VACUUM ANALYZE checkouts_checkout")


def claim_size(rate: float, companies: list) -> int:
    """How many checkouts a run claims for one account at a time."""
    from django.utils import timezone

    from checkouts.expiry import ExpiryRun

    return ExpiryRun(now=timezone.now(), calls_per_second=rate).claim_size(len(companies))


def expire_calls(emulator: EmulatorProcess) -> list[dict]:
    requests = emulator.control("GET", "requests")["data"]
    return [r for r in requests if r["method"] == "POST" and EXPIRE_PATH.fullmatch(r["path"])]


def busiest_account_second(calls: list[dict]) -> int:
    """The most calls any one account got in one second of the clock."""
    return max(Counter((r["stripe_account"], int(r["received_at"])) for r in calls).values())


def run_in_process(args) -> dict:
    from django.utils import timezone

    from checkouts.expiry import ExpiryRun, expire_due_checkouts

    run = ExpiryRun(now=timezone.now(), calls_per_second=args.rate, limit=args.calls)
    started, cpu = time.perf_counter(), time.process_time()
    report = expire_due_checkouts(run)
    return {
        "elapsed": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "summary": report.summary(),
    }


def run_on_hosts(args, emulator: EmulatorProcess) -> dict:
    """``--hosts`` processes of manage.py expire_checkouts at once, as cron on as many hosts."""
    environment = {
        **os.environ,
        "STRIPE_API_BASE": emulator.url,
        "STRIPE_SECRET_KEY": "sk_test_benchmark",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
    }
    command = [sys.executable, "manage.py", "expire_checkouts", "--rate", str(args.rate)]
    command += ["--limit", str(args.calls // args.hosts)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    hosts = [
        subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True)
        for _ in range(args.hosts)
    ]
    summaries = [host.communicate()[0].strip() for host in hosts]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"elapsed": time.perf_counter() - started, "cpu": cpu, "summary": " | ".join(summaries)}


def throughput(args, emulator: EmulatorProcess, companies: list, order: str) -> None:
    start_afresh(emulator)
    reached = math.ceil(args.calls / len(companies)) + claim_size(args.rate, companies)
    insert_superseded(emulator, companies, args.due, order, reached)
    emulator.control("POST", "latency", {"seconds": args.latency})
    emulator_cpu = emulator.cpu_seconds()
    load = os.getloadavg()[0]
    result = run_on_hosts(args, emulator) if args.hosts > 1 else run_in_process(args)
    emulator_cpu = emulator.cpu_seconds() - emulator_cpu
    calls = expire_calls(emulator)
    seen = sorted(r["received_at"] for r in calls)
    as_stripe_saw = (len(seen) - 1) / (seen[-1] - seen[0])
    ideal = args.rate * len(companies)
    print(
        f"{order:<12} {as_stripe_saw:7.1f} calls/s = {as_stripe_saw / ideal:4.2f} x "
        f"rate x accounts ({ideal:.0f}); {len(calls) / result['elapsed']:6.1f}/s end to end; "
        f"busiest account-second {busiest_account_second(calls)}; CPU/call: service "
        f"{1000 * result['cpu'] / len(calls):.1f} ms, emulator "
        f"{1000 * emulator_cpu / len(calls):.1f} ms; load {load:.1f}; ({result['summary']})"
    )


def median_ms(action, repeat: int = 15) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def rolled_back(action):
    from django.db import transaction

    def run() -> None:
        with transaction.atomic():
            action()
            transaction.set_rollback(True)

    return run


def pages_read(action) -> int:
    """Buffers PostgreSQL touched for the SELECTs ``action`` ran (EXPLAIN ANALYZE, BUFFERS,
    rolled back): a cost the machine's load does not blur."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        rolled_back(action)()
    selects = [query["sql"] for query in queries if query["sql"].startswith("SELECT")]
    pages = 0

    def explain_each() -> None:
        nonlocal pages
        with connection.cursor() as cursor:
            for select in selects:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {select}")
                plan = cursor.fetchone()[0][0]["Plan"]
                pages += plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]

    rolled_back(explain_each)()
    return pages


def claim_from_the_start(run, company) -> int:
    """A first claim of 20 of ``company``'s due checkouts, as a run makes it."""
    from checkouts.expiry_queues import AccountQueue

    account = company.stripe_settings.connected_account_id
    return AccountQueue(run, company.pk, account).claim(20)


def claim_costs(companies: list, sizes: list[int]) -> None:
    """Claims with ``sizes`` due checkouts; each account's are of one kind, in turn."""
    from django.utils import timezone

    from checkouts.expiry import ExpiryRun
    from checkouts.expiry_queues import accounts_with_due, checkouts_due
    from tests.support.bulk import insert_open_checkouts
    from tests.support.factories import make_checkout, make_payable

    sql("TRUNCATE checkouts_checkout, checkouts_payable CASCADE")
    now = timezone.now()
    current = make_checkout(make_payable(companies[0], "current"))
    # Made 3 hours ago: superseded; open, past expires_at; open, older than an hour.
    shapes = [
        (current.pk, timedelta(hours=4)),
        (None, timedelta(hours=2)),
        (None, timedelta(hours=4)),
    ]
    run = ExpiryRun(now=now, older_than=timedelta(hours=1))

    def claim_as_before() -> list:
        due = checkouts_due(run).select_for_update(skip_locked=True, of=("self",))
        return list(due.values_list("pk", flat=True)[:100])

    kinds = "  ".join(f"{kind:>24}" for kind in KINDS)
    print(f"claim     {'due':>9}  {kinds}  {'one query, before':>24}  finding accounts")
    inserted = 0
    for size in sizes:
        per_account = (size - inserted) // len(companies)
        for position, company in enumerate(companies):
            superseded_by, lifetime = shapes[position % 3]
            insert_open_checkouts(
                company_id=company.pk,
                account=company.stripe_settings.connected_account_id,
                count=per_account,
                prefix=f"{size}-",
                start=now - timedelta(hours=3),
                lifetime=lifetime,
                superseded_by=superseded_by,
            )
        inserted = size
        sql("VACUUM ANALYZE checkouts_checkout")
        claims = [partial(claim_from_the_start, run, company) for company in companies[:3]]
        # Pages first: the timed claims, rolled back, leave dead row versions behind.
        pages = [pages_read(claim) for claim in [*claims, claim_as_before]]
        costs = [
            f"{median_ms(rolled_back(claim)):7.2f} ms {read:6} pages"
            for claim, read in zip([*claims, claim_as_before], pages, strict=True)
        ]
        finding = median_ms(lambda: accounts_with_due(run), 5)
        print(f"          {size:>9}  {'  '.join(costs)}  {finding:13.1f} ms")


def memory(emulator: EmulatorProcess, companies: list, runs: list[int]) -> None:
    from django.utils import timezone

    from checkouts.expiry import ExpiryRun, expire_due_checkouts

    start_afresh(emulator)
    reached = sum(runs) // len(companies) + claim_size(10_000, companies)
    insert_superseded(emulator, companies, 100_000, "clustered", reached)
    for calls in runs:
        tracemalloc.start()
        report = expire_due_checkouts(
            ExpiryRun(now=timezone.now(), calls_per_second=10_000, limit=calls)
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{calls:>5} ended: peak {peak / 1024:6.0f} KiB ({report.summary()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--rate", type=float, default=20.0, help="Stripe calls/s per account.")
    parser.add_argument("--latency", type=float, default=0.3, help="Seconds Stripe takes.")
    parser.add_argument("--calls", type=int, default=6000, help="Calls each run makes.")
    parser.add_argument("--hosts", type=int, default=1, help="Processes at once (REDIS_URL).")
    parser.add_argument("--claim-sizes", type=int, nargs="*", default=[1000, 100_000])
    parser.add_argument("--orders", nargs="*", default=["clustered", "interleaved"])
    parser.add_argument("--memory-runs", type=int, nargs="*", default=[1000, 4000])
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL database (its server gets a throwaway one)")
    if args.hosts > 1 and not os.environ.get("REDIS_URL"):
        parser.error("--hosts share the rate only through Redis: set REDIS_URL")
    maintenance, url = throwaway_database(base_url)
    name = urlsplit(url).path.lstrip("/")
    execute_autocommit(maintenance, f'CREATE DATABASE "{name}"')
    try:
        configure_django(url)
        from django.test.utils import override_settings

        with (
            EmulatorProcess() as emulator,
            override_settings(
                STRIPE_API_BASE=emulator.url,
                STRIPE_SECRET_KEY="sk_test_benchmark",
                STRIPE_MAX_NETWORK_RETRIES=0,
            ),
        ):
            companies = make_companies(args.accounts)
            print(
                f"{args.due} due over {args.accounts} accounts at {args.rate:g} calls/s each, "
                f"Stripe answering in {args.latency:g} s, {args.hosts} host(s), "
                f"{os.cpu_count()} cores"
            )
            for order in args.orders:
                throughput(args, emulator, companies, order)
            if args.claim_sizes:
                claim_costs(companies, args.claim_sizes)
            if args.memory_runs:
                memory(emulator, companies, args.memory_runs)
    finally:
        from django.db import connections

        connections.close_all()
        execute_autocommit(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
