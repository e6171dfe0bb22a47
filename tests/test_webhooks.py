"""POST /payment/stripe/v1/webhook: signed events from Stripe record what became of a session."""

import json
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client

from checkouts.lifecycle import record_session_state
from checkouts.models import (
    Checkout,
    CheckoutStatus,
    Payable,
    PaymentStatus,
    ProcessedStripeEvent,
    WebhookDelivery,
    WebhookOutcome,
)
from checkouts.stripe_gateway import retrieve_checkout_session
from tests.support.api import IPN_CALLBACK_URL, RETRIEVE_SESSION, WEBHOOK_URL
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_test_emulator"


@pytest.fixture
def checkout(create_checkout) -> Checkout:
    response = create_checkout(InternalReferenceId="booking-hook")
    assert response.status_code == 200
    return Checkout.objects.get(stripe_session_id=response.json()["SessionId"])


def emitted(emulator, event_type: str, checkout: Checkout) -> dict:
    """The event the emulator emitted about ``checkout``'s session."""
    return emulator.wait_for_event(event_type, checkout.stripe_session_id)


# BokaMera's ipncallback path records a payment as the webhook path does.
@pytest.mark.parametrize("path", [WEBHOOK_URL, IPN_CALLBACK_URL])
def test_a_session_paid_on_stripe_reaches_complete_and_paid_through_a_signed_webhook(
    checkout, stripe_emulator, live_server, path
):
    stripe_emulator.configure_webhook(f"{live_server.url}{path}", SECRET)

    stripe_emulator.complete_session(checkout.stripe_session_id, customer_email="kund@example.se")
    (delivery,) = stripe_emulator.drain_webhooks()

    assert delivery.status == 200
    checkout.refresh_from_db()
    session = stripe_emulator.session(checkout.stripe_session_id)
    assert (checkout.status, checkout.payment_status) == ("complete", "paid")
    assert checkout.payment_intent_id == session["payment_intent"]
    assert checkout.customer_id == session["customer"]
    assert checkout.customer_email == "kund@example.se"
    assert checkout.amount_total == 45000
    assert checkout.paid_at is not None


def test_an_event_delivered_to_both_paths_is_applied_once(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)
    deliver(client, event, path=WEBHOOK_URL)

    response = deliver(client, event, path=IPN_CALLBACK_URL)

    assert response.status_code == 200
    assert response.json() == {"EventId": event["id"], "Outcome": "duplicate"}
    assert ProcessedStripeEvent.objects.count() == 1


def test_every_delivery_is_kept_with_its_outcome(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)

    deliver(client, event)

    kept = WebhookDelivery.objects.get()
    assert (kept.event_id, kept.event_type, kept.account) == (
        event["id"],
        "checkout.session.completed",
        "acct_1SalongLugn",
    )
    assert json.loads(kept.payload) == event
    assert kept.outcome == WebhookOutcome.PROCESSED
    assert kept.processed_at is not None


@pytest.mark.parametrize("path", [WEBHOOK_URL, IPN_CALLBACK_URL])
@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=deadbeef", "v1=abc", "nonsense"],
    ids=["missing", "wrong", "no-timestamp", "garbage"],
)
def test_a_forged_webhook_changes_nothing(checkout, stripe_emulator, client, signature, path):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)

    response = deliver(client, event, signature=signature or " ", path=path)

    assert response.status_code == 400
    assert response.json()["ResponseStatus"]["ErrorCode"] == "InvalidWebhook"
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.OPEN
    assert not WebhookDelivery.objects.exists()


def test_a_webhook_signed_with_another_secret_changes_nothing(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)

    response = deliver(client, event, secret="whsec_someone_else")

    assert response.status_code == 400
    assert Checkout.objects.get().status == CheckoutStatus.OPEN


def test_a_replayed_old_webhook_changes_nothing(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)

    response = deliver(client, event, timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert Checkout.objects.get().status == CheckoutStatus.OPEN


def test_a_duplicate_delivery_changes_nothing_twice(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)
    deliver(client, event)
    paid_at = Checkout.objects.get().paid_at

    response = deliver(client, event)

    assert response.status_code == 200
    assert response.json() == {"EventId": event["id"], "Outcome": "duplicate"}
    assert Checkout.objects.get().paid_at == paid_at
    assert len(stripe_emulator.requests_to("GET", RETRIEVE_SESSION)) == 1
    assert ProcessedStripeEvent.objects.count() == 1
    assert list(WebhookDelivery.objects.values_list("outcome", flat=True).order_by("pk")) == [
        "processed",
        "duplicate",
    ]


def test_sessions_this_service_did_not_create_are_ignored(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)
    event["data"]["object"]["metadata"] = {"order": "from-another-integration"}

    response = deliver(client, event)

    assert response.status_code == 200
    assert response.json()["Outcome"] == "ignored"
    assert Checkout.objects.get().status == CheckoutStatus.OPEN
    assert stripe_emulator.requests_to("GET", RETRIEVE_SESSION) == []


def test_an_event_about_another_account_is_ignored(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)
    event["account"] = "acct_1SomeoneElse"

    response = deliver(client, event)

    assert response.json()["Outcome"] == "ignored"
    assert Checkout.objects.get().status == CheckoutStatus.OPEN


def test_event_types_not_handled_are_acknowledged_and_ignored(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)
    event["type"] = "customer.created"

    response = deliver(client, event)

    assert response.status_code == 200
    assert response.json()["Outcome"] == "ignored"


def test_events_are_applied_as_stripe_has_the_session_now(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    completed = emitted(stripe_emulator, "checkout.session.completed", checkout)
    stale = json.loads(json.dumps(completed))
    stale["id"] = "evt_stale_expired"
    stale["type"] = "checkout.session.expired"
    stale["data"]["object"]["status"] = "expired"

    deliver(client, completed)
    deliver(client, stale)

    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status) == ("complete", "paid")


def test_a_superseded_session_paid_in_the_race_is_recorded_and_flagged(
    checkout, stripe_emulator, client, create_checkout
):
    stripe_emulator.inject_fault("error", method="POST", path=r".*/expire$", status=400)
    newer_id = create_checkout(InternalReferenceId="booking-hook").json()["SessionId"]
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)

    deliver(client, event)

    checkout.refresh_from_db()
    newer = Checkout.objects.get(stripe_session_id=newer_id)
    assert checkout.is_paid
    assert checkout.paid_while_superseded
    assert Payable.objects.get().current_checkout == checkout
    # The customer cannot pay a second time: the newer session is ended.
    assert newer.superseded_by == checkout
    assert stripe_emulator.session(newer_id)["status"] == "expired"


