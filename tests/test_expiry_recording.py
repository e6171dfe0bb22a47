"""Recording what ending sessions on Stripe taught, many outcomes in one transaction."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import transaction

from checkouts.expiry import record_outcomes
from checkouts.lifecycle import (
    ExpiryOutcome,
    ExpiryResult,
    end_session_on_stripe,
    record_expiry_results,
)
from checkouts.models import Checkout, CheckoutStatus, Payable, StripeExpiry
from tests.support.concurrency import GATE_TIMEOUT, in_a_thread

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ended_on_stripe(create_checkout):
    """``count`` checkouts of as many bookings, their sessions ended on Stripe: each with
    what the expire call answered, not recorded yet."""

    def make(count: int) -> list[tuple[Checkout, ExpiryResult]]:
        for number in range(count):
            assert create_checkout(InternalReferenceId=f"booking-{number}").status_code == 200
        return [
            (
                checkout,
                end_session_on_stripe(
                    account=checkout.connected_account_id, session_id=checkout.stripe_session_id
                ),
            )
            for checkout in Checkout.objects.order_by("payable__internal_reference_id")
        ]

    return make


def test_each_outcome_of_a_batch_gets_its_own_changes(ended_on_stripe):
    (expired, _), (failed, _) = outcomes = ended_on_stripe(2)
    outcomes[1] = (failed, ExpiryResult(ExpiryOutcome.FAILED, error="Stripe timed out"))
    expiry_before = failed.stripe_expiry

    record_expiry_results(outcomes)

    expired.refresh_from_db()
    failed.refresh_from_db()
    assert (expired.status, expired.stripe_expiry) == (CheckoutStatus.EXPIRED, StripeExpiry.EXPIRED)
    assert (expired.stripe_expiry_attempts, expired.stripe_expiry_error) == (1, "")
    assert expired.url == ""
    assert (failed.status, failed.stripe_expiry) == (CheckoutStatus.OPEN, expiry_before)
    assert (failed.stripe_expiry_attempts, failed.stripe_expiry_error) == (1, "Stripe timed out")
    assert failed.url.startswith("http")


@pytest.mark.postgres
def test_a_row_whose_payable_is_locked_elsewhere_fails_alone(ended_on_stripe, settings):
    settings.ROW_LOCK_TIMEOUT_MS = 200
    outcomes = ended_on_stripe(3)
    locked_out = outcomes[1][0]
    locked, release = threading.Event(), threading.Event()

    def hold_the_payable() -> None:
        with transaction.atomic():
            Payable.objects.select_for_update().get(pk=locked_out.payable_id)
            locked.set()
            release.wait(GATE_TIMEOUT)

    with ThreadPoolExecutor(1) as pool:
        holder = in_a_thread(pool, hold_the_payable)
        assert locked.wait(GATE_TIMEOUT)
        try:
            recorded = record_outcomes(outcomes)
        finally:
            release.set()
        holder.result()

    assert [result.outcome for _, result in recorded] == [
        ExpiryOutcome.EXPIRED,
        ExpiryOutcome.FAILED,
        ExpiryOutcome.EXPIRED,
    ]
    assert "lock timeout" in recorded[1][1].error
    stripe_expiry = dict(Checkout.objects.values_list("pk", "stripe_expiry"))
    assert stripe_expiry == {
        outcomes[0][0].pk: StripeExpiry.EXPIRED,
        locked_out.pk: locked_out.stripe_expiry,
        outcomes[2][0].pk: StripeExpiry.EXPIRED,
    }
