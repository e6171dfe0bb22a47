"""expire_checkouts across connected accounts: each gets its rate whatever the order of the due
rows, claims read their index in order, and runs at once never end a session twice."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Company
from checkouts.expiry import ExpiryRun, expire_due_checkouts
from checkouts.expiry_queues import AccountQueue
from checkouts.models import Checkout, CheckoutStatus, StripeExpiry
from checkouts.rate_limit import AccountRateLimiter
from tests.support.api import EXPIRE_SESSION
from tests.support.bulk import insert_open_checkouts
from tests.support.clock import START, FakeClock, forget_rate_limit_slots
from tests.support.concurrency import GATE_TIMEOUT, in_a_thread
from tests.support.factories import build_checkout, make_checkout, make_company, make_payable
from tests.support.stripe_sdk import create_hosted, make_client

pytestmark = pytest.mark.django_db(transaction=True)

# So fast that no call waits for its slot.
UNLIMITED = 1_000_000.0


@pytest.fixture
def companies(stripe_emulator):
    """``companies(n)``: n companies, on the connected accounts acct_1 to acct_n."""
    forget_rate_limit_slots()
    return lambda count: [
        make_company(name=f"Salong {n}", account=f"acct_{n}") for n in range(1, count + 1)
    ]


def superseded(emulator, company: Company, count: int, *, created_at: datetime) -> list:
    """``count`` superseded checkouts of ``company`` whose sessions are still open on Stripe."""
    account = company.stripe_settings.connected_account_id
    client = make_client(emulator)
    payable = make_payable(company)
    current = make_checkout(payable)
    rows = Checkout.objects.bulk_create(
        build_checkout(
            payable,
            stripe_session_id=create_hosted(client, account).id,
            superseded_by=current,
            superseded_at=timezone.now(),
            stripe_expiry=StripeExpiry.PENDING,
        )
        for _ in range(count)
    )
    Checkout.objects.filter(pk__in=[row.pk for row in rows]).update(created_at=created_at)
    return rows


def clustered(emulator, companies: list[Company], per_account: int) -> None:
    """Every account's due checkouts older than the next account's."""
    oldest = timezone.now() - timedelta(days=1)
    for position, company in enumerate(companies):
        superseded(emulator, company, per_account, created_at=oldest + timedelta(hours=position))


def accounts_called(emulator) -> list[str]:
    return [request.stripe_account for request in emulator.requests_to("POST", EXPIRE_SESSION)]


def test_rows_clustered_by_account_are_sent_round_robin(companies, stripe_emulator):
    clustered(stripe_emulator, companies(3), per_account=4)

    report = expire_due_checkouts(
        ExpiryRun(now=timezone.now(), concurrency=1, calls_per_second=UNLIMITED)
    )

    called = accounts_called(stripe_emulator)
    assert sorted(called[:3]) == ["acct_1", "acct_2", "acct_3"]
    assert called == called[:3] * 4
    assert report.summary() == "expired 12, already complete 0, already expired 0, failed 0"


def test_while_one_account_waits_for_its_slot_the_others_calls_go_out(companies, stripe_emulator):
    clustered(stripe_emulator, companies(2), per_account=4)
    clock = FakeClock()
    sent = []

    expire_due_checkouts(
        ExpiryRun(now=timezone.now(), concurrency=1, calls_per_second=2),
        limiter=AccountRateLimiter(2, clock=clock, sleep=clock.sleep),
        on_result=lambda checkout, _: sent.append((checkout.connected_account_id, clock.now)),
    )

    # Two accounts at 2 calls/s each: 8 calls in 1.5 s. One account after the other,
    # they would take 3.5 s.
    every_half_second = [0, Fraction(1, 2), 1, Fraction(3, 2)]
    for account in ["acct_1", "acct_2"]:
        assert [at - START for to, at in sent if to == account] == every_half_second


def test_every_due_checkout_of_every_account_and_kind_ends(companies, stripe_emulator):
    every_company = companies(3)
    clustered(stripe_emulator, every_company, per_account=5)
    client = make_client(stripe_emulator)
    past_expires_at = [
        make_checkout(
            make_payable(company, "booking-late"),
            stripe_session_id=create_hosted(
                client, company.stripe_settings.connected_account_id
            ).id,
            expires_at=timezone.now() - timedelta(seconds=1),
        )
        for company in every_company
    ]

    report = expire_due_checkouts(ExpiryRun(now=timezone.now(), calls_per_second=UNLIMITED))

    assert report.summary() == "expired 18, already complete 0, already expired 0, failed 0"
    assert Counter(accounts_called(stripe_emulator)) == {"acct_1": 6, "acct_2": 6, "acct_3": 6}
    assert not Checkout.objects.filter(stripe_expiry=StripeExpiry.PENDING).exists()
    for checkout in past_expires_at:
        checkout.refresh_from_db()
        assert checkout.status == CheckoutStatus.EXPIRED


def test_a_limit_counts_the_checkouts_of_every_account(companies, stripe_emulator):
    clustered(stripe_emulator, companies(3), per_account=4)

    report = expire_due_checkouts(
        ExpiryRun(now=timezone.now(), calls_per_second=UNLIMITED, batch_size=2, limit=5)
    )

    assert report.total == 5
    assert Checkout.objects.filter(stripe_expiry=StripeExpiry.PENDING).count() == 7


def test_no_more_checkouts_are_claimed_at_once_than_the_batch_size(companies, stripe_emulator):
    clustered(stripe_emulator, companies(3), per_account=4)
    claimed_at_each_result = []

    def count_claimed(*_):
        claimed = Checkout.objects.filter(expiry_lease_until__isnull=False).count()
        claimed_at_each_result.append(claimed)

    expire_due_checkouts(
        ExpiryRun(now=timezone.now(), calls_per_second=UNLIMITED, batch_size=5),
        on_result=count_claimed,
    )

    assert len(claimed_at_each_result) == 12
    assert max(claimed_at_each_result) <= 5


def test_a_claim_is_one_select_and_one_update_of_the_lease(companies, stripe_emulator):
    (company,) = companies(1)
    clustered(stripe_emulator, [company], per_account=3)
    queue = AccountQueue(ExpiryRun(now=timezone.now()), company.pk, "acct_1")

    with CaptureQueriesContext(connection) as queries:
        claimed = queue.claim(2)

    verbs = [query["sql"].split()[0] for query in queries]
    assert (claimed, len(queue.rows)) == (2, 2)
    assert [verb for verb in verbs if verb in ("SELECT", "INSERT", "UPDATE", "DELETE")] == [
        "SELECT",
        "UPDATE",
    ]
    assert Checkout.objects.filter(expiry_lease_until__isnull=False).count() == 2


@pytest.mark.parametrize("superseded_too", [True, False], ids=["superseded", "not superseded"])
def test_a_checkout_due_several_ways_is_tried_once_a_run_even_when_it_fails(
    companies, stripe_emulator, settings, superseded_too
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    (company,) = companies(1)
    long_ago = timezone.now() - timedelta(days=1)
    if superseded_too:
        (checkout,) = superseded(stripe_emulator, company, 1, created_at=long_ago)
    else:
        session = create_hosted(make_client(stripe_emulator), "acct_1")
        checkout = make_checkout(
            make_payable(company), stripe_session_id=session.id, created_at=long_ago
        )
    # Past its expires_at, and older than asked, too.
    Checkout.objects.filter(pk=checkout.pk).update(expires_at=long_ago)
    stripe_emulator.inject_fault("error", method="POST", path=EXPIRE_SESSION, times=None)

    report = expire_due_checkouts(
        ExpiryRun(now=timezone.now(), calls_per_second=UNLIMITED, older_than=timedelta(hours=1))
    )

    assert report.summary() == "expired 0, already complete 0, already expired 0, failed 1"
    assert accounts_called(stripe_emulator) == ["acct_1"]


def test_a_run_tries_each_failing_checkout_once_then_ends(companies, stripe_emulator, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    (company,) = companies(1)
    clustered(stripe_emulator, [company], per_account=3)
    stripe_emulator.inject_fault("error", method="POST", path=EXPIRE_SESSION, times=None)

    # One at a time: each claim comes after the last failure was recorded. The limit
    # only stops a run that would go round and round.
    report = expire_due_checkouts(
        ExpiryRun(now=timezone.now(), calls_per_second=UNLIMITED, batch_size=1, limit=10)
    )

    calls = stripe_emulator.requests_to("POST", EXPIRE_SESSION)
    assert report.summary() == "expired 0, already complete 0, already expired 0, failed 3"
    assert len({request.path for request in calls}) == len(calls) == 3


@pytest.mark.postgres
def test_runs_at_once_on_several_accounts_never_end_a_session_twice(companies, stripe_emulator):
    clustered(stripe_emulator, companies(3), per_account=6)
    run = ExpiryRun(now=timezone.now(), calls_per_second=UNLIMITED, batch_size=4)
    # The first calls wait inside Stripe, so that runs claim while others hold leases.
    gate = stripe_emulator.inject_fault(
        "pass_through", method="POST", path=EXPIRE_SESSION, hold=True, times=3
    )

    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = [in_a_thread(pool, expire_due_checkouts, run) for _ in range(3)]
        gate.wait_until_held(timeout=GATE_TIMEOUT, count=3)
        gate.release()
        reports = [running.result() for running in runs]

    calls = stripe_emulator.requests_to("POST", EXPIRE_SESSION)
    assert sum(report.total for report in reports) == 18
    assert Counter(request.path for request in calls).most_common(1)[0][1] == 1
    assert len(calls) == 18


@pytest.mark.postgres
def test_a_claim_skips_the_rows_another_claim_has_locked(companies, stripe_emulator):
    (company,) = companies(1)
    clustered(stripe_emulator, [company], per_account=3)
    holding, release = threading.Event(), threading.Event()

    def another_run_mid_claim():
        with transaction.atomic():
            list(Checkout.objects.select_for_update().filter(stripe_expiry=StripeExpiry.PENDING))
            holding.set()
            release.wait(GATE_TIMEOUT)

    with ThreadPoolExecutor(max_workers=1) as pool:
        other = in_a_thread(pool, another_run_mid_claim)
        assert holding.wait(GATE_TIMEOUT)
        try:
            with connection.cursor() as cursor:
                # Without SKIP LOCKED the claim would wait; make that an error, not a hang.
                cursor.execute("SET lock_timeout = '5s'")
            report = expire_due_checkouts(ExpiryRun(now=timezone.now()))
        finally:
            release.set()
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        other.result()

    assert report.total == 0
    assert accounts_called(stripe_emulator) == []


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


# Open checkouts made 3 hours ago, superseded or not, by how long they were to live.
KINDS = {
    "superseded": ("checkout_expiry_pending", True, timedelta(hours=4)),
    "past expires_at": ("checkout_open_by_expires_at", False, timedelta(hours=2)),
    "older than asked": ("checkout_open_by_created_at", False, timedelta(hours=4)),
}


@pytest.mark.postgres
@pytest.mark.parametrize("kind", KINDS)
def test_a_claim_reads_its_index_in_order_and_sorts_nothing(kind):
    index, is_superseded, lifetime = KINDS[kind]
    now = timezone.now()
    every_company = [make_company(name=f"Salong {n}", account=f"acct_{n}") for n in range(4)]
    current = make_checkout(make_payable(every_company[0], "current"))
    for number, company in enumerate(every_company):
        for made, lives in [(now - timedelta(hours=3), lifetime), (now, timedelta(hours=1))]:
            insert_open_checkouts(
                company_id=company.pk,
                account=f"acct_{number}",
                count=2000,
                prefix=f"{made.timestamp()}-",
                start=made,
                lifetime=lives,
                superseded_by=current.pk if is_superseded else None,
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE checkouts_checkout")
    queue = AccountQueue(
        ExpiryRun(now=now, older_than=timedelta(hours=1)), every_company[1].pk, "acct_1"
    )

    with CaptureQueriesContext(connection) as queries:
        assert queue.claim(20) == 20

    # Kinds before it found nothing; the last select is the one that claimed.
    claim = [query["sql"] for query in queries if query["sql"].startswith("SELECT")][-1]
    plan = explain(claim)
    assert f"Index Scan using {index}" in plan
    assert "Sort" not in plan
