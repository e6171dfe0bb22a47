"""Webhook events from the emulator: their shape, signature, delivery, retries and draining."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
import stripe

from stripe_emulator.webhooks import sign_payload
from tests.support.emulator import WEBHOOK_SECRET
from tests.support.stripe_sdk import (
    REPO_ROOT,
    SHOP,
    STRIPE_FIXTURES,
    hosted_params,
)

NO_DELAY = (0.0, 0.0, 0.0)


@pytest.fixture
def webhook(stripe_emulator, webhook_receiver):
    """The emulator sending every event to the receiver, retrying without delay."""
    stripe_emulator.configure_webhook(webhook_receiver.url, WEBHOOK_SECRET, retry_delays=NO_DELAY)
    return webhook_receiver


def create(client: stripe.StripeClient, account: str | None = SHOP):
    options = {"stripe_account": account} if account else None
    return client.v1.checkout.sessions.create(params=hosted_params(), options=options)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhooks"


# --- signing ----------------------------------------------------------------------------


def test_sign_payload_is_stripes_scheme():
    payload = b'{"id":"evt_1"}'

    header = sign_payload(payload, "whsec_abc", timestamp=1_700_000_000)

    expected = hmac.new(b"whsec_abc", b"1700000000." + payload, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_sign_payload_defaults_to_now_and_verifies_with_the_sdk():
    payload = json.dumps({"id": "evt_1", "object": "event"}).encode()

    header = sign_payload(payload, WEBHOOK_SECRET)

    assert abs(int(header.split(",")[0].removeprefix("t=")) - time.time()) < 5
    event = stripe.Webhook.construct_event(payload, header, WEBHOOK_SECRET)
    assert event.id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, "whsec_other")


# --- event shape ------------------------------------------------------------------------


@pytest.mark.skipif(not STRIPE_FIXTURES.exists(), reason="Stripe's fixtures3.json is not here")
def test_events_have_the_shape_of_stripes_event_fixture(stripe_emulator, client):
    fixture = json.loads(STRIPE_FIXTURES.read_text())["resources"]["event"]
    session = create(client)

    stripe_emulator.complete_session(session.id)

    (event,) = stripe_emulator.events
    assert set(event) == set(fixture) | {"account"}
    assert set(event["request"]) == set(fixture["request"])
    assert event["id"].startswith("evt_")
    assert event["object"] == "event"
    assert event["api_version"] == stripe.api_version
    assert event["livemode"] is False
    assert event["data"]["object"] == stripe_emulator.session(session.id)


def test_pending_webhooks_counts_the_endpoint(stripe_emulator, client, webhook_receiver):
    before = create(client)
    stripe_emulator.complete_session(before.id)
    stripe_emulator.configure_webhook(webhook_receiver.url, WEBHOOK_SECRET)
    after = create(client)
    stripe_emulator.complete_session(after.id)

    stripe_emulator.drain_webhooks()

    assert [event["pending_webhooks"] for event in stripe_emulator.events] == [0, 1]
    # An endpoint gets only the events emitted after it was configured, as on Stripe.
    (delivered,) = webhook_receiver.received
    assert json.loads(delivered.body)["data"]["object"]["id"] == after.id


# --- delivery -----------------------------------------------------------------------------


def test_delivered_event_is_signed_and_carries_the_connected_account(
    stripe_emulator, client, webhook
):
    session = create(client)
    stripe_emulator.complete_session(session.id)

    (record,) = stripe_emulator.drain_webhooks()

    (request,) = webhook.received
    assert request.method == "POST"
    assert request.path == "/webhooks/stripe"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    event = stripe.Webhook.construct_event(
        request.body, request.headers["Stripe-Signature"], WEBHOOK_SECRET
    )
    assert event.type == "checkout.session.completed"
    assert event.account == SHOP
    assert event.data.object.id == session.id
    assert json.loads(request.body) == stripe_emulator.events[0]
    assert request.body == json.dumps(stripe_emulator.events[0], separators=(",", ":")).encode()
    assert (record.event_id, record.event_type, record.account) == (event.id, event.type, SHOP)
    assert (record.attempt, record.status, record.error) == (1, 200, None)
    assert record.succeeded
    assert record.will_retry is False


def test_signatures_use_the_wall_clock_while_the_emulator_clock_is_frozen(
    stripe_emulator, client, webhook
):
    stripe_emulator.set_time(1_800_000_000)
    session = create(client)
    stripe_emulator.complete_session(session.id)

    stripe_emulator.drain_webhooks()

    (request,) = webhook.received
    event = stripe.Webhook.construct_event(
        request.body, request.headers["Stripe-Signature"], WEBHOOK_SECRET
    )
    assert event.created == 1_800_000_000


def test_every_kind_of_event_is_delivered_in_order(stripe_emulator, client, webhook):
    paid, delayed, failed, expired = (create(client) for _ in range(4))
    stripe_emulator.complete_session(paid.id)
    stripe_emulator.complete_session(delayed.id, payment_status="unpaid")
    stripe_emulator.settle_async_payment(delayed.id, succeeded=True)
    stripe_emulator.complete_session(failed.id, payment_status="unpaid")
    stripe_emulator.settle_async_payment(failed.id, succeeded=False)
    client.v1.checkout.sessions.expire(expired.id, options={"stripe_account": SHOP})

    records = stripe_emulator.drain_webhooks()

    delivered = [json.loads(request.body) for request in webhook.received]
    assert [(e["type"], e["data"]["object"]["id"]) for e in delivered] == [
        ("checkout.session.completed", paid.id),
        ("checkout.session.completed", delayed.id),
        ("checkout.session.async_payment_succeeded", delayed.id),
        ("checkout.session.completed", failed.id),
        ("checkout.session.async_payment_failed", failed.id),
        ("checkout.session.expired", expired.id),
    ]
    assert [r.event_id for r in records] == [e["id"] for e in stripe_emulator.events]


def test_a_500_is_retried_until_it_succeeds(stripe_emulator, client, webhook):
    webhook.respond_with(500)
    session = create(client)
    stripe_emulator.complete_session(session.id)

    first, second = stripe_emulator.drain_webhooks()

    assert (first.attempt, first.status, first.will_retry) == (1, 500, True)
    assert (second.attempt, second.status, second.will_retry) == (2, 200, False)
    assert first.event_id == second.event_id
    assert first.delivered_at <= second.delivered_at
    bodies = [request.body for request in webhook.received]
    assert bodies[0] == bodies[1]


def test_retries_wait_the_configured_delays(stripe_emulator, client, webhook_receiver):
    stripe_emulator.configure_webhook(webhook_receiver.url, WEBHOOK_SECRET, retry_delays=(0.3,))
    webhook_receiver.respond_with(503)
    stripe_emulator.complete_session(create(client).id)

    first, second = stripe_emulator.drain_webhooks()

    assert second.delivered_at - first.delivered_at >= 0.3


def test_a_400_is_not_retried(stripe_emulator, client, webhook):
    webhook.respond_with(400)
    stripe_emulator.complete_session(create(client).id)

    (record,) = stripe_emulator.drain_webhooks()

    assert (record.attempt, record.status, record.will_retry) == (1, 400, False)
    assert not record.succeeded
    assert len(webhook.received) == 1


def test_an_event_is_given_up_after_max_attempts(stripe_emulator, client, webhook_receiver):
    stripe_emulator.configure_webhook(
        webhook_receiver.url, WEBHOOK_SECRET, retry_delays=NO_DELAY, max_attempts=2
    )
    webhook_receiver.respond_with(500, 502, 200)
    stripe_emulator.complete_session(create(client).id)
    stripe_emulator.complete_session(create(client).id)

    records = stripe_emulator.drain_webhooks()

    assert [(r.attempt, r.status, r.will_retry) for r in records] == [
        (1, 500, True),
        (2, 502, False),
        (1, 200, False),
    ]


def test_connection_errors_are_retried_and_recorded(stripe_emulator, client):
    url = closed_port_url()
    stripe_emulator.configure_webhook(url, WEBHOOK_SECRET, retry_delays=(0.0,))
    stripe_emulator.complete_session(create(client).id)

    records = stripe_emulator.drain_webhooks()

    assert [(r.attempt, r.status, r.will_retry) for r in records] == [
        (1, None, True),
        (2, None, False),
    ]
    assert "ConnectionRefusedError" in records[0].error
    assert records[0].url == url


def test_drain_raises_when_events_are_still_undelivered(stripe_emulator, client, webhook_receiver):
    stripe_emulator.configure_webhook(webhook_receiver.url, WEBHOOK_SECRET, retry_delays=(30.0,))
    webhook_receiver.respond_with(500)
    stripe_emulator.complete_session(create(client).id)

    with pytest.raises(TimeoutError, match=r"1 webhook event\(s\) still undelivered"):
        stripe_emulator.drain_webhooks(timeout=0.5)


def test_drain_with_nothing_queued_returns_at_once(stripe_emulator):
    assert stripe_emulator.drain_webhooks(timeout=0.01) == []


def test_reset_drops_undelivered_events_deliveries_and_the_endpoint(
    stripe_emulator, client, webhook_receiver
):
    stripe_emulator.configure_webhook(webhook_receiver.url, WEBHOOK_SECRET, retry_delays=(30.0,))
    webhook_receiver.respond_with(500)
    stripe_emulator.complete_session(create(client).id)
    webhook_receiver.wait_for(1)

    stripe_emulator.reset()

    assert stripe_emulator.drain_webhooks(timeout=1) == []
    assert stripe_emulator.events == []
    assert stripe_emulator.webhooks.endpoint is None
    stripe_emulator.complete_session(create(client).id)
    assert stripe_emulator.drain_webhooks(timeout=1) == []


def test_webhook_config_is_validated(stripe_emulator):
    with pytest.raises(ValueError, match="http"):
        stripe_emulator.configure_webhook("ftp://example.test/hook", WEBHOOK_SECRET)
    with pytest.raises(ValueError, match="secret"):
        stripe_emulator.configure_webhook("http://127.0.0.1:1/hook", "")


# --- control API and command --------------------------------------------------------------


def test_webhook_can_be_configured_and_drained_over_http(stripe_emulator, client, webhook_receiver):
    base = f"{stripe_emulator.url}/_emulator"
    configured = requests.post(
        f"{base}/webhook",
        json={"url": webhook_receiver.url, "secret": WEBHOOK_SECRET, "retry_delays": [0]},
        timeout=5,
    )
    webhook_receiver.respond_with(500)
    session = create(client)
    requests.post(f"{base}/sessions/{session.id}/complete", timeout=5)

    drained = requests.post(f"{base}/webhook/drain", json={"timeout": 5}, timeout=10)

    assert configured.status_code == 200
    assert configured.json()["endpoint"]["url"] == webhook_receiver.url
    assert [(r["attempt"], r["status"]) for r in drained.json()["data"]] == [(1, 500), (2, 200)]
    assert drained.json()["data"][1]["account"] == SHOP
    listed = requests.get(f"{base}/webhook/deliveries", timeout=5).json()["data"]
    assert listed == drained.json()["data"]
    events = requests.get(f"{base}/events", timeout=5).json()["data"]
    assert [event["type"] for event in events] == ["checkout.session.completed"]
    assert requests.delete(f"{base}/webhook", timeout=5).json() == {"endpoint": None}
    assert requests.get(f"{base}/webhook", timeout=5).json() == {"endpoint": None}


def test_webhook_configuration_over_http_rejects_bad_input(stripe_emulator):
    response = requests.post(
        f"{stripe_emulator.url}/_emulator/webhook", json={"url": "http://x.test/"}, timeout=5
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "secret is required"


def test_the_module_delivers_events_to_its_webhook_url(webhook_receiver):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "stripe_emulator",
        "--port",
        "0",
        "--webhook-url",
        webhook_receiver.url,
        "--webhook-secret",
        WEBHOOK_SECRET,
    ]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split("listening on ")[1].split()[0]
        assert webhook_receiver.url in process.stdout.readline()
        client = stripe.StripeClient("sk_test_emulator", base_addresses={"api": url})
        session = client.v1.checkout.sessions.create(
            params=hosted_params(), options={"stripe_account": SHOP}
        )
        requests.post(f"{url}/_emulator/sessions/{session.id}/complete", timeout=5)

        (request,) = webhook_receiver.wait_for(1)
    finally:
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=10)
        process.stdout.close()

    event = stripe.Webhook.construct_event(
        request.body, request.headers["Stripe-Signature"], WEBHOOK_SECRET
    )
    assert (event.type, event.account) == ("checkout.session.completed", SHOP)
    assert returncode == 0
