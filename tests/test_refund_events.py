"""Refunds Stripe tells of: made in the Dashboard, pending and settling, failing later.

The webhook receives charge.refunded, refund.created, refund.updated and refund.failed,
fetches the payment's refunds again from Stripe, and records them.
"""

import pytest
from django.test import Client

from checkouts.models import ProcessedStripeEvent, Refund, RefundSource, RefundStatus
from tests.support.api import PAYMENTS_URL, REFUND_URL, STATUS_URL
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db(transaction=True)

REFUND_EVENTS = ("refund.created", "charge.refunded", "refund.updated", "refund.failed")


def deliver_refund_events(emulator, already: int = 0) -> list[str]:
    """Deliver every refund event emitted after the first ``already``; their outcomes."""
    events = [event for event in emulator.events if event["type"] in REFUND_EVENTS]
    return [deliver(Client(), event).json()["Outcome"] for event in events[already:]]


def refund_events_so_far(emulator) -> int:
    return len([event for event in emulator.events if event["type"] in REFUND_EVENTS])


def status_of(api, company, checkout) -> dict:
    body = {"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id}
    return api.post(STATUS_URL, body, format="json").json()


def payment_log_row(api, company, checkout) -> dict:
    response = api.get(PAYMENTS_URL, {"CompanyId": str(company.id)})
    (row,) = [
        row for row in response.json()["Results"] if row["SessionId"] == checkout.stripe_session_id
    ]
    return row


def refund(api, company, checkout, **fields):
    body = {"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id, **fields}
    return api.post(REFUND_URL, body, format="json")


def test_a_refund_made_in_the_dashboard_appears_in_the_status_and_the_payment_log(
    paid_checkout, stripe_emulator, api, company
):
    checkout = paid_checkout()

    made = stripe_emulator.refund_from_dashboard(checkout.payment_intent_id, 15000)
    outcomes = deliver_refund_events(stripe_emulator)

    assert outcomes == ["processed", "processed"]
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.amount, refund.status, refund.source) == (
        made["id"],
        15000,
        RefundStatus.SUCCEEDED,
        RefundSource.STRIPE,
    )
    assert status_of(api, company, checkout)["AmountRefunded"] == 15000
    assert payment_log_row(api, company, checkout)["AmountRefunded"] == 15000


def test_a_dashboard_refund_counts_against_what_is_left(
    paid_checkout, stripe_emulator, api, company
):
    checkout = paid_checkout()
    stripe_emulator.refund_from_dashboard(checkout.payment_intent_id, 40000)
    deliver_refund_events(stripe_emulator)

    response = refund(api, company, checkout, Amount=10000)

    assert response.status_code == 400
    assert response.json()["ResponseStatus"]["Message"] == (
        "Amount 100.00 SEK is more than the 50.00 SEK left to refund."
    )


def test_a_refund_that_fails_later_is_failed_and_its_amount_refundable_again(
    paid_checkout, stripe_emulator, api, company
):
    checkout = paid_checkout()
    first = refund(api, company, checkout).json()
    assert first["AmountRefunded"] == 45000
    seen = refund_events_so_far(stripe_emulator)

    stripe_emulator.fail_refund(first["RefundId"], failure_reason="expired_or_canceled_card")
    assert deliver_refund_events(stripe_emulator, seen) == ["processed", "processed"]

    failed = Refund.objects.get()
    assert (failed.status, failed.failure_reason) == (
        RefundStatus.FAILED,
        "expired_or_canceled_card",
    )
    assert status_of(api, company, checkout)["AmountRefunded"] == 0
    again = refund(api, company, checkout)
    assert again.status_code == 200
    assert (again.json()["Amount"], again.json()["AmountRefunded"]) == (45000, 45000)


def test_a_pending_refund_counts_until_it_settles(paid_checkout, stripe_emulator, api, company):
    checkout = paid_checkout()
    stripe_emulator.refunds_start_pending(1)

    pending = refund(api, company, checkout, Amount=20000).json()
    seen = refund_events_so_far(stripe_emulator)
    stripe_emulator.settle_refund(pending["RefundId"])
    deliver_refund_events(stripe_emulator, seen)

    assert (pending["Status"], pending["AmountRefunded"]) == ("pending", 20000)
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert status_of(api, company, checkout)["AmountRefunded"] == 20000


def test_a_refund_event_is_applied_once(paid_checkout, stripe_emulator):
    checkout = paid_checkout()
    stripe_emulator.refund_from_dashboard(checkout.payment_intent_id, 100)
    event = stripe_emulator.wait_for_event("refund.created")

    outcomes = [deliver(Client(), event).json()["Outcome"] for _ in range(2)]

    assert outcomes == ["processed", "duplicate"]
    assert ProcessedStripeEvent.objects.filter(event_id=event["id"]).count() == 1
    assert Refund.objects.count() == 1


@pytest.mark.parametrize(
    "elsewhere",
    [
        lambda event: event["data"]["object"].update(payment_intent="pi_made_elsewhere"),
        lambda event: event.update(account="acct_1AnotherPlatformsSalon"),
    ],
    ids=["another-payment", "another-account"],
)
def test_a_refund_of_a_payment_not_made_here_is_ignored(paid_checkout, stripe_emulator, elsewhere):
    checkout = paid_checkout()
    stripe_emulator.refund_from_dashboard(checkout.payment_intent_id, 100)
    event = stripe_emulator.wait_for_event("refund.created")
    elsewhere(event)

    response = deliver(Client(), event)

    assert response.json()["Outcome"] == "ignored"
    assert not Refund.objects.exists()


def test_a_refund_event_is_acted_on_as_stripe_has_the_refund_now(paid_checkout, stripe_emulator):
    checkout = paid_checkout()
    stripe_emulator.refunds_start_pending(1)
    made = stripe_emulator.refund_from_dashboard(checkout.payment_intent_id, 100)
    created = stripe_emulator.wait_for_event("refund.created")
    stripe_emulator.settle_refund(made["id"])

    deliver(Client(), created)

    assert created["data"]["object"]["status"] == "pending"
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
