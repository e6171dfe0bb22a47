"""Refunds through the SDK, from the Dashboard, pending and failing later, and their events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import requests
import stripe

from stripe_emulator import ApiError
from stripe_emulator.refunds import RefundStateError
from tests.support.emulator import WEBHOOK_SECRET
from tests.support.stripe_sdk import (
    REPO_ROOT,
    SHOP,
    STRIPE_FIXTURES,
    create_hosted,
    paid_session,
    with_fee,
)

ON_SHOP = {"stripe_account": SHOP}
REFUNDS = "/v1/refunds"


@pytest.fixture
def intent_id(stripe_emulator, client) -> str:
    """A paid SEK 100.00 session's payment intent, on SHOP."""
    return paid_session(stripe_emulator, client)["payment_intent"]


def refund(client: stripe.StripeClient, intent: str, **params) -> stripe.Refund:
    return client.v1.refunds.create(params={"payment_intent": intent, **params}, options=ON_SHOP)


def refund_error(client: stripe.StripeClient, **params) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params=params, options=ON_SHOP)
    return raised.value


def events_of(emulator, *types: str) -> list[dict]:
    return [event for event in emulator.events if event["type"] in types]


def charge_of(emulator, intent: str) -> dict:
    return emulator.charge(emulator.payment_intent(intent)["latest_charge"])


# --- creating -------------------------------------------------------------------------------


def test_a_refund_without_an_amount_refunds_everything_at_once(stripe_emulator, client, intent_id):
    created = refund(client, intent_id, reason="requested_by_customer", metadata={"case": "7"})

    assert created.id.startswith("re_")
    assert (created.status, created.amount, created.currency) == ("succeeded", 10000, "sek")
    assert (created.payment_intent, created.reason) == (intent_id, "requested_by_customer")
    assert created.metadata.to_dict() == {"case": "7"}
    charge = charge_of(stripe_emulator, intent_id)
    assert created.charge == charge["id"]
    assert (charge["amount_refunded"], charge["refunded"]) == (10000, True)


def test_a_refund_emits_refund_created_and_charge_refunded_naming_the_request(
    stripe_emulator, client, intent_id
):
    created = client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 4000},
        options={**ON_SHOP, "idempotency_key": "refund-1"},
    )

    created_event, refunded_event = events_of(stripe_emulator, "refund.created", "charge.refunded")
    (request,) = stripe_emulator.requests_to("POST", REFUNDS)
    assert created_event["type"] == "refund.created"
    assert created_event["data"]["object"]["id"] == created.id
    assert refunded_event["type"] == "charge.refunded"
    assert refunded_event["data"]["object"]["amount_refunded"] == 4000
    assert refunded_event["data"]["object"]["refunded"] is False
    for event in (created_event, refunded_event):
        assert event["account"] == SHOP
        assert event["request"] == {"id": request.request_id, "idempotency_key": "refund-1"}


def test_a_refund_can_name_the_charge(stripe_emulator, client, intent_id):
    charge_id = charge_of(stripe_emulator, intent_id)["id"]

    created = client.v1.refunds.create(params={"charge": charge_id, "amount": 1}, options=ON_SHOP)

    assert (created.charge, created.payment_intent, created.amount) == (charge_id, intent_id, 1)


def test_partial_refunds_add_up_and_no_more_than_is_left_can_be_refunded(client, intent_id):
    refund(client, intent_id, amount=3000)
    refund(client, intent_id, amount=2000)

    error = refund_error(client, payment_intent=intent_id, amount=6000)

    assert (error.http_status, error.param, error.code) == (400, "amount", None)
    assert error.user_message == (
        "Refund amount (SEK 60.00) is greater than unrefunded amount on charge (SEK 50.00)"
    )


def test_more_than_the_charge_is_refused_as_such(client, intent_id):
    error = refund_error(client, payment_intent=intent_id, amount=10001)

    assert error.param == "amount"
    assert error.user_message == (
        "Refund amount (SEK 100.01) is greater than charge amount (SEK 100.00)"
    )


def test_a_fully_refunded_charge_is_already_refunded(stripe_emulator, client, intent_id):
    refund(client, intent_id)
    charge_id = charge_of(stripe_emulator, intent_id)["id"]

    error = refund_error(client, payment_intent=intent_id)

    assert error.code == "charge_already_refunded"
    assert error.user_message == f"Charge {charge_id} has already been refunded."


def test_an_intent_without_a_successful_charge_cannot_be_refunded(stripe_emulator, client):
    session = create_hosted(client)
    intent = stripe_emulator.complete_session(session.id, payment_status="unpaid")["payment_intent"]

    error = refund_error(client, payment_intent=intent)

    assert error.http_status == 400
    assert error.user_message == (
        f"This PaymentIntent ({intent}) does not have a successful charge to refund."
    )