def test_a_delayed_payment_is_recorded_when_it_succeeds(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id, payment_status="unpaid")
    deliver(client, emitted(stripe_emulator, "checkout.session.completed", checkout))
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status, checkout.paid_at) == (
        "complete",
        "unpaid",
        None,
    )

    stripe_emulator.settle_async_payment(checkout.stripe_session_id, succeeded=True)
    deliver(
        client,
        emitted(stripe_emulator, "checkout.session.async_payment_succeeded", checkout),
    )

    checkout.refresh_from_db()
    assert checkout.payment_status == PaymentStatus.PAID
    assert checkout.paid_at is not None


def test_a_delayed_payment_that_fails_stays_unpaid(checkout, stripe_emulator, client):
    stripe_emulator.complete_session(checkout.stripe_session_id, payment_status="unpaid")
    stripe_emulator.settle_async_payment(checkout.stripe_session_id, succeeded=False)

    response = deliver(
        client,
        emitted(stripe_emulator, "checkout.session.async_payment_failed", checkout),
    )

    assert response.json()["Outcome"] == "processed"
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status, checkout.paid_at) == (
        "complete",
        "unpaid",
        None,
    )


def test_an_expired_session_is_recorded_as_expired(checkout, stripe_emulator, client):
    stripe_emulator.set_time(checkout.expires_at.timestamp() + 1)
    event = emitted(stripe_emulator, "checkout.session.expired", checkout)

    deliver(client, event)

    assert Checkout.objects.get().status == CheckoutStatus.EXPIRED


def test_stripe_unreachable_is_worth_a_retry_and_the_retry_is_processed(
    checkout, stripe_emulator, client, settings
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)
    stripe_emulator.inject_fault("error", method="GET", path=RETRIEVE_SESSION, status=503)

    failed = deliver(client, event)
    retried = deliver(client, event)

    assert failed.status_code == 503
    assert retried.status_code == 200
    assert retried.json()["Outcome"] == "processed"
    assert Checkout.objects.get().is_paid


def test_the_emulator_retries_a_delivery_the_service_could_not_process(
    checkout, stripe_emulator, live_server, settings
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_emulator.configure_webhook(
        f"{live_server.url}{WEBHOOK_URL}", SECRET, retry_delays=(0.05, 0.05)
    )
    stripe_emulator.inject_fault("error", method="GET", path=RETRIEVE_SESSION, status=503)

    stripe_emulator.complete_session(checkout.stripe_session_id)
    deliveries = stripe_emulator.drain_webhooks()

    assert [delivery.status for delivery in deliveries] == [503, 200]
    assert Checkout.objects.get().is_paid


def test_webhooks_need_no_api_key_and_no_csrf_token(checkout, stripe_emulator):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)

    response = deliver(Client(enforce_csrf_checks=True), event)

    assert response.status_code == 200


def test_without_a_webhook_secret_deliveries_are_refused_for_later(
    checkout, stripe_emulator, client, settings
):
    settings.STRIPE_WEBHOOK_SECRET = ""
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)

    response = deliver(client, event)

    assert response.status_code == 503
    assert response.json()["ResponseStatus"]["ErrorCode"] == "WebhooksNotConfigured"


@pytest.mark.postgres
def test_recording_a_payment_twice_at_once_pays_once(checkout, stripe_emulator):
    stripe_emulator.complete_session(checkout.stripe_session_id)
    session = retrieve_checkout_session(
        account=checkout.connected_account_id, session_id=checkout.stripe_session_id
    )
    start = threading.Barrier(2)
    recorded = []

    def record():
        start.wait()
        try:
            recorded.append(record_session_state(checkout, session))
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(recorded) == 2
    assert {checkout.paid_at for checkout in recorded} == {Checkout.objects.get().paid_at}
    assert Checkout.objects.get().is_paid


def test_a_checkout_locked_too_long_is_worth_a_retry(checkout, stripe_emulator, client, settings):
    settings.ROW_LOCK_TIMEOUT_MS = 200
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = emitted(stripe_emulator, "checkout.session.completed", checkout)
    locked, release = threading.Event(), threading.Event()

    def hold_the_payable():
        try:
            with transaction.atomic():
                Payable.objects.select_for_update().get()
                locked.set()
                release.wait()
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_payable)
    holder.start()
    locked.wait()
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":  # SQLite's lock is the whole database
                cursor.execute("PRAGMA busy_timeout = 200")
            response = deliver(client, event)
    finally:
        release.set()
        holder.join()
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout = 20000")

    assert response.status_code == 503
    assert not ProcessedStripeEvent.objects.exists()
    assert deliver(client, event).json()["Outcome"] == "processed"
