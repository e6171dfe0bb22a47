"""A new checkout for a payable invalidates the earlier ones, locally and on Stripe."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import transaction

from checkouts.lifecycle import expire_checkout_now
from checkouts.models import Checkout, CheckoutStatus, Payable, PaymentStatus, StripeExpiry
from tests.support.api import CHECKOUT_URL, CREATE_SESSION, EXPIRE_SESSION, checkout_body
from tests.support.concurrency import GATE_TIMEOUT, in_a_thread
from tests.support.factories import build_checkout, make_api_key, make_article, make_company

pytestmark = pytest.mark.django_db(transaction=True)


def session_id(response) -> str:
    assert response.status_code == 200, response.json()
    return response.json()["SessionId"]


def test_second_checkout_for_same_reference_expires_the_first_on_stripe(
    create_checkout, stripe_emulator
):
    first = session_id(create_checkout())

    second = session_id(create_checkout())

    assert second != first
    assert stripe_emulator.session(first)["status"] == "expired"
    assert stripe_emulator.session(second)["status"] == "open"
    (expire,) = stripe_emulator.requests_to("POST", EXPIRE_SESSION)
    assert expire.path == f"/v1/checkout/sessions/{first}/expire"
    assert expire.stripe_account == "acct_1SalongLugn"


def test_second_checkout_supersedes_the_first_locally(create_checkout, stripe_emulator):
    first = Checkout.objects.get(stripe_session_id=session_id(create_checkout()))

    second = Checkout.objects.get(stripe_session_id=session_id(create_checkout()))

    first.refresh_from_db()
    assert first.superseded_by == second
    assert first.superseded_at is not None
    assert first.status == CheckoutStatus.EXPIRED
    assert first.stripe_expiry == StripeExpiry.EXPIRED
    assert second.superseded_by is None
    assert Payable.objects.get().current_checkout == second


def test_every_older_checkout_ends_and_exactly_one_stays_open(create_checkout, stripe_emulator):
    ids = [session_id(create_checkout()) for _ in range(4)]

    assert [stripe_emulator.session(sid)["status"] for sid in ids] == ["expired"] * 3 + ["open"]
    assert Checkout.objects.filter(status=CheckoutStatus.OPEN).count() == 1
    assert list(
        Checkout.objects.filter(superseded_by__isnull=True).values_list(
            "stripe_session_id", flat=True
        )
    ) == [ids[-1]]


def test_checkouts_of_other_references_are_left_alone(create_checkout, stripe_emulator):
    other = session_id(create_checkout(InternalReferenceId="booking-other"))

    session_id(create_checkout(InternalReferenceId="booking-mine"))

    assert stripe_emulator.session(other)["status"] == "open"
    assert Checkout.objects.get(stripe_session_id=other).superseded_by is None
    assert stripe_emulator.requests_to("POST", EXPIRE_SESSION) == []


def test_the_same_reference_in_another_company_is_another_payable(
    create_checkout, stripe_emulator, api
):
    mine = session_id(create_checkout(InternalReferenceId="booking-shared"))
    other = make_company(name="Other salon", account="acct_1Other")
    make_article(other)
    api.credentials(HTTP_X_API_KEY=make_api_key(other))

    response = api.post(
        CHECKOUT_URL, checkout_body(other, InternalReferenceId="booking-shared"), format="json"
    )

    session_id(response)
    assert stripe_emulator.session(mine)["status"] == "open"
    assert Payable.objects.count() == 2


def test_an_expiry_stripe_fails_stays_pending_for_a_retry(create_checkout, stripe_emulator):
    first = session_id(create_checkout())
    stripe_emulator.inject_fault("error", method="POST", path=EXPIRE_SESSION, status=503, times=5)

    response = create_checkout()

    assert response.status_code == 200
    old = Checkout.objects.get(stripe_session_id=first)
    assert old.superseded_by is not None
    assert old.stripe_expiry == StripeExpiry.PENDING
    assert old.stripe_expiry_attempts == 1
    assert old.stripe_expiry_error
    assert stripe_emulator.session(first)["status"] == "open"


def test_a_superseded_checkout_stays_superseded_by_the_checkout_that_replaced_it(
    create_checkout, stripe_emulator
):
    # Stripe refuses the expiries, so the superseded checkouts stay open and pending.
    stripe_emulator.inject_fault("error", method="POST", path=EXPIRE_SESSION, status=503, times=20)
    first, second, third = (
        Checkout.objects.get(stripe_session_id=session_id(create_checkout())) for _ in range(3)
    )

    first.refresh_from_db()
    assert first.status == CheckoutStatus.OPEN
    assert first.superseded_by == second
    second.refresh_from_db()
    assert second.superseded_by == third


def test_a_checkout_ended_during_a_creates_stripe_call_is_left_as_it_ended(
    create_checkout, stripe_emulator
):
    first = Checkout.objects.get(stripe_session_id=session_id(create_checkout()))
    gate = stripe_emulator.inject_fault(
        "pass_through", method="POST", path=CREATE_SESSION, hold=True
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The waiting create read an open checkout before its Stripe call.
        waiting = in_a_thread(pool, create_checkout)
        gate.wait_until_held(GATE_TIMEOUT)
        expire_checkout_now(first)
        gate.release()
        session_id(waiting.result())

    first.refresh_from_db()
    assert first.status == CheckoutStatus.EXPIRED
    assert (first.superseded_by, first.stripe_expiry) == (None, StripeExpiry.EXPIRED)
    assert len(stripe_emulator.requests_to("POST", EXPIRE_SESSION)) == 1


def test_an_older_session_paid_before_expiry_is_recorded_as_paid(create_checkout, stripe_emulator):
    first = session_id(create_checkout())
    stripe_emulator.complete_session(first)

    session_id(create_checkout())

    old = Checkout.objects.get(stripe_session_id=first)
    assert old.status == CheckoutStatus.COMPLETE
    assert old.payment_status == PaymentStatus.PAID
    assert old.stripe_expiry == StripeExpiry.ALREADY_COMPLETE
    assert old.superseded_by is not None
    assert old.payment_intent_id == stripe_emulator.session(first)["payment_intent"]


def test_a_failed_stripe_create_invalidates_nothing(create_checkout, stripe_emulator):
    first = session_id(create_checkout())
    stripe_emulator.inject_fault("error", method="POST", path=CREATE_SESSION, status=400)

    response = create_checkout()

    assert response.status_code == 502
    assert stripe_emulator.session(first)["status"] == "open"
    only = Checkout.objects.get()
    assert (only.stripe_session_id, only.superseded_by) == (first, None)
    assert Payable.objects.get().current_checkout == only


def test_the_post_save_hook_supersedes_older_checkouts_of_any_new_checkout(
    create_checkout, stripe_emulator
):
    first = Checkout.objects.get(stripe_session_id=session_id(create_checkout()))

    # Saved without the create service: the hook alone must do the superseding.
    newer = build_checkout(first.payable, stripe_session_id="cs_test_saved_elsewhere")
    with transaction.atomic():
        newer.save()

    first.refresh_from_db()
    assert first.superseded_by == newer
    assert Payable.objects.get().current_checkout == newer
    assert stripe_emulator.session(first.stripe_session_id)["status"] == "expired"


def test_a_checkout_stored_during_a_creates_stripe_call_is_superseded_by_it(
    create_checkout, stripe_emulator
):
    # The waiting create read "no open checkout" before its Stripe call, so it skips the
    # superseding UPDATE; the database refuses its row, and it supersedes after all.
    gate = stripe_emulator.inject_fault(
        "pass_through", method="POST", path=CREATE_SESSION, hold=True
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = in_a_thread(pool, create_checkout)
        gate.wait_until_held(GATE_TIMEOUT)
        meanwhile = session_id(create_checkout())
        gate.release()
        last = session_id(waiting.result())

    assert stripe_emulator.session(meanwhile)["status"] == "expired"
    assert stripe_emulator.session(last)["status"] == "open"
    current = Payable.objects.get().current_checkout
    assert current.stripe_session_id == last
    assert Checkout.objects.get(stripe_session_id=meanwhile).superseded_by == current
