"""Payment method types at API version 2026-10-28.endive: allowed, filtered by currency."""

from __future__ import annotations

import pytest
import stripe

from tests.support.stripe_sdk import SHOP, create_hosted, line_item, paid_session

NORDIC = ["card", "swish", "mobilepay", "klarna"]


def create_error(client: stripe.StripeClient, **params) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create_hosted(client, **params)
    return raised.value


def test_payment_method_types_is_refused_with_stripes_error(client):
    error = create_error(client, payment_method_types=["card"])

    assert error.http_status == 400
    assert (error.code, error.param) == (
        "payment_method_types_no_longer_supported",
        "payment_method_types",
    )


@pytest.mark.parametrize(
    ("currency", "offered"),
    [
        ("sek", ["card", "swish", "mobilepay", "klarna"]),
        ("dkk", ["card", "mobilepay", "klarna"]),
        ("eur", ["card", "mobilepay", "klarna"]),
        ("usd", ["card", "klarna"]),
        ("jpy", ["card"]),
    ],
)
def test_methods_the_currency_cannot_take_are_dropped_silently(client, currency, offered):
    session = create_hosted(
        client,
        line_items=[line_item(currency=currency)],
        allowed_payment_method_types=NORDIC,
    )

    assert session.payment_method_types == offered
    assert session.allowed_payment_method_types == NORDIC


def test_nothing_left_after_filtering_is_refused(client):
    error = create_error(
        client, line_items=[line_item(currency="eur")], allowed_payment_method_types=["swish"]
    )

    assert error.param == "allowed_payment_method_types"
    assert "currency `eur`" in error.user_message


def test_without_allowed_types_a_session_offers_card(client):
    session = create_hosted(client)

    assert session.payment_method_types == ["card"]
    assert session.allowed_payment_method_types is None
    assert session.payment_method_configuration_details is None


def test_a_payment_method_configuration_is_recorded(client):
    session = create_hosted(client, payment_method_configuration="pmc_1Bookings")

    assert session.payment_method_configuration_details.to_dict() == {
        "id": "pmc_1Bookings",
        "parent": None,
    }


def test_a_payment_method_configuration_must_be_a_pmc_id(client):
    error = create_error(client, payment_method_configuration="cfg_1")

    assert (error.code, error.param) == ("resource_missing", "payment_method_configuration")
    assert error.user_message == "No such payment_method_configuration: 'cfg_1'"


@pytest.mark.parametrize(
    "other",
    [
        {"payment_method_configuration": "pmc_1Bookings"},
        {"excluded_payment_method_types": ["klarna"]},
    ],
)
def test_allowed_types_exclude_a_configuration_and_exclusions(client, other):
    error = create_error(client, allowed_payment_method_types=["card"], **other)

    assert error.code == "parameters_exclusive"
    assert error.param == next(iter(other))


def test_an_unknown_payment_method_type_is_refused(client):
    error = create_error(client, allowed_payment_method_types=["bitcoin"])

    assert (error.code, error.param) == (
        "parameter_invalid_string",
        "allowed_payment_method_types[0]",
    )


def test_the_payment_intent_offers_the_sessions_methods(stripe_emulator, client):
    session = paid_session(
        stripe_emulator,
        client,
        line_items=[line_item(currency="dkk")],
        allowed_payment_method_types=["mobilepay"],
    )

    intent = stripe_emulator.payment_intent(session["payment_intent"])
    charge = stripe_emulator.charge(intent["latest_charge"])

    assert intent["payment_method_types"] == ["mobilepay"]
    assert charge["payment_method_details"]["type"] == "mobilepay"
    refund = client.v1.refunds.create(
        params={"payment_intent": intent["id"]}, options={"stripe_account": SHOP}
    )
    assert refund.destination_details.type == "mobilepay"
