"""Benchmark: the work of one create, and how soon the worker ends what it superseded.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bokacheckout_bench \\
        .venv/bin/python benchmarks/work_per_create.py [--creates 20] [--stripe-latency 0.3]

Every create goes through the real endpoint (Django's test client with an API key) with
the production task backend, the database queue, to the Stripe emulator (in this
process, through the real SDK over HTTP). For 1, 10 and 100 articles and for 0, 1, 10 and
100 older sessions of the same booking, it prints the SQL statements one create runs,
transaction control aside, without and with an Idempotency-Key, and the Stripe calls the
emulator received before the response.

Then it starts one real ``manage.py db_worker``, polling as ``dev.py run`` and
docker-compose run it, and, for ``--creates`` bookings, creates a checkout and then a
second one: it prints the time from the second's response until the first's session is
expired on the emulator (median and slowest). Each booking waits a random part of a
second first, so the creates fall anywhere in the worker's polling cycle.
``--stripe-latency`` delays every Stripe call of that part.

Writes its company and checkouts into DATABASE_URL's database (use a scratch one), or
into a throwaway SQLite database when it is unset.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from payment_log import configure_django  # noqa: E402 - the benchmark next door

import dev  # noqa: E402
from tests.support.emulator import EMULATOR_SECRET_KEY  # noqa: E402

ARTICLE_COUNTS = (1, 10, 100)
OLDER_SESSION_COUNTS = (0, 1, 10, 100)
QUEUE_DRAIN_TIMEOUT = 120
EXPIRY_TIMEOUT = 30
POLL_SECONDS = 0.002


class Booking:
    """Creates checkouts through the API for one company, each for a reference."""

    def __init__(self, emulator, articles: int) -> None:
        from django.test import Client

        from tests.support.factories import make_api_key, make_article, make_company

        self.emulator = emulator
        self.company = make_company(
            name="Benchmark salon", account=f"acct_1Bench{uuid.uuid4().hex}"
        )
        for article_id in range(1, articles + 1):
            make_article(self.company, article_id=article_id, name=f"Treatment {article_id}")
        self.client = Client(headers={"X-Api-Key": make_api_key(self.company)})

    def create(self, reference: str, *, articles: int = 1, idempotency_key: str = "") -> str:
        from tests.support.api import CHECKOUT_URL, checkout_body

        body = checkout_body(
            self.company,
            InternalReferenceId=reference,
            Articles=[
                {"ArticleTypeId": 1, "ArticleId": article_id, "Quantity": 1}
                for article_id in range(1, articles + 1)
            ],
        )
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        response = self.client.post(
            CHECKOUT_URL, body, content_type="application/json", headers=headers, secure=True
        )
        assert response.status_code == 200, (response.status_code, response.content[:300])
        return response.json()["SessionId"]

    def measure(self, *, articles: int, older: int, with_key: bool):
        """The work of a create for a booking with ``older`` sessions before it."""
        from tests.support.work import measured_work

        reference = f"bench-{uuid.uuid4().hex}"
        for _ in range(older):
            self.create(reference)
        key = uuid.uuid4().hex if with_key else ""
        with measured_work(self.emulator) as work:
            self.create(reference, articles=articles, idempotency_key=key)
        return work


def print_work_per_create(booking: Booking) -> None:
    from django.db import connection

    print(
        f"Per create on {connection.vendor}, with the database queue: SQL statements "
        "(transaction control aside) without / with an Idempotency-Key, and Stripe calls "
        "before the response"
    )
    print(
        f"{'older sessions':<16}"
        + "".join(f"{f'{n} article' + 's' * (n > 1):>26}" for n in ARTICLE_COUNTS)
    )
    for older in OLDER_SESSION_COUNTS:
        cells = []
        for articles in ARTICLE_COUNTS:
            plain = booking.measure(articles=articles, older=older, with_key=False)
            keyed = booking.measure(articles=articles, older=older, with_key=True)
            calls = f"{len(plain.stripe_calls)} / {len(keyed.stripe_calls)}"
            cells.append(f"{len(plain.statements)} / {len(keyed.statements)} SQL, {calls} Stripe")
        print(f"{older:<16}" + "".join(f"{cell:>26}" for cell in cells))


def start_worker(emulator) -> subprocess.Popen:
    from tests.support.worker import db_worker_command, worker_environment

    return subprocess.Popen(
        db_worker_command("--interval", dev.WORKER_POLL_SECONDS, "--verbosity", "0"),
        cwd=ROOT,
        env=worker_environment(stripe_api_base=emulator.url, stripe_secret_key=EMULATOR_SECRET_KEY),
        stdout=subprocess.DEVNULL,
    )


def wait_for(condition, timeout: float, what: str) -> None:
    waited = threading.Event()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        waited.wait(POLL_SECONDS)


def queue_is_empty() -> bool:
    from django_tasks_db.models import DBTaskResult

    return not DBTaskResult.objects.ready().exists()


def seconds_until_superseded_session_expires(booking: Booking, reference: str) -> float:
    superseded = booking.create(reference)
    booking.create(reference)
    answered = time.perf_counter()
    wait_for(
        lambda: booking.emulator.session(superseded)["status"] == "expired",
        EXPIRY_TIMEOUT,
        f"{superseded} still open {EXPIRY_TIMEOUT} s after the create",
    )
    return time.perf_counter() - answered


def print_time_to_expiry(booking: Booking, creates: int, stripe_latency: float) -> None:
    worker = start_worker(booking.emulator)
    try:
        # The counts above left their tasks queued: let the worker drain them first.
        wait_for(queue_is_empty, QUEUE_DRAIN_TIMEOUT, "the queue was not drained")
        booking.emulator.latency = stripe_latency
        pause = threading.Event()
        samples = []
        for _ in range(creates):
            pause.wait(random.random())  # noqa: S311 - a phase, not a secret
            samples.append(seconds_until_superseded_session_expires(booking, uuid.uuid4().hex))
    finally:
        worker.terminate()
        worker.wait()
    print(
        f"\nOne db_worker (--interval {dev.WORKER_POLL_SECONDS}), Stripe latency "
        f"{stripe_latency * 1000:.0f} ms: from a create's response until the session it "
        f"superseded is expired on Stripe, over {creates} creates: median "
        f"{statistics.median(samples):.2f} s, slowest {max(samples):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=20, help="Creates timed with the worker.")
    parser.add_argument(
        "--stripe-latency", type=float, default=0.0, help="Seconds added to each Stripe call."
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        configure_django(os.environ.get("DATABASE_URL") or f"sqlite:///{workdir}/bench.sqlite3")
        from django.test.utils import override_settings

        from stripe_emulator import StripeEmulator

        emulator = StripeEmulator().start()
        try:
            with override_settings(
                STRIPE_API_BASE=emulator.url,
                STRIPE_SECRET_KEY=EMULATOR_SECRET_KEY,
                TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
            ):
                booking = Booking(emulator, articles=max(ARTICLE_COUNTS))
                print_work_per_create(booking)
                print_time_to_expiry(booking, args.creates, args.stripe_latency)
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
