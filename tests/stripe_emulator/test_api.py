"""The Stripe emulator, driven by the real stripe SDK over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import requests
import stripe

from stripe_emulator import StripeEmulator
from tests.support.stripe_sdk import (
    NOW,
    REPO_ROOT,
    SESSIONS,
    STRIPE_FIXTURES,
    embedded_params,
    hosted_params,
    line_item,
    make_client,
)


def without(params: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key not in names}


def create_error(
    client: stripe.StripeClient, params: dict[str, Any], **options: Any
) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params=params, options=options or None)
    return raised.value


# --- create: shape ------------------------------------------------------------


def test_hosted_create_returns_an_open_unpaid_session_filled_from_the_request(
    stripe_emulator, client
):
    session = client.v1.checkout.sessions.create(
        params=hosted_params(
            client_reference_id="booking-42",
            customer_email="kund@example.se",
            locale="sv",
            metadata={"booking_id": "42"},
        )
    )

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert (session.mode, session.ui_mode, session.livemode) == ("payment", "hosted_page", False)
    assert (session.currency, session.amount_subtotal, session.amount_total) == (
        "sek",
        10000,
        10000,
    )
    assert session.client_reference_id == "booking-42"
    assert session.customer_email == "kund@example.se"
    assert session.locale == "sv"
    assert session.metadata.to_dict() == {"booking_id": "42"}
    assert session.success_url == "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}"
    assert session.cancel_url == "https://shop.example/cancel"
    assert session.url == f"{stripe_emulator.url}/c/pay/{session.id}"
    assert session.client_secret is None
    assert session.return_url is None
    assert session.payment_intent is None
    assert session.customer is None
    assert session.customer_details is None
    assert session.expires_at == session.created + 24 * 60 * 60


@pytest.mark.skipif(not STRIPE_FIXTURES.exists(), reason="Stripe's fixtures3.json is not here")
def test_session_has_every_field_of_stripes_published_checkout_session_fixture(client):
    fixture = json.loads(STRIPE_FIXTURES.read_text())["resources"]["checkout.session"]

    session = client.v1.checkout.sessions.create(params=hosted_params())

    assert set(fixture) <= set(session.to_dict())


def test_embedded_create_has_a_client_secret_and_no_url(client):
    session = client.v1.checkout.sessions.create(params=embedded_params())

    assert session.ui_mode == "embedded_page"
    assert session.url is None
    assert session.client_secret.startswith(f"{session.id}_secret_")
    assert session.return_url == "https://shop.example/return?session_id={CHECKOUT_SESSION_ID}"


def test_retrieve_returns_the_stored_session_including_its_client_secret(client):
    created = client.v1.checkout.sessions.create(params=embedded_params())

    retrieved = client.v1.checkout.sessions.retrieve(created.id)

    assert retrieved.to_dict() == created.to_dict()


def test_amount_total_sums_unit_amount_times_quantity(client):
    items = [line_item(unit_amount=2500) | {"quantity": 3}, line_item(unit_amount=500)]

    session = client.v1.checkout.sessions.create(params=hosted_params(line_items=items))

    assert session.amount_total == 3 * 2500 + 500


def test_fractional_unit_amount_decimal_total_is_rounded(client):
    price_data = {"currency": "sek", "unit_amount_decimal": "1000.25", "product": "prod_A"}
    items = [{"quantity": 2, "price_data": price_data}]

    session = client.v1.checkout.sessions.create(params=hosted_params(line_items=items))

    assert session.amount_total == 2001


def test_line_items_endpoint_lists_the_sessions_items_in_request_order(client):
    items = [
        line_item(product_data={"name": "Cut"}),
        line_item(product_data={"name": "Colour"}, unit_amount=20000),
    ]
    session = client.v1.checkout.sessions.create(params=hosted_params(line_items=items))

    listed = client.v1.checkout.sessions.line_items.list(session.id)

    assert [item.description for item in listed.data] == ["Cut", "Colour"]
    assert [item.price.unit_amount for item in listed.data] == [10000, 20000]
    assert listed.url == f"{SESSIONS}/{session.id}/line_items"


def test_retrieve_can_expand_line_items(client):
    session = client.v1.checkout.sessions.create(params=hosted_params())

    expanded = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})

    assert expanded.line_items.data[0].amount_total == 10000


def test_recorded_request_keeps_params_as_received_strings_and_headers(stripe_emulator, client):
    client.v1.checkout.sessions.create(
        params=hosted_params(),
        options={"stripe_account": "acct_1Shop", "idempotency_key": "create-1"},
    )

    (recorded,) = stripe_emulator.requests_to("POST", SESSIONS)
    assert recorded.params["line_items"][0]["price_data"]["unit_amount"] == "10000"
    assert recorded.params["line_items"][0]["quantity"] == "1"
    assert recorded.stripe_account == "acct_1Shop"
    assert recorded.idempotency_key == "create-1"
    assert recorded.stripe_version == stripe.api_version
    assert recorded.status == 200


def test_every_answer_carries_a_request_id_and_the_stripe_version(client):
    session = client.v1.checkout.sessions.create(params=hosted_params())
    error = create_error(client, {"mode": "payment"})

    assert session.last_response.headers["Request-Id"].startswith("req_")
    assert session.last_response.headers["Stripe-Version"] == stripe.api_version
    assert error.headers["Request-Id"].startswith("req_")
    assert error.json_body["error"]["request_log_url"].startswith("https://dashboard.stripe.com")


# --- create: typed param validation ---------------------------------------------------


def test_unknown_top_level_param_is_rejected(client):
    error = create_error(client, hosted_params(colour="red"))

    assert (error.code, error.param) == ("parameter_unknown", "colour")
    assert error.user_message == "Received unknown parameter: colour"
    assert error.json_body["error"]["doc_url"] == (
        "https://stripe.com/docs/error-codes/parameter-unknown"
    )


def test_unknown_nested_param_is_named_in_bracket_form(client):
    error = create_error(client, hosted_params(line_items=[line_item(colour="red")]))

    assert (error.code, error.param) == ("parameter_unknown", "line_items[0][price_data][colour]")


def test_unknown_hash_param_is_named_down_to_its_value(client):
    error = create_error(client, hosted_params(foo={"bar": "1"}))

    assert error.param == "foo[bar]"
    assert error.user_message == "Received unknown parameter: foo[bar]"


def test_request_option_names_are_not_params(client):
    error = create_error(client, hosted_params(stripe_account="acct_1Shop"))

    assert (error.code, error.param) == ("parameter_unknown", "stripe_account")


def test_enum_value_outside_the_literals_is_rejected(client):
    error = create_error(client, hosted_params(mode="donation"))

    assert (error.code, error.param) == ("parameter_invalid_string", "mode")
    assert error.user_message == "Invalid mode: must be one of payment, setup, or subscription"


def test_nested_enum_value_outside_the_literals_is_rejected(client):
    error = create_error(client, hosted_params(line_items=[line_item(tax_behavior="sometimes")]))

    assert error.param == "line_items[0][price_data][tax_behavior]"
    assert error.code == "parameter_invalid_string"


def test_non_integer_for_an_integer_param_is_rejected(client):
    error = create_error(client, hosted_params(line_items=[line_item() | {"quantity": "two"}]))

    assert (error.code, error.param) == ("parameter_invalid_integer", "line_items[0][quantity]")
    assert error.user_message == "Invalid integer: two"


def test_non_boolean_for_a_boolean_param_is_rejected(client):
    error = create_error(client, hosted_params(allow_promotion_codes="yes"))

    assert (error.param, error.user_message) == ("allow_promotion_codes", "Invalid boolean: yes")


def test_non_decimal_for_a_decimal_param_is_rejected(client):
    item = {
        "quantity": 1,
        "price_data": {"currency": "sek", "unit_amount_decimal": "ten", "product": "prod_A"},
    }

    error = create_error(client, hosted_params(line_items=[item]))

    assert error.param == "line_items[0][price_data][unit_amount_decimal]"
    assert error.user_message == "Invalid decimal: ten"


def test_missing_required_nested_param_is_named(client):
    item = {"quantity": 1, "price_data": {"unit_amount": 100, "product_data": {"name": "Cut"}}}

    error = create_error(client, hosted_params(line_items=[item]))

    assert (error.code, error.param) == ("parameter_missing", "line_items[0][price_data][currency]")
    assert error.user_message == "Missing required param: line_items[0][price_data][currency]."


def test_empty_string_for_a_required_param_cannot_unset_it(client):
    error = create_error(client, hosted_params(line_items=[line_item(currency="")]))

    assert (error.code, error.param) == (
        "parameter_invalid_empty",
        "line_items[0][price_data][currency]",
    )


def test_empty_string_for_an_optional_param_leaves_it_unset(client):
    session = client.v1.checkout.sessions.create(params=hosted_params(customer_email=""))

    assert session.customer_email is None


def test_string_for_a_hash_param_is_an_invalid_object(client):
    error = create_error(client, hosted_params(metadata="booking"))

    assert (error.param, error.user_message) == ("metadata", "Invalid object")


def test_string_for_an_array_param_is_an_invalid_array(client):
    error = create_error(client, hosted_params(line_items="all"))

    assert (error.param, error.user_message) == ("line_items", "Invalid array")


# --- create: Stripe's business rules ---------------------------------------------------


def test_mode_is_required(client):
    error = create_error(client, without(hosted_params(), "mode"))

    assert (error.code, error.param) == ("parameter_missing", "mode")


def test_line_items_are_required_in_payment_mode(client):
    error = create_error(client, without(hosted_params(), "line_items"))

    assert (error.code, error.param) == ("parameter_missing", "line_items")


def test_more_than_100_line_items_are_rejected(client):
    error = create_error(client, hosted_params(line_items=[line_item()] * 101))

    assert error.param == "line_items"


def test_line_item_needs_price_or_price_data(client):
    error = create_error(client, hosted_params(line_items=[{"quantity": 1}]))

    assert (error.code, error.param) == ("parameter_missing", "line_items[0][price_data]")


def test_line_item_price_id_is_unknown_to_the_emulator(client):
    error = create_error(client, hosted_params(line_items=[{"price": "price_123", "quantity": 1}]))

    assert (error.code, error.param) == ("resource_missing", "line_items[0][price]")
    assert error.user_message == "No such price: 'price_123'"


def test_price_data_needs_unit_amount_or_unit_amount_decimal(client):
    item = {"quantity": 1, "price_data": {"currency": "sek", "product_data": {"name": "Cut"}}}

    error = create_error(client, hosted_params(line_items=[item]))

    assert (error.code, error.param) == (
        "parameter_missing",
        "line_items[0][price_data][unit_amount]",
    )


def test_price_data_needs_product_or_product_data(client):
    item = {"quantity": 1, "price_data": {"currency": "sek", "unit_amount": 100}}

    error = create_error(client, hosted_params(line_items=[item]))

    assert (error.code, error.param) == (
        "parameter_missing",
        "line_items[0][price_data][product_data]",
    )


def test_product_data_needs_a_name(client):
    error = create_error(
        client, hosted_params(line_items=[line_item(product_data={"description": "x"})])
    )

    assert (error.code, error.param) == (
        "parameter_missing",
        "line_items[0][price_data][product_data][name]",
    )


def test_quantity_is_required(client):
    item = without(line_item(), "quantity")

    error = create_error(client, hosted_params(line_items=[item]))

    assert (error.code, error.param) == ("parameter_missing", "line_items[0][quantity]")


def test_quantity_must_be_at_least_one(client):
    error = create_error(client, hosted_params(line_items=[line_item() | {"quantity": 0}]))

    assert error.param == "line_items[0][quantity]"
    assert error.user_message == "This value must be greater than or equal to 1."


def test_negative_unit_amount_is_rejected(client):
    error = create_error(client, hosted_params(line_items=[line_item(unit_amount=-1)]))

    assert error.param == "line_items[0][price_data][unit_amount]"


def test_recurring_price_is_rejected_in_payment_mode(client):
    error = create_error(
        client, hosted_params(line_items=[line_item(recurring={"interval": "month"})])
    )

    assert error.param == "line_items[0][price_data][recurring]"


def test_line_items_must_share_one_currency(client):
    items = [line_item(currency="sek"), line_item(currency="eur")]

    error = create_error(client, hosted_params(line_items=items))

    assert error.param == "line_items[1][price_data][currency]"


def test_currency_param_must_match_the_line_items(client):
    error = create_error(client, hosted_params(currency="eur"))

    assert error.param == "currency"


def test_currency_must_be_a_lowercase_iso_code(client):
    error = create_error(client, hosted_params(line_items=[line_item(currency="SEK")]))

    assert error.param == "line_items[0][price_data][currency]"


@pytest.mark.parametrize("url_param", ["success_url", "cancel_url"])
def test_embedded_page_does_not_allow_hosted_redirect_urls(client, url_param):
    error = create_error(client, embedded_params(**{url_param: "https://shop.example/x"}))

    assert error.param == url_param
    assert error.user_message == f"You cannot pass `{url_param}` when `ui_mode` is `embedded_page`."


def test_embedded_page_requires_return_url(client):
    error = create_error(client, without(embedded_params(), "return_url"))

    assert (error.code, error.param) == ("parameter_missing", "return_url")


def test_embedded_page_without_return_url_is_fine_when_it_never_redirects(client):
    params = without(embedded_params(redirect_on_completion="never"), "return_url")

    session = client.v1.checkout.sessions.create(params=params)

    assert session.return_url is None


def test_hosted_page_does_not_allow_return_url(client):
    error = create_error(client, hosted_params(return_url="https://shop.example/return"))

    assert error.param == "return_url"
    assert error.user_message == "You cannot pass `return_url` when `ui_mode` is `hosted_page`."


def test_redirect_urls_must_be_valid(client):
    error = create_error(client, hosted_params(success_url="not a url"))

    assert (error.code, error.param) == ("url_invalid", "success_url")


def test_expires_at_exactly_30_minutes_ahead_is_accepted(stripe_emulator, client):
    stripe_emulator.set_time(NOW)

    session = client.v1.checkout.sessions.create(params=hosted_params(expires_at=NOW + 30 * 60))

    assert (session.created, session.expires_at) == (NOW, NOW + 30 * 60)


def test_expires_at_under_30_minutes_ahead_is_rejected(stripe_emulator, client):
    stripe_emulator.set_time(NOW)

    error = create_error(client, hosted_params(expires_at=NOW + 30 * 60 - 1))

    assert error.param == "expires_at"


def test_expires_at_over_24_hours_ahead_is_rejected(stripe_emulator, client):
    stripe_emulator.set_time(NOW)

    error = create_error(client, hosted_params(expires_at=NOW + 24 * 60 * 60 + 1))

    assert error.param == "expires_at"


def test_client_reference_id_over_200_characters_is_rejected(client):
    error = create_error(client, hosted_params(client_reference_id="x" * 201))

    assert error.param == "client_reference_id"


@pytest.mark.parametrize(
    ("metadata", "param"),
    [
        ({f"k{i}": "v" for i in range(51)}, "metadata"),
        ({"k" * 41: "v"}, f"metadata[{'k' * 41}]"),
        ({"note": "v" * 501}, "metadata[note]"),
    ],
    ids=["51 keys", "41-character key", "501-character value"],
)
def test_metadata_limits_are_enforced(client, metadata, param):
    error = create_error(client, hosted_params(metadata=metadata))

    assert error.param == param


def test_customer_and_customer_email_are_mutually_exclusive(client):
    error = create_error(client, hosted_params(customer="cus_123", customer_email="a@example.se"))

    assert error.code == "parameters_exclusive"
    assert (
        error.user_message
        == "You may only specify one of these parameters: customer, customer_email."
    )


def test_customer_email_must_be_an_email_address(client):
    error = create_error(client, hosted_params(customer_email="not-an-email"))

    assert (error.code, error.param) == ("email_invalid", "customer_email")


# --- auth, routing ---------------------------------------------------------------------


def test_live_or_unknown_key_is_rejected_with_401(stripe_emulator):
    client = make_client(stripe_emulator, key="sk_live_fake-1234abcd")

    with pytest.raises(stripe.AuthenticationError) as raised:
        client.v1.checkout.sessions.create(params=hosted_params())

    assert raised.value.http_status == 401
    assert raised.value.json_body["error"]["type"] == "invalid_request_error"
    assert raised.value.user_message == "Invalid API Key provided: sk_live_*********abcd"


def test_request_without_an_api_key_is_rejected_with_401(stripe_emulator):
    response = requests.get(stripe_emulator.url + SESSIONS, timeout=5)

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_unknown_route_is_a_404_unrecognized_request_url(stripe_emulator):
    response = requests.get(
        stripe_emulator.url + "/v1/foo",
        headers={"Authorization": "Bearer sk_test_emulator"},
        timeout=5,
    )

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/foo)."
    )


# --- Connect account scoping ---------------------------------------------------------------


def test_session_of_an_account_is_missing_without_the_account_header(client):
    session = client.v1.checkout.sessions.create(
        params=hosted_params(), options={"stripe_account": "acct_1Shop"}
    )

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.retrieve(session.id)

    assert raised.value.http_status == 404
    assert (raised.value.code, raised.value.param) == ("resource_missing", "session")
    assert raised.value.user_message == f"No such checkout.session: '{session.id}'"


def test_session_of_an_account_is_missing_on_another_account(client):
    session = client.v1.checkout.sessions.create(
        params=hosted_params(), options={"stripe_account": "acct_1Shop"}
    )

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.expire(session.id, options={"stripe_account": "acct_2Other"})

    assert raised.value.code == "resource_missing"


def test_list_shows_only_the_calling_accounts_sessions(client):
    mine = client.v1.checkout.sessions.create(
        params=hosted_params(), options={"stripe_account": "acct_1Shop"}
    )
    client.v1.checkout.sessions.create(
        params=hosted_params(), options={"stripe_account": "acct_2Other"}
    )
    client.v1.checkout.sessions.create(params=hosted_params())

    listed = client.v1.checkout.sessions.list(options={"stripe_account": "acct_1Shop"})

    assert [session.id for session in listed.data] == [mine.id]


# --- list --------------------------------------------------------------------------------


def create_sessions(client: stripe.StripeClient, count: int) -> list[str]:
    return [client.v1.checkout.sessions.create(params=hosted_params()).id for _ in range(count)]


def test_list_is_newest_first_and_defaults_to_ten(client):
    ids = create_sessions(client, 12)

    listed = client.v1.checkout.sessions.list()

    assert [session.id for session in listed.data] == ids[::-1][:10]
    assert listed.has_more is True
    assert (listed.object, listed.url) == ("list", SESSIONS)


def test_list_pages_through_everything_with_starting_after(client):
    ids = create_sessions(client, 5)

    pages = client.v1.checkout.sessions.list(params={"limit": 2})

    assert [session.id for session in pages.auto_paging_iter()] == ids[::-1]


def test_list_ending_before_returns_the_newer_neighbours(client):
    ids = create_sessions(client, 5)

    listed = client.v1.checkout.sessions.list(params={"ending_before": ids[1], "limit": 2})

    assert [session.id for session in listed.data] == [ids[3], ids[2]]
    assert listed.has_more is True


@pytest.mark.parametrize("limit", [0, 101])
def test_list_limit_must_be_between_1_and_100(client, limit):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.list(params={"limit": limit})

    assert raised.value.param == "limit"


def test_list_filters_by_status(client):
    expired, still_open = create_sessions(client, 2)
    client.v1.checkout.sessions.expire(expired)

    listed = client.v1.checkout.sessions.list(params={"status": "open"})

    assert [session.id for session in listed.data] == [still_open]


def test_list_rejects_params_the_sdk_does_not_define(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.list(params={"client_reference_id": "booking-42"})

    assert (raised.value.code, raised.value.param) == ("parameter_unknown", "client_reference_id")


# --- expire -------------------------------------------------------------------------------


def test_expiring_an_open_session_makes_it_expired(client):
    session = client.v1.checkout.sessions.create(params=hosted_params())

    expired = client.v1.checkout.sessions.expire(session.id)

    assert expired.status == "expired"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_expiring_a_session_that_is_not_open_is_a_400(client):
    session = client.v1.checkout.sessions.create(params=hosted_params())
    client.v1.checkout.sessions.expire(session.id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.expire(session.id)

    assert raised.value.http_status == 400
    assert raised.value.json_body["error"]["type"] == "invalid_request_error"


def test_expiring_an_unknown_session_is_a_404(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.expire("cs_test_unknown")

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


# --- idempotency -----------------------------------------------------------------------------


def test_same_idempotency_key_and_params_replays_without_creating_again(stripe_emulator, client):
    options = {"idempotency_key": "booking-42-attempt-1"}
    first = client.v1.checkout.sessions.create(params=hosted_params(), options=options)

    again = client.v1.checkout.sessions.create(params=hosted_params(), options=options)

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_emulator.store.all_sessions()) == 1


def test_same_idempotency_key_with_other_params_is_an_idempotency_error(client):
    options = {"idempotency_key": "booking-42-attempt-1"}
    client.v1.checkout.sessions.create(params=hosted_params(), options=options)

    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.checkout.sessions.create(params=hosted_params(locale="sv"), options=options)

    assert raised.value.http_status == 400
    assert raised.value.json_body["error"]["type"] == "idempotency_error"


def test_idempotency_keys_are_scoped_per_account(stripe_emulator, client):
    client.v1.checkout.sessions.create(
        params=hosted_params(), options={"idempotency_key": "k", "stripe_account": "acct_1Shop"}
    )

    client.v1.checkout.sessions.create(
        params=hosted_params(), options={"idempotency_key": "k", "stripe_account": "acct_2Other"}
    )

    assert len(stripe_emulator.store.all_sessions()) == 2


def test_request_failing_validation_does_not_burn_its_idempotency_key(client):
    options = {"idempotency_key": "booking-42-attempt-1"}
    create_error(client, hosted_params(mode="donation"), **options)

    session = client.v1.checkout.sessions.create(params=hosted_params(), options=options)

    assert session.status == "open"


# --- faults --------------------------------------------------------------------------------


def test_injected_500_then_success_retries_into_exactly_one_session(stripe_emulator):
    stripe_emulator.inject_fault("error", method="POST", path=SESSIONS, status=500)
    client = make_client(stripe_emulator, retries=1)

    session = client.v1.checkout.sessions.create(params=hosted_params())

    attempts = stripe_emulator.requests_to("POST", SESSIONS)
    assert [(a.status, a.fault) for a in attempts] == [(500, "error"), (200, None)]
    assert attempts[0].idempotency_key == attempts[1].idempotency_key
    assert [s.session["id"] for s in stripe_emulator.store.all_sessions()] == [session.id]


def test_error_fault_answers_a_stripe_shaped_api_error(stripe_emulator, client):
    stripe_emulator.inject_fault("error", status=503)

    with pytest.raises(stripe.APIError) as raised:
        client.v1.checkout.sessions.create(params=hosted_params())

    assert raised.value.http_status == 503
    assert raised.value.json_body["error"]["type"] == "api_error"


def test_error_fault_with_should_retry_false_is_not_retried(stripe_emulator):
    stripe_emulator.inject_fault("error", status=500, should_retry=False)
    client = make_client(stripe_emulator, retries=1)

    with pytest.raises(stripe.APIError):
        client.v1.checkout.sessions.create(params=hosted_params())

    assert len(stripe_emulator.requests) == 1


def test_429_fault_is_a_rate_limit_error(stripe_emulator, client):
    stripe_emulator.inject_fault("error", status=429)

    with pytest.raises(stripe.RateLimitError) as raised:
        client.v1.checkout.sessions.create(params=hosted_params())

    assert raised.value.json_body["error"]["type"] == "invalid_request_error"
    assert raised.value.json_body["error"]["code"] == "rate_limit"


def test_dropped_connection_is_an_api_connection_error(stripe_emulator, client):
    stripe_emulator.inject_fault("drop", method="POST", path=SESSIONS)

    with pytest.raises(stripe.APIConnectionError):
        client.v1.checkout.sessions.create(params=hosted_params())

    (attempt,) = stripe_emulator.requests
    assert (attempt.fault, attempt.status) == ("drop", None)
    assert stripe_emulator.store.all_sessions() == []


def test_dropped_connection_is_retried_with_the_same_idempotency_key(stripe_emulator):
    stripe_emulator.inject_fault("drop", method="POST", path=SESSIONS)
    client = make_client(stripe_emulator, retries=1)

    client.v1.checkout.sessions.create(params=hosted_params())

    first, retry = stripe_emulator.requests_to("POST", SESSIONS)
    assert first.idempotency_key == retry.idempotency_key
    assert len(stripe_emulator.store.all_sessions()) == 1


def test_held_request_times_out_on_a_short_client_timeout(stripe_emulator):
    stripe_emulator.inject_fault("timeout", method="POST", path=SESSIONS, seconds=10)
    client = make_client(stripe_emulator, timeout=0.5)

    with pytest.raises(stripe.APIConnectionError):
        client.v1.checkout.sessions.create(params=hosted_params())

    (attempt,) = stripe_emulator.requests
    assert attempt.fault == "timeout"


def test_reset_releases_a_held_request_without_running_it(stripe_emulator):
    stripe_emulator.inject_fault("timeout", seconds=30)
    client = make_client(stripe_emulator, timeout=10)
    outcome: list[BaseException] = []

    def create() -> None:
        try:
            client.v1.checkout.sessions.create(params=hosted_params())
        except stripe.APIConnectionError as error:
            outcome.append(error)

    caller = threading.Thread(target=create)
    caller.start()
    stripe_emulator.wait_for_requests(1)
    stripe_emulator.reset()
    caller.join(timeout=5)

    assert not caller.is_alive()
    assert len(outcome) == 1
    assert stripe_emulator.store.all_sessions() == []


def test_stop_returns_promptly_while_a_request_is_held():
    emulator = StripeEmulator().start()
    emulator.inject_fault("timeout", seconds=30)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            requests.get(emulator.url + SESSIONS, timeout=10)
        except requests.ConnectionError as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    emulator.wait_for_requests(1)

    started = time.monotonic()
    emulator.stop()
    caller.join(timeout=5)

    assert time.monotonic() - started < 5
    assert not caller.is_alive()
    assert len(outcome) == 1


def test_latency_fault_delays_then_answers_normally(stripe_emulator, client):
    stripe_emulator.inject_fault("latency", seconds=0.2)

    started = time.monotonic()
    session = client.v1.checkout.sessions.create(params=hosted_params())

    assert time.monotonic() - started >= 0.2
    assert session.status == "open"
    assert stripe_emulator.requests[0].fault == "latency"


def test_fault_fires_only_for_its_account(stripe_emulator, client):
    stripe_emulator.inject_fault("error", status=500, stripe_account="acct_2Other")

    session = client.v1.checkout.sessions.create(
        params=hosted_params(), options={"stripe_account": "acct_1Shop"}
    )

    assert session.status == "open"
    assert len(stripe_emulator.faults.pending()) == 1


def test_fault_fires_for_the_given_number_of_requests(stripe_emulator, client):
    stripe_emulator.inject_fault("error", status=500, times=2)

    statuses = []
    for _ in range(3):
        try:
            client.v1.checkout.sessions.list()
            statuses.append(200)
        except stripe.APIError as error:
            statuses.append(error.http_status)

    assert statuses == [500, 500, 200]


# --- control API -----------------------------------------------------------------------------


def test_faults_can_be_injected_over_http(stripe_emulator, client):
    response = requests.post(
        stripe_emulator.url + "/_emulator/faults",
        json={"kind": "error", "method": "POST", "path": SESSIONS, "status": 502},
        timeout=5,
    )
    assert response.status_code == 201

    with pytest.raises(stripe.APIError) as raised:
        client.v1.checkout.sessions.create(params=hosted_params())

    assert raised.value.http_status == 502


def test_recorded_requests_can_be_read_and_reset_over_http(stripe_emulator, client):
    client.v1.checkout.sessions.create(params=hosted_params())

    recorded = requests.get(stripe_emulator.url + "/_emulator/requests", timeout=5).json()["data"]
    requests.post(stripe_emulator.url + "/_emulator/reset", timeout=5)

    assert [(r["method"], r["path"], r["status"]) for r in recorded] == [("POST", SESSIONS, 200)]
    assert recorded[0]["params"]["mode"] == "payment"
    assert stripe_emulator.requests == []
    assert stripe_emulator.store.all_sessions() == []


# --- python -m stripe_emulator -------------------------------------------------------------


def test_the_module_serves_until_interrupted():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "stripe_emulator", "--port", "0"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        url = banner.split("listening on ")[1].split()[0]
        response = requests.get(
            url + "/v1/foo", headers={"Authorization": "Bearer sk_test_emulator"}, timeout=5
        )
        assert response.status_code == 404
        assert "Unrecognized request URL (GET: /v1/foo)" in response.json()["error"]["message"]
    finally:
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=10)
        process.stdout.close()

    assert returncode == 0


# --- emulator-side helpers -------------------------------------------------------------------


def test_sessions_on_lists_one_accounts_sessions_oldest_first(stripe_emulator, client):
    ids = [
        client.v1.checkout.sessions.create(
            params=hosted_params(), options={"stripe_account": "acct_1Shop"}
        ).id
        for _ in range(2)
    ]
    client.v1.checkout.sessions.create(params=hosted_params())

    assert [session["id"] for session in stripe_emulator.sessions_on("acct_1Shop")] == ids


def test_completing_a_session_makes_it_paid_with_a_payment_intent(stripe_emulator, client):
    session = client.v1.checkout.sessions.create(
        params=hosted_params(customer_email="kund@example.se"),
        options={"stripe_account": "acct_1Shop"},
    )

    stripe_emulator.complete_session(session.id)

    retrieved = client.v1.checkout.sessions.retrieve(
        session.id, options={"stripe_account": "acct_1Shop"}
    )
    assert (retrieved.status, retrieved.payment_status) == ("complete", "paid")
    assert retrieved.payment_intent.startswith("pi_")
    assert retrieved.customer_details.email == "kund@example.se"
