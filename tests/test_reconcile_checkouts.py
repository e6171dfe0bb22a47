"""manage.py reconcile_checkouts: what the service missed on Stripe is found and put right."""

import io
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from checkouts.models import Checkout, CheckoutStatus, Payable, PaymentStatus
from checkouts.reconcile import ReconcileOutcome, ReconcileRun, reconcile_checkouts
from tests.support.api import CREATE_SESSION, EXPIRE_SESSION
from tests.support.concurrency import GATE_TIMEOUT
from tests.support.database import database_url
from tests.support.factories import DEFAULT_ACCOUNT, make_company
from tests.support.servers import ROOT
from tests.support.stripe_sdk import hosted_params, make_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_grace(settings):
    """No create is in flight in these tests, so an unknown session is fair game at once."""
    settings.UNRECORDED_SESSION_GRACE = timedelta(0)


def reconcile(*args: str) -> str:
    out = io.StringIO()
    call_command("reconcile_checkouts", "--since", "2h", *args, stdout=out)
    return out.getvalue()


def stored(response) -> Checkout:
    assert response.status_code == 200, response.content
    return Checkout.objects.get(stripe_session_id=response.json()["SessionId"])


def test_a_payment_whose_webhook_never_came_is_recorded(create_checkout, stripe_emulator):
    checkout = stored(create_checkout())
    stripe_emulator.complete_session(checkout.stripe_session_id, customer_email="kund@example.se")

    summary = reconcile()

    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status) == ("complete", "paid")
    assert checkout.customer_email == "kund@example.se"
    assert Payable.objects.get().paid_checkout == checkout
    assert "recorded 1" in summary


def test_a_session_expired_on_stripe_is_recorded_as_expired(create_checkout, stripe_emulator):
    checkout = stored(create_checkout())
    stripe_emulator.set_time(checkout.expires_at.timestamp() + 1)

    reconcile()

    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.EXPIRED


def test_a_session_whose_create_answer_was_lost_is_ended(create_checkout, stripe_emulator):
    # Stripe makes the session, then every answer (the SDK's retry's too) is lost.
    stripe_emulator.inject_fault(
        "drop", method="POST", path=CREATE_SESSION, after_work=True, times=None
    )
    assert create_checkout().status_code == 503
    stripe_emulator.clear_faults()
    (lost,) = stripe_emulator.sessions_on(DEFAULT_ACCOUNT)
    assert lost["status"] == "open"

    summary = reconcile()

    assert stripe_emulator.session(lost["id"])["status"] == "expired"
    assert Checkout.objects.count() == 0
    assert "ended unknown 1" in summary


def test_an_unknown_session_younger_than_the_grace_is_left_alone(
    create_checkout, stripe_emulator, settings
):
    settings.UNRECORDED_SESSION_GRACE = timedelta(minutes=2)
    stripe_emulator.inject_fault(
        "drop", method="POST", path=CREATE_SESSION, after_work=True, times=None
    )
    create_checkout()
    stripe_emulator.clear_faults()

    reconcile()

    (young,) = stripe_emulator.sessions_on(DEFAULT_ACCOUNT)
    assert young["status"] == "open"
    assert stripe_emulator.requests_to("POST", EXPIRE_SESSION) == []


def test_sessions_the_company_made_elsewhere_are_not_touched(company, stripe_emulator):
    theirs = make_client(stripe_emulator).v1.checkout.sessions.create(
        params=hosted_params(metadata={"order": "webshop-7"}),
        options={"stripe_account": DEFAULT_ACCOUNT},
    )

    reconcile()

    assert stripe_emulator.session(theirs.id)["status"] == "open"
    assert stripe_emulator.requests_to("POST", EXPIRE_SESSION) == []


def test_a_dry_run_changes_nothing(create_checkout, stripe_emulator):
    checkout = stored(create_checkout())
    stripe_emulator.complete_session(checkout.stripe_session_id)

    summary = reconcile("--dry-run")

    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.OPEN
    assert "recorded 1" in summary
    assert "dry run" in summary


def test_an_account_another_run_holds_is_skipped(create_checkout, stripe_emulator):
    checkout = stored(create_checkout())
    stripe_emulator.complete_session(checkout.stripe_session_id)
    cache.add(f"reconcile-checkouts:{DEFAULT_ACCOUNT}", "another run", 60)
    try:
        summary = reconcile()
    finally:
        cache.delete(f"reconcile-checkouts:{DEFAULT_ACCOUNT}")

    checkout.refresh_from_db()
    assert checkout.payment_status == PaymentStatus.UNPAID
    assert summary.startswith("0 account(s)")


def test_stripe_failing_to_list_is_reported_and_exits_non_zero(create_checkout, stripe_emulator):
    stored(create_checkout())
    stripe_emulator.inject_fault("error", method="GET", path=CREATE_SESSION, times=None)

    with pytest.raises(CommandError) as failure:
        reconcile()

    assert failure.value.returncode == 1


def test_the_list_is_read_a_page_at_a_time(create_checkout, stripe_emulator):
    for number in range(5):
        checkout = stored(create_checkout(InternalReferenceId=f"booking-{number}"))
        stripe_emulator.complete_session(checkout.stripe_session_id)
    now = timezone.now()
    run = ReconcileRun(now=now, since=now - timedelta(hours=1), grace=timedelta(0), page_size=2)

    report = reconcile_checkouts(run)

    pages = stripe_emulator.requests_to("GET", CREATE_SESSION)
    assert [request.params.get("starting_after") is None for request in pages] == [
        True,
        False,
        False,
    ]
    assert report.counts[ReconcileOutcome.RECORDED] == 5
    assert Checkout.objects.filter(payment_status=PaymentStatus.PAID).count() == 5


NEEDS_THE_POOL = "needs PostgreSQL: the pool is psycopg's, configured for PostgreSQL only"
LIST_SESSIONS = r"^/v1/checkout/sessions$"


@pytest.mark.postgres(reason=NEEDS_THE_POOL)
def test_in_its_own_process_accounts_waiting_on_stripe_leave_the_pool_to_the_others(
    stripe_emulator,
):
    for number in range(4):
        make_company(name=f"Salong {number}", account=f"acct_1Salong{number}")
    # Two accounts' listings wait at the gate, and the two others must still get the pool's
    # one connection, which the main thread also used to list the accounts.
    gate = stripe_emulator.inject_fault(
        "pass_through", method="GET", path=LIST_SESSIONS, hold=True, times=2
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bokacheckout.settings",
        "DJANGO_SECRET_KEY": "reconcile-checkouts-test",
        "DATABASE_URL": database_url(),
        "DATABASE_POOL_MAX_SIZE": "1",
        "DATABASE_POOL_TIMEOUT_SECONDS": "1",
        "STRIPE_API_BASE": stripe_emulator.url,
        "STRIPE_SECRET_KEY": "sk_test_emulator",
    }
    command = [sys.executable, "manage.py", "reconcile_checkouts", "--since", "2h"]
    with subprocess.Popen(
        [*command, "--concurrency", "4"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as reconciling:
        try:
            gate.wait_until_held(GATE_TIMEOUT, count=2)
            # The other two accounts list their sessions, then their refunds.
            stripe_emulator.wait_for_requests(6, timeout=GATE_TIMEOUT)
        finally:
            gate.release()
        output, errors = reconciling.communicate(timeout=60)

    assert reconciling.returncode == 0, errors
    assert output.startswith("4 account(s): "), output