def test_an_unknown_or_other_accounts_intent_is_missing(client, intent_id):
    unknown = refund_error(client, payment_intent="pi_nope")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(
            params={"payment_intent": intent_id}, options={"stripe_account": "acct_1Other"}
        )

    assert (unknown.http_status, unknown.code, unknown.param) == (
        400,
        "resource_missing",
        "payment_intent",
    )
    assert unknown.user_message == "No such payment_intent: 'pi_nope'"
    assert raised.value.code == "resource_missing"


@pytest.mark.parametrize("amount", [0, -100])
def test_an_amount_must_be_positive(client, intent_id, amount):
    error = refund_error(client, payment_intent=intent_id, amount=amount)

    assert (error.param, error.user_message) == ("amount", "Invalid positive integer")


def test_a_refund_names_an_intent_or_a_charge_not_both_nor_neither(client, intent_id):
    neither = refund_error(client, amount=100)
    both = refund_error(client, payment_intent=intent_id, charge="ch_1")

    assert neither.code == "parameter_missing"
    assert both.code == "parameters_exclusive"


def test_reason_must_be_one_of_stripes(client, intent_id):
    error = refund_error(client, payment_intent=intent_id, reason="changed_mind")

    assert (error.code, error.param) == ("parameter_invalid_string", "reason")


def test_refunds_to_a_customer_balance_are_not_emulated(client, intent_id):
    error = refund_error(client, payment_intent=intent_id, origin="customer_balance")

    assert error.param == "origin"
    assert "emulator does not support" in error.user_message


def test_the_same_idempotency_key_replays_one_refund(stripe_emulator, client, intent_id):
    options = {**ON_SHOP, "idempotency_key": "refund-1"}
    params = {"payment_intent": intent_id, "amount": 500}

    first = client.v1.refunds.create(params=params, options=options)
    again = client.v1.refunds.create(params=params, options=options)

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_emulator.refunds()) == 1
    assert len(events_of(stripe_emulator, "refund.created")) == 1


def test_a_refund_dropped_after_the_work_is_found_by_its_retry(stripe_emulator, client, intent_id):
    stripe_emulator.inject_fault("drop", method="POST", path=REFUNDS, after_work=True)
    options = {**ON_SHOP, "idempotency_key": "refund-1"}

    with pytest.raises(stripe.APIConnectionError):
        client.v1.refunds.create(params={"payment_intent": intent_id}, options=options)
    retried = client.v1.refunds.create(params={"payment_intent": intent_id}, options=options)

    assert [r["id"] for r in stripe_emulator.refunds()] == [retried.id]


# --- reading ---------------------------------------------------------------------------------


def test_refunds_are_retrieved_and_listed_on_their_account(stripe_emulator, client, intent_id):
    other = paid_session(stripe_emulator, client)["payment_intent"]
    first, second = refund(client, intent_id, amount=100), refund(client, intent_id, amount=200)
    elsewhere = refund(client, other, amount=300)

    everything = client.v1.refunds.list(options=ON_SHOP)
    of_intent = client.v1.refunds.list(params={"payment_intent": intent_id}, options=ON_SHOP)
    page = client.v1.refunds.list(params={"limit": 1}, options=ON_SHOP)
    of_charge = client.v1.refunds.list(params={"charge": elsewhere.charge}, options=ON_SHOP)

    assert [r.id for r in everything.data] == [elsewhere.id, second.id, first.id]
    assert [r.id for r in of_intent.data] == [second.id, first.id]
    assert ([r.id for r in page.data], page.has_more) == ([elsewhere.id], True)
    assert [r.id for r in of_charge.data] == [elsewhere.id]
    assert client.v1.refunds.retrieve(first.id, options=ON_SHOP).amount == 100
    assert client.v1.refunds.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.retrieve(first.id)
    assert raised.value.user_message == f"No such refund: '{first.id}'"


def test_a_listed_refund_expands_its_charge(client, intent_id):
    refund(client, intent_id, amount=100)

    listed = client.v1.refunds.list(params={"expand": ["data.charge"]}, options=ON_SHOP)

    assert listed.data[0].charge.object == "charge"
    assert listed.data[0].charge.amount_refunded == 100


@pytest.mark.skipif(not STRIPE_FIXTURES.exists(), reason="Stripe's fixtures3.json is not here")
def test_a_refund_has_the_fields_of_stripes_fixture(client, intent_id):
    fixture = json.loads(STRIPE_FIXTURES.read_text())["resources"]["refund"]

    created = refund(client, intent_id)

    assert set(created.to_dict()) == set(fixture)


# --- pending, and failing later ----------------------------------------------------------------


