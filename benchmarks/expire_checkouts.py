"""Benchmark: how fast expire_checkouts ends due sessions, and that its memory stays flat.

    .venv/bin/python benchmarks/expire_checkouts.py [--sizes 500 2000] [--concurrency 8]

For each size it makes that many superseded checkouts whose expiry is pending
(sessions created on the Stripe emulator through the real SDK), runs
``expire_due_checkouts`` against the emulator, and prints the throughput and
the peak Python memory allocated during the run (tracemalloc). The emulator
runs in its own process so that only the service's memory is measured. Uses
a throwaway SQLite database unless DATABASE_URL is set.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure_django(workdir: str) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/benchmark.sqlite3")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bokacheckout.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class EmulatorProcess:
    """``python -m stripe_emulator`` on a free port, in a child process."""

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


def make_pending_checkouts(emulator, count: int, concurrency: int) -> None:
    import stripe
    from django.utils import timezone

    from checkouts.models import Checkout, StripeExpiry
    from tests.support.factories import build_checkout, make_checkout, make_company, make_payable

    client = stripe.StripeClient("sk_test_benchmark", base_addresses={"api": emulator.url})
    account = "acct_1Benchmark"
    expires_at = int(time.time()) + 3600

    def create_session(_):
        return client.v1.checkout.sessions.create(
            params={
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
                "expires_at": expires_at,
            },
            options={"stripe_account": account},
        ).id

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        session_ids = list(pool.map(create_session, range(count)))

    company = make_company(name=f"Benchmark {count}", account=account)
    payable = make_payable(company, f"bench-{count}")
    current = make_checkout(payable, stripe_session_id=f"cs_test_current_{count}")
    now = timezone.now()
    Checkout.objects.bulk_create(
        build_checkout(
            payable,
            stripe_session_id=session_id,
            superseded_by=current,
            superseded_at=now,
            stripe_expiry=StripeExpiry.PENDING,
        )
        for session_id in session_ids
    )


def run_once(emulator, count: int, concurrency: int) -> None:
    from django.utils import timezone

    from checkouts.expiry import ExpiryRun, expire_due_checkouts

    make_pending_checkouts(emulator, count, concurrency)
    run = ExpiryRun(now=timezone.now(), concurrency=concurrency, calls_per_second=10_000)
    tracemalloc.start()
    started = time.perf_counter()
    report = expire_due_checkouts(run)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{count:>7} due   {elapsed:7.2f} s   {report.total / elapsed:8.1f} sessions/s   "
        f"peak {peak / 1024:8.0f} KiB   ({report.summary()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        configure_django(workdir)
        from django.test.utils import override_settings

        with (
            EmulatorProcess() as emulator,
            override_settings(
                STRIPE_API_BASE=emulator.url,
                STRIPE_SECRET_KEY="sk_test_benchmark",
                STRIPE_MAX_NETWORK_RETRIES=0,
            ),
        ):
            print(f"expire_checkouts against the emulator, concurrency {args.concurrency}")
            for size in args.sizes:
                run_once(emulator, size, args.concurrency)


if __name__ == "__main__":
    main()
