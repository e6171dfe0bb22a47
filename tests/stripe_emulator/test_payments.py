"""The PaymentIntent, Charge and application fee behind a paid Checkout Session."""

from __future__ import annotations

import json

import pytest
import requests
import stripe

from tests.support.stripe_sdk import (
    SHOP,
    STRIPE_FIXTURES,
    create_hosted,
    line_item,
    paid_session,
    with_fee,
)

ON_SHOP = {"stripe_account": SHOP}


def fixture(resource: str) -> dict:
    return json.loads(STRIPE_FIXTURES.read_text())["resources"][resource]


def create_error(client: stripe.StripeClient, account: str | None = SHOP, **params):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create_hosted(client, account, **params)
    return raised.value


# --- the payment ------------------------------------------------------------------------------


def test_a_paid_session_has_a_succeeded_payment_intent_with_the_sessions_amount(
    stripe_emulator, client
):
    session = paid_session(
        stripe_emulator,
        client,
        payment_intent_data={"metadata": {"booking": "42"}, "description": "Haircut"},
    )

    intent = client.v1.payment_intents.retrieve(session["payment_intent"], options=ON_SHOP)

    assert intent.id.startswith("pi_")
    assert intent.status == "succeeded"
    assert (intent.amount, intent.amount_received, intent.currency) == (10000, 10000, "sek")
    assert intent.metadata.to_dict() == {"booking": "42"}
    assert intent.description == "Haircut"
    assert intent.customer == session["customer"]
    assert intent.latest_charge.startswith("ch_")
    assert intent.application_fee_amount is None


def test_its_charge_is_paid_captured_and_not_refunded(stripe_emulator, client):
    session = paid_session(stripe_emulator, client, customer_email="kund@example.se")
    intent = stripe_emulator.payment_intent(session["payment_intent"])

    charge = client.v1.charges.retrieve(intent["latest_charge"], options=ON_SHOP)

    assert (charge.status, charge.paid, charge.captured) == ("succeeded", True, True)
    assert (charge.amount, charge.amount_captured, charge.amount_refunded) == (10000, 10000, 0)
    assert charge.refunded is False
    assert charge.payment_intent == intent["id"]
    assert charge.billing_details.email == "kund@example.se"
    assert charge.application_fee is None


def test_an_application_fee_is_carried_to_the_intent_and_the_charge(stripe_emulator, client):
    session = paid_session(stripe_emulator, client, payment_intent_data=with_fee(1500))
    intent = stripe_emulator.payment_intent(session["payment_intent"])
    charge = stripe_emulator.charge(intent["latest_charge"])

    fee = stripe_emulator.application_fee(charge["application_fee"])

    assert intent["application_fee_amount"] == 1500
    assert charge["application_fee_amount"] == 1500
    assert charge["application_fee"].startswith("fee_")
    assert (fee["account"], fee["amount"], fee["charge"]) == (SHOP, 1500, charge["id"])
    assert (fee["amount_refunded"], fee["refunded"]) == (0, False)