def test_a_pending_refund_counts_until_it_settles(stripe_emulator, client, intent_id):
    stripe_emulator.refunds_start_pending()
    pending = refund(client, intent_id, amount=6000)
    after = refund(client, intent_id, amount=1000)

    error = refund_error(client, payment_intent=intent_id, amount=4000)
    settled = stripe_emulator.settle_refund(pending.id)

    assert (pending.status, pending.pending_reason, after.status) == (
        "pending",
        "processing",
        "succeeded",
    )
    assert "unrefunded amount on charge (SEK 30.00)" in error.user_message
    assert settled["status"] == "succeeded"
    assert "pending_reason" not in settled
    (updated,) = events_of(stripe_emulator, "refund.updated")
    assert updated["data"]["object"]["status"] == "succeeded"
    assert updated["request"] == {"id": None, "idempotency_key": None}


def test_reset_forgets_payments_and_refunds(stripe_emulator, client, intent_id):
    made = refund(client, intent_id)

    stripe_emulator.reset()

    assert stripe_emulator.refunds() == []
    with pytest.raises(KeyError):
        stripe_emulator.payment_intent(intent_id)
    with pytest.raises(KeyError):
        stripe_emulator.charge(made.charge)


def test_every_refund_can_start_pending_until_reset(stripe_emulator, client, intent_id):
    stripe_emulator.refunds_start_pending(times=None)

    statuses = [refund(client, intent_id, amount=100).status for _ in range(3)]
    stripe_emulator.reset()

    assert statuses == ["pending"] * 3
    session = paid_session(stripe_emulator, client)
    assert refund(client, session["payment_intent"]).status == "succeeded"


def test_a_refund_that_fails_later_gives_the_amount_back_to_the_charge(
    stripe_emulator, client, intent_id
):
    created = refund(client, intent_id, amount=4000)

    failed = stripe_emulator.fail_refund(created.id, failure_reason="expired_or_canceled_card")

    assert (failed["status"], failed["failure_reason"]) == ("failed", "expired_or_canceled_card")
    assert failed["failure_balance_transaction"].startswith("txn_")
    charge = charge_of(stripe_emulator, intent_id)
    assert (charge["amount_refunded"], charge["refunded"]) == (0, False)
    failed_event, updated_event = events_of(stripe_emulator, "refund.failed", "refund.updated")
    assert (failed_event["type"], updated_event["type"]) == ("refund.failed", "refund.updated")
    assert failed_event["data"]["object"]["status"] == "failed"
    assert failed_event["account"] == SHOP
    assert refund(client, intent_id).amount == 10000  # a failed refund is not counted


def test_a_pending_refund_can_fail_too(stripe_emulator, client, intent_id):
    stripe_emulator.refunds_start_pending()
    pending = refund(client, intent_id)

    failed = stripe_emulator.fail_refund(pending.id)

    assert (failed["status"], failed["failure_reason"]) == ("failed", "unknown")
    assert "pending_reason" not in failed


def test_only_pending_refunds_settle_and_failed_ones_stay_failed(
    stripe_emulator, client, intent_id
):
    created = refund(client, intent_id, amount=100)

    with pytest.raises(RefundStateError, match="only a pending refund can be settled"):
        stripe_emulator.settle_refund(created.id)
    stripe_emulator.fail_refund(created.id)
    with pytest.raises(RefundStateError, match="only a pending or succeeded refund can fail"):
        stripe_emulator.fail_refund(created.id)
    with pytest.raises(ValueError, match="failure_reason must be one of"):
        stripe_emulator.fail_refund(refund(client, intent_id, amount=1).id, "bored")
    with pytest.raises(KeyError):
        stripe_emulator.fail_refund("re_nope")


# --- from the Dashboard ---------------------------------------------------------------------


def test_a_dashboard_refund_records_no_request_and_names_none(stripe_emulator, intent_id):
    made = stripe_emulator.refund_from_dashboard(intent_id, 2500, reason="duplicate")

    assert (made["amount"], made["reason"], made["status"]) == (2500, "duplicate", "succeeded")
    assert stripe_emulator.requests_to("POST", REFUNDS) == []
    created, refunded = events_of(stripe_emulator, "refund.created", "charge.refunded")
    assert created["request"] == {"id": None, "idempotency_key": None}
    assert (created["account"], refunded["data"]["object"]["amount_refunded"]) == (SHOP, 2500)


def test_a_dashboard_refund_is_refused_like_an_api_one(stripe_emulator, intent_id):
    stripe_emulator.refund_from_dashboard(intent_id)

    with pytest.raises(ApiError) as raised:
        stripe_emulator.refund_from_dashboard(intent_id, 1)

    assert raised.value.code == "charge_already_refunded"
    with pytest.raises(KeyError):
        stripe_emulator.refund_from_dashboard("pi_nope")


# --- the application fee ------------------------------------------------------------------------


