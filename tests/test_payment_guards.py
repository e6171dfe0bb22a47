"""The payment guarantees, each tested where it can fail.

A customer must never lose a recorded payment, nor pay a booking twice. Each
guard below (a constraint, a lock, a re-read, the never-backwards rule) has a
test that fails when the guard is removed. Races are lined up with the
emulator's gates and held database locks, never with sleeps; the ones that
need real row locks run on PostgreSQL only (SQLite serialises writers).
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client

from checkouts import lifecycle, stripe_gateway
from checkouts.lifecycle import ExpiryOutcome, ExpiryResult
from checkouts.models import (
    Checkout,
    CheckoutStatus,
    Payable,
    PaymentStatus,
    ProcessedStripeEvent,
    StripeExpiry,
)
from tests.support.api import CREATE_SESSION, RETRIEVE_SESSION
from tests.support.concurrency import (
    GATE_TIMEOUT,
    backends_waiting_on_a_lock,
    in_a_thread,
    wait_until,
)
from tests.support.database import refusing_new_checkout_rows
from tests.support.factories import (
    build_checkout,
    make_checkout,
    make_paid_checkout,
    make_payable,
)
from tests.support.webhooks import deliver


def stored(response) -> Checkout:
    assert response.status_code == 200, response.content
    return Checkout.objects.get(stripe_session_id=response.json()["SessionId"])


def pay_on_stripe_and_deliver_the_webhook(emulator, checkout: Checkout) -> None:
    emulator.complete_session(checkout.stripe_session_id, customer_email="kund@example.se")
    event = emulator.wait_for_event("checkout.session.completed", checkout.stripe_session_id)
    assert deliver(Client(), event).json()["Outcome"] == "processed"


def expire_path(*checkouts: Checkout) -> str:
    ids = "|".join(checkout.stripe_session_id for checkout in checkouts)
    return rf"^/v1/checkout/sessions/({ids})/expire$"


# --- what the database refuses, whoever writes ----------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_two_open_checkouts_for_one_payable(company):
    payable = make_payable(company)

    with pytest.raises(IntegrityError):
        Checkout.objects.bulk_create([build_checkout(payable), build_checkout(payable)])


@pytest.mark.django_db
def test_the_database_keeps_a_paid_payable_on_its_paid_checkout(company):
    payable = make_payable(company)
    make_paid_checkout(payable)
    other = make_checkout(payable)

    with pytest.raises(IntegrityError), transaction.atomic():
        Payable.objects.filter(pk=payable.pk).update(current_checkout=other)


# --- recorded facts never go backwards --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_failed_expiry_recorded_from_a_copy_older_than_the_payment_keeps_the_payment(
    create_checkout, stripe_emulator
):
    checkout = stored(create_checkout())
    read_before_the_payment = Checkout.objects.get(pk=checkout.pk)
    pay_on_stripe_and_deliver_the_webhook(stripe_emulator, checkout)

    lifecycle.record_expiry_result(
        read_before_the_payment, ExpiryResult(ExpiryOutcome.FAILED, error="Stripe timed out")
    )

    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status) == ("complete", "paid")
    assert checkout.paid_at is not None
    assert checkout.payment_intent_id
    assert checkout.customer_email == "kund@example.se"
    assert checkout.stripe_expiry_error == "Stripe timed out"
    assert create_checkout().status_code == 409


@pytest.mark.django_db(transaction=True)
def test_a_complete_checkout_never_moves_back_to_an_older_view_of_its_session(
    create_checkout, stripe_emulator
):
    checkout = stored(create_checkout())
    while_open = stripe_gateway.retrieve_checkout_session(
        account=checkout.connected_account_id, session_id=checkout.stripe_session_id
    )
    pay_on_stripe_and_deliver_the_webhook(stripe_emulator, checkout)

    lifecycle.record_session_state(checkout, while_open)

    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status) == ("complete", "paid")
    assert checkout.paid_at is not None
    assert checkout.payment_intent_id
    assert checkout.customer_id
    assert checkout.customer_email == "kund@example.se"


# --- races, lined up with the emulator's gates ----------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_payment_recorded_while_an_expiry_of_its_session_is_failing_stays_paid(
    create_checkout, stripe_emulator
):
    first = stored(create_checkout())
    gate = stripe_emulator.inject_fault(
        "error", method="POST", path=expire_path(first), hold=True, should_retry=False
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The second create supersedes the first, and its task starts expiring it.
        second_create = in_a_thread(pool, create_checkout)
        gate.wait_until_held(GATE_TIMEOUT)
        pay_on_stripe_and_deliver_the_webhook(stripe_emulator, first)
        gate.release()
        second = stored(second_create.result())

    first.refresh_from_db()
    assert (first.status, first.payment_status) == ("complete", "paid")
    assert first.stripe_expiry == StripeExpiry.PENDING
    assert first.stripe_expiry_attempts == 1
    payable = Payable.objects.get()
    assert payable.paid_checkout == payable.current_checkout == first
    second.refresh_from_db()
    assert second.superseded_by == first
    assert stripe_emulator.session(second.stripe_session_id)["status"] == "expired"
    assert create_checkout().status_code == 409


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("booking", ["with-a-checkout", "new"])
def test_a_payment_recorded_during_a_creates_stripe_call_makes_the_create_409(
    create_checkout, stripe_emulator, booking
):
    first = stored(create_checkout()) if booking == "with-a-checkout" else None
    gate = stripe_emulator.inject_fault(
        "pass_through", method="POST", path=CREATE_SESSION, hold=True
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        racing_create = in_a_thread(pool, create_checkout)
        gate.wait_until_held(GATE_TIMEOUT)
        if first is None:
            # The racing create read a booking with no checkout, so the database refuses
            # its one-statement insert into the paid payable.
            first = stored(create_checkout())
        pay_on_stripe_and_deliver_the_webhook(stripe_emulator, first)
        gate.release()
        response = racing_create.result()

    assert response.status_code == 409
    assert response.json()["ResponseStatus"]["ErrorCode"] == "AlreadyPaid"
    late = Checkout.objects.exclude(pk=first.pk).get()
    assert late.superseded_by == first
    assert stripe_emulator.session(late.stripe_session_id)["status"] == "expired"
    assert Payable.objects.get().current_checkout == first


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cron_run_during_which_webhooks_record_payments_loses_none(
    create_checkout, stripe_emulator
):
    bookings = 8
    for number in range(bookings):
        stored(create_checkout(InternalReferenceId=f"booking-{number}"))
    due = list(Checkout.objects.all())
    gate = stripe_emulator.inject_fault(
        "error",
        method="POST",
        path=expire_path(*due),
        hold=True,
        times=None,
        should_retry=False,
    )

    def cron_run():
        with pytest.raises(CommandError):
            call_command("expire_checkouts", "--older-than", "1s", "--concurrency", "8")

    Checkout.objects.update(created_at=Checkout.objects.first().created_at.replace(year=2020))
    with ThreadPoolExecutor(max_workers=1) as pool:
        run = in_a_thread(pool, cron_run)
        gate.wait_until_held(GATE_TIMEOUT, count=bookings)
        for checkout in due:
            pay_on_stripe_and_deliver_the_webhook(stripe_emulator, checkout)
        gate.release()
        run.result()

    assert Checkout.objects.filter(payment_status=PaymentStatus.PAID).count() == bookings
    assert Payable.objects.filter(paid_checkout__isnull=False).count() == bookings


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_event_at_once_apply_it_once(create_checkout, stripe_emulator):
    checkout = stored(create_checkout())
    stripe_emulator.complete_session(checkout.stripe_session_id)
    event = stripe_emulator.wait_for_event("checkout.session.completed")
    # Both deliveries pass the dedupe check, then wait for Stripe's copy of the session.
    gate = stripe_emulator.inject_fault(
        "pass_through", method="GET", path=RETRIEVE_SESSION, hold=True, times=2
    )

    with ThreadPoolExecutor(max_workers=2) as pool:
        deliveries = [in_a_thread(pool, deliver, Client(), event) for _ in range(2)]
        gate.wait_until_held(GATE_TIMEOUT, count=2)
        gate.release()
        outcomes = sorted(delivery.result().json()["Outcome"] for delivery in deliveries)

    assert outcomes == ["duplicate", "processed"]
    assert ProcessedStripeEvent.objects.filter(event_id=event["id"]).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_recording_two_payments_of_one_payable_queues_on_the_payable(
    create_checkout, stripe_emulator
):
    first = stored(create_checkout())
    # The first stays payable on Stripe although the second supersedes it.
    stripe_emulator.inject_fault(
        "error", method="POST", path=expire_path(first), should_retry=False
    )
    second = stored(create_checkout())
    first.refresh_from_db()
    for paid in (first, second):
        stripe_emulator.complete_session(paid.stripe_session_id)
    sessions = {
        paid.pk: stripe_gateway.retrieve_checkout_session(
            account=paid.connected_account_id, session_id=paid.stripe_session_id
        )
        for paid in (first, second)
    }

    with ThreadPoolExecutor(max_workers=2) as pool, transaction.atomic():
        # Holding the first checkout's row, its recording stops after taking the payable.
        Checkout.objects.select_for_update().get(pk=first.pk)
        recording_first = in_a_thread(
            pool, lifecycle.record_session_state, first, sessions[first.pk]
        )
        wait_until(lambda: backends_waiting_on_a_lock() == 1, "the first recording to wait")
        recording_second = in_a_thread(
            pool, lifecycle.record_session_state, second, sessions[second.pk]
        )
        wait_until(lambda: backends_waiting_on_a_lock() == 2, "the second recording to wait")
        assert not recording_second.done()
    recording_first.result()
    recording_second.result()

    payable = Payable.objects.get()
    assert payable.paid_checkout == payable.current_checkout == first
    assert Checkout.objects.filter(payment_status=PaymentStatus.PAID).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_create_ends_nothing_on_stripe(create_checkout, stripe_emulator):
    first = stored(create_checkout())
    with refusing_new_checkout_rows():
        response = create_checkout()

    assert response.status_code == 500
    first.refresh_from_db()
    assert first.status == CheckoutStatus.OPEN
    assert first.superseded_by is None
    assert Payable.objects.get().current_checkout == first
    assert stripe_emulator.session(first.stripe_session_id)["status"] == "open"
    assert stripe_emulator.requests_to("POST", expire_path(first)) == []


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_commit_leaves_the_new_session_current_and_open(
    create_checkout, stripe_emulator, settings
):
    first = stored(create_checkout())
    settings.TASKS = {"default": {"BACKEND": "tests.support.tasks.KilledOnEnqueueBackend"}}

    with pytest.raises(SystemExit):
        create_checkout()

    current = Payable.objects.get().current_checkout
    assert current != first
    assert stripe_emulator.session(current.stripe_session_id)["status"] == "open"
    first.refresh_from_db()
    assert first.stripe_expiry == StripeExpiry.PENDING