def test_intent_and_charge_are_only_seen_on_the_sessions_account(stripe_emulator, client):
    intent_id = paid_session(stripe_emulator, client)["payment_intent"]

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve(intent_id)

    assert raised.value.http_status == 404
    assert raised.value.user_message == f"No such payment_intent: '{intent_id}'"
    charge_id = stripe_emulator.payment_intent(intent_id)["latest_charge"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.charges.retrieve(charge_id, options={"stripe_account": "acct_1Other"})


def test_a_delayed_payment_is_processing_until_it_settles(stripe_emulator, client):
    session = create_hosted(client, payment_intent_data=with_fee(100))
    intent_id = stripe_emulator.complete_session(session.id, payment_status="unpaid")[
        "payment_intent"
    ]
    processing = stripe_emulator.payment_intent(intent_id)
    pending = stripe_emulator.charge(processing["latest_charge"])

    stripe_emulator.settle_async_payment(session.id, succeeded=True)

    assert (processing["status"], pending["status"], pending["paid"]) == (
        "processing",
        "pending",
        False,
    )
    settled = stripe_emulator.payment_intent(intent_id)
    charge = stripe_emulator.charge(settled["latest_charge"])
    assert (settled["status"], settled["amount_received"]) == ("succeeded", 10000)
    assert (charge["status"], charge["paid"]) == ("succeeded", True)
    assert charge["application_fee"].startswith("fee_")


def test_a_delayed_payment_that_fails_leaves_a_failed_charge(stripe_emulator, client):
    session = create_hosted(client)
    intent_id = stripe_emulator.complete_session(session.id, payment_status="unpaid")[
        "payment_intent"
    ]

    stripe_emulator.settle_async_payment(session.id, succeeded=False)

    intent = stripe_emulator.payment_intent(intent_id)
    charge = stripe_emulator.charge(intent["latest_charge"])
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["charge"] == charge["id"]
    assert (charge["status"], charge["paid"], charge["failure_code"]) == (
        "failed",
        False,
        "insufficient_funds",
    )


# --- expanding --------------------------------------------------------------------------------


def test_a_session_expands_its_payment_intent_and_that_its_latest_charge(stripe_emulator, client):
    session = paid_session(stripe_emulator, client)

    expanded = client.v1.checkout.sessions.retrieve(
        session["id"], params={"expand": ["payment_intent.latest_charge"]}, options=ON_SHOP
    )

    assert expanded.payment_intent.id == session["payment_intent"]
    assert expanded.payment_intent.latest_charge.object == "charge"


def test_a_charge_expands_its_refunds_and_refuses_other_fields(stripe_emulator, client):
    intent_id = paid_session(stripe_emulator, client)["payment_intent"]
    refund = client.v1.refunds.create(params={"payment_intent": intent_id}, options=ON_SHOP)
    charge_id = refund.charge

    charge = client.v1.charges.retrieve(charge_id, params={"expand": ["refunds"]}, options=ON_SHOP)

    assert [r.id for r in charge.refunds.data] == [refund.id]
    with pytest.raises(stripe.InvalidRequestError, match=r"cannot be expanded \(metadata\)"):
        client.v1.charges.retrieve(charge_id, params={"expand": ["metadata"]}, options=ON_SHOP)


# --- shapes -----------------------------------------------------------------------------------


@pytest.mark.skipif(not STRIPE_FIXTURES.exists(), reason="Stripe's fixtures3.json is not here")
def test_objects_have_the_fields_of_stripes_fixtures(stripe_emulator, client):
    session = paid_session(stripe_emulator, client, payment_intent_data=with_fee(100))
    intent = stripe_emulator.payment_intent(session["payment_intent"])
    charge = stripe_emulator.charge(intent["latest_charge"])
    fee = stripe_emulator.application_fee(charge["application_fee"])

    assert set(fixture("payment_intent")) <= set(intent)
    # `charge.refunds` is expand-only at this API version.
    assert set(fixture("charge")) - {"refunds"} <= set(charge)
    assert set(fixture("application_fee")) <= set(fee)


# --- application_fee_amount at session create ------------------------------------------------


def test_a_fee_needs_a_connected_account(client):
    error = create_error(client, account=None, payment_intent_data=with_fee(100))

    assert error.param == "payment_intent_data[application_fee_amount]"
    assert error.user_message.startswith(
        "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct "
        "payment (using an OAuth key or Stripe-Account header)"
    )


def test_a_destination_charge_on_the_platform_may_take_a_fee(client):
    session = create_hosted(
        client,
        account=None,
        payment_intent_data=with_fee(100, transfer_data={"destination": SHOP}),
    )

    assert session.status == "open"


def test_a_fee_must_not_be_negative_nor_above_the_total(client):
    negative = create_error(client, payment_intent_data=with_fee(-1))
    items = [line_item(unit_amount=2500), line_item(unit_amount=2500)]
    above = create_error(client, line_items=items, payment_intent_data=with_fee(5001))

    assert negative.param == "payment_intent_data[application_fee_amount]"
    assert negative.user_message == "This value must be greater than or equal to 0."
    assert above.param == "payment_intent_data[application_fee_amount]"
    assert "(5001) cannot be greater than" in above.user_message
    assert "(5000)" in above.user_message
    assert create_hosted(client, line_items=items, payment_intent_data=with_fee(5000)).id


def test_a_fee_must_be_an_integer(client):
    error = create_error(client, payment_intent_data={"application_fee_amount": "1.5"})

    assert (error.code, error.param) == (
        "parameter_invalid_integer",
        "payment_intent_data[application_fee_amount]",
    )


# --- control API -------------------------------------------------------------------------------


def test_payment_objects_can_be_read_over_http(stripe_emulator, client):
    intent_id = paid_session(stripe_emulator, client, payment_intent_data=with_fee(100))[
        "payment_intent"
    ]
    base = f"{stripe_emulator.url}/_emulator"

    intent = requests.get(f"{base}/payment_intents/{intent_id}", timeout=5).json()
    charge_id = intent["object"]["latest_charge"]
    charge = requests.get(f"{base}/charges/{charge_id}", timeout=5).json()
    fee_id = charge["object"]["application_fee"]
    fee = requests.get(f"{base}/application_fees/{fee_id}", timeout=5).json()

    assert (intent["account"], intent["object"]["id"]) == (SHOP, intent_id)
    assert charge["object"]["payment_intent"] == intent_id
    assert (fee["account"], fee["object"]["account"]) == (None, SHOP)
    assert requests.get(f"{base}/charges/ch_nope", timeout=5).status_code == 404