def test_refunding_the_application_fee_refunds_it_in_proportion(stripe_emulator, client):
    intent = paid_session(stripe_emulator, client, payment_intent_data=with_fee(1000))[
        "payment_intent"
    ]
    fee_id = charge_of(stripe_emulator, intent)["application_fee"]

    refund(client, intent, amount=2500, refund_application_fee=True)
    partly = stripe_emulator.application_fee(fee_id)
    refund(client, intent, amount=2500)  # the fee stays
    refund(client, intent, refund_application_fee=True)
    fully = stripe_emulator.application_fee(fee_id)

    assert (partly["amount_refunded"], partly["refunded"]) == (250, False)
    assert (fully["amount_refunded"], fully["refunded"]) == (1000, True)
    assert [r["amount"] for r in fully["refunds"]["data"]] == [750, 250]
    refunded = events_of(stripe_emulator, "application_fee.refunded")
    assert len(refunded) == 2
    assert "account" not in refunded[0]  # the platform's own event


# --- delivery and control ----------------------------------------------------------------------


def test_refund_events_are_delivered_signed(stripe_emulator, client, webhook_receiver, intent_id):
    stripe_emulator.configure_webhook(webhook_receiver.url, WEBHOOK_SECRET)
    created = refund(client, intent_id, amount=100)
    stripe_emulator.fail_refund(created.id)

    stripe_emulator.drain_webhooks()

    delivered = [
        stripe.Webhook.construct_event(r.body, r.headers["Stripe-Signature"], WEBHOOK_SECRET)
        for r in webhook_receiver.received
    ]
    assert [(e.type, e.account) for e in delivered] == [
        ("refund.created", SHOP),
        ("charge.refunded", SHOP),
        ("refund.failed", SHOP),
        ("refund.updated", SHOP),
    ]


def test_refunds_can_be_driven_over_http(stripe_emulator, intent_id):
    base = f"{stripe_emulator.url}/_emulator"

    pending = requests.post(f"{base}/refunds_start_pending", json={"times": 2}, timeout=5)
    made = requests.post(
        f"{base}/refunds", json={"payment_intent": intent_id, "amount": 100}, timeout=5
    ).json()
    other = requests.post(
        f"{base}/refunds", json={"payment_intent": intent_id, "amount": 200}, timeout=5
    ).json()
    settled = requests.post(f"{base}/refunds/{made['id']}/settle", timeout=5).json()
    failed = requests.post(
        f"{base}/refunds/{other['id']}/fail", json={"failure_reason": "declined"}, timeout=5
    ).json()
    listed = requests.get(f"{base}/refunds", timeout=5).json()["data"]
    one = requests.get(f"{base}/refunds/{made['id']}", timeout=5).json()

    assert pending.status_code == 200
    assert (made["status"], other["status"]) == ("pending", "pending")
    assert settled["status"] == "succeeded"
    assert (failed["status"], failed["failure_reason"]) == ("failed", "declined")
    assert [r["id"] for r in listed] == [made["id"], other["id"]]
    assert (one["account"], one["object"]["status"]) == (SHOP, "succeeded")


def test_an_out_of_process_emulator_drives_a_refund_that_fails(webhook_receiver):
    command = [sys.executable, "-m", "stripe_emulator", "--port", "0"]
    command += ["--webhook-url", webhook_receiver.url, "--webhook-secret", WEBHOOK_SECRET]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split("listening on ")[1].split()[0]
        client = stripe.StripeClient("sk_test_emulator", base_addresses={"api": url})
        session = create_hosted(client)
        paid = requests.post(f"{url}/_emulator/sessions/{session.id}/complete", timeout=5).json()
        made = refund(client, paid["payment_intent"], amount=100)
        requests.post(f"{url}/_emulator/refunds/{made.id}/fail", timeout=5)
        drained = requests.post(f"{url}/_emulator/webhook/drain", json={}, timeout=15).json()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        process.stdout.close()

    assert [record["event_type"] for record in drained["data"]] == [
        "checkout.session.completed",
        "refund.created",
        "charge.refunded",
        "refund.failed",
        "refund.updated",
    ]


def test_refusals_over_http_answer_stripes_error(stripe_emulator, intent_id):
    base = f"{stripe_emulator.url}/_emulator"

    too_much = requests.post(
        f"{base}/refunds", json={"payment_intent": intent_id, "amount": 10001}, timeout=5
    )
    unknown = requests.post(f"{base}/refunds", json={"payment_intent": "pi_nope"}, timeout=5)
    settle_missing = requests.post(f"{base}/refunds/re_nope/settle", timeout=5)
    bad_reason = requests.post(
        f"{base}/refunds", json={"payment_intent": intent_id, "reason": "bored"}, timeout=5
    )

    assert too_much.status_code == 400
    assert too_much.json()["error"]["param"] == "amount"
    assert unknown.status_code == 404
    assert settle_missing.status_code == 404
    assert bad_reason.status_code == 400
