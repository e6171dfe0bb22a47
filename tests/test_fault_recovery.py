"""Stripe failing at every step of a day's traffic: after the cron job, nothing is lost.

Each case makes one kind of Stripe call fail one way, for the whole of the
traffic and the first cron run: creates, payments, webhooks and status checks
go on as they can. Stripe then recovers, and the cron job the README prescribes
runs again. Then, on every connected account:
- every session paid on Stripe is recorded as paid (no lost payment);
- every session open on Stripe is its payable's one current checkout here (no
  session the service doesn't know, none it superseded);
- no row is half-written, and nothing is left pending.
"""

import contextlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from checkouts.models import Checkout, CheckoutStatus, ClientIdempotencyKey, Payable, StripeExpiry
from tests.support.api import CREATE_SESSION, EXPIRE_SESSION, RETRIEVE_SESSION, STATUS_URL
from tests.support.factories import DEFAULT_ACCOUNT
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db(transaction=True)

LIST_SESSIONS = CREATE_SESSION  # GET on the same path
FAILURES = {
    "500": {"kind": "error", "status": 500},
    "429": {"kind": "error", "status": 429},
    "timeout": {"kind": "timeout", "seconds": 30},
    "dropped": {"kind": "drop"},
    "500 after the work": {"kind": "error", "status": 500, "after_work": True},
    "timeout after the work": {"kind": "timeout", "seconds": 30, "after_work": True},
    "dropped after the work": {"kind": "drop", "after_work": True},
}
# Reads do no work on Stripe, so failing after it is the same as failing before.
READ_FAILURES = ["500", "429", "timeout", "dropped"]
CASES = [
    *[("create", "POST", CREATE_SESSION, failure) for failure in FAILURES],
    *[("expiry", "POST", EXPIRE_SESSION, failure) for failure in FAILURES],
    *[("re-fetch", "GET", RETRIEVE_SESSION, failure) for failure in READ_FAILURES],
    *[("reconcile", "GET", LIST_SESSIONS, failure) for failure in READ_FAILURES],
]


@pytest.fixture(autouse=True)
def quick_failures(settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_RATE_LIMIT_BACKOFF_SECONDS = 0.001
    # No create is in flight when the cron job runs here.
    settings.UNRECORDED_SESSION_GRACE = timedelta(0)


def a_days_traffic(create_checkout, api, company, emulator) -> None:
    """Customers book, pay and come back; some webhooks are lost; any step may fail."""
    handed_out = {}
    for reference in ("booking-a", "booking-a", "booking-b", "booking-c"):
        response = create_checkout(InternalReferenceId=reference)
        if response.status_code == 200:
            handed_out[reference] = response.json()["SessionId"]
    for reference, delivers_webhook in (("booking-a", True), ("booking-b", False)):
        if reference not in handed_out:
            continue
        emulator.complete_session(handed_out[reference])
        event = emulator.wait_for_event("checkout.session.completed", handed_out[reference])
        if delivers_webhook:
            deliver(Client(), event)
    if "booking-c" in handed_out:
        api.post(
            STATUS_URL,
            {"CompanyId": str(company.id), "SessionId": handed_out["booking-c"]},
            format="json",
        )


def the_cron_job() -> None:
    """What the README prescribes every few minutes; a run may fail while Stripe does."""
    for command in (
        ("expire_checkouts", "--older-than", "90m"),
        ("reconcile_checkouts", "--since", "2h"),
    ):
        with contextlib.suppress(CommandError):
            call_command(*command, stdout=StringIO())


@pytest.mark.parametrize(
    ("method", "path", "failure"),
    [
        pytest.param(method, path, failure, id=f"{step}: {failure}")
        for step, method, path, failure in CASES
    ],
)
def test_after_the_cron_job_no_payment_is_lost_and_no_session_is_unknown(
    create_checkout, api, company, stripe_emulator, method, path, failure
):
    stripe_emulator.inject_fault(method=method, path=path, times=None, **FAILURES[failure])
    a_days_traffic(create_checkout, api, company, stripe_emulator)
    the_cron_job()

    stripe_emulator.clear_faults()
    the_cron_job()

    sessions = stripe_emulator.sessions_on(DEFAULT_ACCOUNT)
    for session in sessions:
        recorded = Checkout.objects.filter(stripe_session_id=session["id"]).first()
        if session["payment_status"] == "paid":
            assert recorded is not None, f"lost payment on {session['id']}"
            assert recorded.is_paid
            assert recorded.payable.paid_checkout_id is not None
        if session["status"] == "open":
            assert recorded is not None, f"open session {session['id']} unknown here"
            assert recorded.superseded_by_id is None
            assert recorded.payable.current_checkout_id == recorded.pk
    assert_no_half_written_rows()


def assert_no_half_written_rows() -> None:
    for checkout in Checkout.objects.all():
        assert checkout.lines, checkout
        assert checkout.amount_total == sum(line.amount_total for line in checkout.line_items)
        assert checkout.stripe_expiry != StripeExpiry.PENDING, checkout
        assert checkout.status != CheckoutStatus.OPEN or checkout.superseded_by_id is None
    for payable in Payable.objects.all():
        assert payable.current_checkout is not None, payable
    assert not ClientIdempotencyKey.objects.filter(checkout__isnull=True).exists()
