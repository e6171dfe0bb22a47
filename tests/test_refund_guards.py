"""The refund guarantees, each tested where it can fail.

Refunds never add up to more than was paid, a refund recorded never goes back, and a
refund is made once however its answers arrive. Races are lined up with the emulator's
gates and held row locks, never with sleeps; those that need real row locks run on
PostgreSQL only.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from checkouts import refunds, stripe_gateway
from checkouts.models import Checkout, ClientIdempotencyKey, Refund, RefundSource, RefundStatus
from tests.support.api import CREATE_REFUND, REFUND_URL
from tests.support.concurrency import (
    GATE_TIMEOUT,
    backends_waiting_on_a_lock,
    in_a_thread,
    wait_until,
)
from tests.support.factories import make_paid_checkout, make_payable
from tests.support.webhooks import deliver

REFUNDS_LIST = r"^/v1/refunds$"


@pytest.fixture
def refund_request(api_key, company):
    """POST a refund of ``checkout``, from a client of its own (safe in a thread)."""

    def post(checkout: Checkout, **fields):
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=api_key)
        body = {"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id, **fields}
        return client.post(REFUND_URL, body, format="json")

    return post


def outcome(response) -> tuple[int, str | None]:
    body = response.json()
    return response.status_code, body.get("ResponseStatus", {}).get("ErrorCode")


def stripe_copies(checkout: Checkout) -> list[stripe_gateway.RefundSnapshot]:
    return list(
        stripe_gateway.list_refunds(
            account=checkout.connected_account_id, payment_intent_id=checkout.payment_intent_id
        )
    )


# --- never more than was paid ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_refunds_at_once_never_exceed_what_was_paid(
    paid_checkout, refund_request, stripe_emulator
):
    checkout = paid_checkout()

    with ThreadPoolExecutor(max_workers=2) as pool, transaction.atomic():
        # Both refunds queue on the checkout's row, which the test holds.
        Checkout.objects.select_for_update().get(pk=checkout.pk)
        answers = [in_a_thread(pool, refund_request, checkout, Amount=30000) for _ in range(2)]
        wait_until(lambda: backends_waiting_on_a_lock() == 2, "both refunds to wait")

    assert sorted(outcome(answer.result()) for answer in answers) == [
        (200, None),
        (400, "AmountExceedsRefundable"),
    ]
    assert len(stripe_emulator.requests_to("POST", CREATE_REFUND)) == 1
    assert Checkout.objects.get(pk=checkout.pk).amount_refunded == 30000


@pytest.mark.django_db(transaction=True)
def test_a_refund_waiting_on_stripe_holds_its_amount(
    paid_checkout, refund_request, stripe_emulator
):
    checkout = paid_checkout()
    gate = stripe_emulator.inject_fault(
        "pass_through", method="POST", path=CREATE_REFUND, hold=True
    )

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = in_a_thread(pool, refund_request, checkout, Amount=30000)
        gate.wait_until_held(GATE_TIMEOUT)
        second = refund_request(checkout, Amount=30000)
        gate.release()
        first = first.result()

    assert outcome(first) == (200, None)
    assert outcome(second) == (400, "AmountExceedsRefundable")
    assert len(stripe_emulator.requests_to("POST", CREATE_REFUND)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "breaking_write",
    [
        lambda checkout: Checkout.objects.filter(pk=checkout.pk).update(amount_refunded=45001),
        lambda checkout: Refund.objects.create(**refund_fields(checkout, amount=0)),
        lambda checkout: Refund.objects.create(**refund_fields(checkout, status="refunded")),
        lambda checkout: Refund.objects.create(
            **refund_fields(checkout, status=RefundStatus.SUCCEEDED, stripe_refund_id=None)
        ),
        lambda checkout: [
            Refund.objects.create(**refund_fields(checkout, stripe_refund_id="re_same"))
            for _ in range(2)
        ],
        lambda checkout: ClientIdempotencyKey.objects.create(
            company=checkout.company,
            key="both",
            checkout=checkout,
            refund=Refund.objects.create(**refund_fields(checkout)),
        ),
    ],
    ids=[
        "refunded-above-total",
        "refund-of-nothing",
        "status-unknown",
        "made-on-stripe-without-its-id",
        "one-stripe-refund-twice",
        "idempotency-key-made-two-things",
    ],
)
def test_the_database_refuses_refund_records_that_cannot_be(company, breaking_write):
    checkout = make_paid_checkout(make_payable(company), payment_intent_id="pi_1")

    with pytest.raises(IntegrityError), transaction.atomic():
        breaking_write(checkout)


def refund_fields(checkout: Checkout, **fields) -> dict:
    return {
        "checkout": checkout,
        "amount": 100,
        "currency": "SEK",
        "status": RefundStatus.SUCCEEDED,
        "stripe_refund_id": f"re_{uuid.uuid4().hex}",
        "source": RefundSource.STRIPE,
        **fields,
    }


# --- recorded facts never go back -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_refund_never_moves_back_to_an_older_view_of_it(
    paid_checkout, refund_request, stripe_emulator
):
    checkout = paid_checkout()
    stripe_emulator.refunds_start_pending(1)
    refund_id = refund_request(checkout, Amount=20000).json()["RefundId"]
    while_pending = stripe_copies(checkout)
    stripe_emulator.settle_refund(refund_id)
    refunds.refresh_refunds_from_stripe(checkout)
    while_succeeded = stripe_copies(checkout)
    stripe_emulator.fail_refund(refund_id)
    refunds.refresh_refunds_from_stripe(checkout)

    refunds.record_refunds(checkout, while_pending)
    refunds.record_refunds(checkout, while_succeeded)

    refund = Refund.objects.get()
    assert refund.status == RefundStatus.FAILED
    assert Checkout.objects.get(pk=checkout.pk).amount_refunded == 0


@pytest.mark.django_db(transaction=True)
def test_a_refusal_recorded_late_does_not_undo_a_refund_stripe_made(
    paid_checkout, refund_request, stripe_emulator
):
    checkout = paid_checkout()
    refund_request(checkout, Amount=100)
    refund = Refund.objects.get()

    refunds._record_refusal(refund, "An answer that came late.")

    refund.refresh_from_db()
    assert (refund.status, refund.error) == (RefundStatus.SUCCEEDED, "")


@pytest.mark.django_db(transaction=True)
def test_a_refund_of_another_payment_is_not_recorded_on_this_one(
    paid_checkout, refund_request, stripe_emulator
):
    first = paid_checkout(InternalReferenceId="booking-1")
    second = paid_checkout(InternalReferenceId="booking-2")
    refund_request(second, Amount=100)

    refunds.record_refunds(first, stripe_copies(second))

    assert not Refund.objects.filter(checkout=first).exists()
    assert Checkout.objects.get(pk=first.pk).amount_refunded == 0


# --- made once, however its answers arrive --------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_recording_one_dashboard_refund_at_once_store_it_once(
    paid_checkout, stripe_emulator
):
    checkout = paid_checkout()
    stripe_emulator.refund_from_dashboard(checkout.payment_intent_id, 15000)
    events = [
        stripe_emulator.wait_for_event("refund.created"),
        stripe_emulator.wait_for_event("charge.refunded"),
    ]
    # Both deliveries fetch the refunds from Stripe at once, then record them.
    gate = stripe_emulator.inject_fault(
        "pass_through", method="GET", path=REFUNDS_LIST, hold=True, times=2
    )

    with ThreadPoolExecutor(max_workers=2) as pool:
        deliveries = [in_a_thread(pool, deliver, Client(), event) for event in events]
        gate.wait_until_held(GATE_TIMEOUT, count=2)
        gate.release()
        outcomes = [delivery.result().json()["Outcome"] for delivery in deliveries]

    assert outcomes == ["processed", "processed"]
    assert Refund.objects.count() == 1
    assert Checkout.objects.get(pk=checkout.pk).amount_refunded == 15000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lost_refund_asked_again_by_two_at_once_is_asked_by_one(
    paid_checkout, refund_request, stripe_emulator, settings
):
    checkout = paid_checkout()
    stripe_emulator.inject_fault("drop", method="POST", path=CREATE_REFUND, times=None)
    assert outcome(refund_request(checkout, Amount=100)) == (503, "StripeUnavailable")
    stripe_emulator.clear_faults()
    settings.REFUND_IN_FLIGHT_GRACE = timedelta(seconds=30)
    Refund.objects.update(stripe_asked_at=timezone.now() - timedelta(minutes=1))
    lost = Refund.objects.get()

    with ThreadPoolExecutor(max_workers=2) as pool, transaction.atomic():
        Checkout.objects.select_for_update().get(pk=checkout.pk)
        asks = [in_a_thread(pool, refunds.ask_again, lost) for _ in range(2)]
        wait_until(lambda: backends_waiting_on_a_lock() == 2, "both to wait")

    results = [ask.result() for ask in asks]
    assert sorted(result is None for result in results) == [False, True]
    assert len(stripe_emulator.requests_to("GET", REFUNDS_LIST)) == 1
    assert len(stripe_emulator.refunds()) == 1
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
