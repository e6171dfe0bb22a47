"""--state-file: a restarted emulator answers for what it handed out before, as Stripe would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import stripe

from stripe_emulator import StripeEmulator
from tests.support.emulator import WebhookReceiver
from tests.support.stripe_sdk import SHOP, create_hosted, hosted_params, make_client

ROOT = Path(__file__).resolve().parent.parent.parent
ON_SHOP = {"stripe_account": SHOP}


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "stripe-emulator.json"


def create_with_key(client: stripe.StripeClient, key: str):
    return client.v1.checkout.sessions.create(
        params=hosted_params(), options={**ON_SHOP, "idempotency_key": key}
    )


def test_a_restarted_emulator_remembers_sessions_payments_events_and_keys(state_file):
    with StripeEmulator(state_file=state_file) as first:
        session = create_with_key(make_client(first), "booking-1")
        first.complete_session(session.id, customer_email="kund@example.se")

    with StripeEmulator(state_file=state_file) as restarted:
        client = make_client(restarted)
        paid = client.v1.checkout.sessions.retrieve(session.id, options=ON_SHOP)
        intent = client.v1.payment_intents.retrieve(paid.payment_intent, options=ON_SHOP)
        events = client.v1.events.list(options=ON_SHOP).data
        replayed = create_with_key(client, "booking-1")

    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.customer_details.email == "kund@example.se"
    assert intent.status == "succeeded"
    assert [event.type for event in events] == ["checkout.session.completed"]
    assert replayed.id == session.id


def test_an_endpoint_created_before_a_restart_still_gets_events_signed_with_its_secret(
    state_file,
):
    with StripeEmulator(state_file=state_file) as first, WebhookReceiver() as receiver:
        endpoint = make_client(first).v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["*"], "connect": True}
        )
        first.stop()

        with StripeEmulator(state_file=state_file) as restarted:
            restarted.complete_session(create_hosted(make_client(restarted)).id)
            (delivery,) = receiver.wait_for(1)

    event = stripe.Webhook.construct_event(
        delivery.body, delivery.headers["Stripe-Signature"], endpoint.secret
    )
    assert (event.type, event.account) == ("checkout.session.completed", SHOP)


def test_the_state_is_saved_after_every_request_not_only_on_a_clean_stop(state_file):
    with StripeEmulator(state_file=state_file) as running:
        session = create_hosted(make_client(running))
        assert state_file.exists()

        # A second emulator reading the file now stands in for one started after a crash.
        with StripeEmulator(state_file=state_file) as after_a_crash:
            found = make_client(after_a_crash).v1.checkout.sessions.retrieve(
                session.id, options=ON_SHOP
            )

    assert found.status == "open"


def test_the_command_refuses_a_file_that_is_not_its_state(state_file):
    state_file.write_text('{"sessions": []}')

    result = subprocess.run(
        [sys.executable, "-m", "stripe_emulator", "--port", "0", "--state-file", str(state_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert "is not a state file of this emulator" in result.stderr
    assert state_file.read_text() == '{"sessions": []}'


def test_a_session_from_before_a_restart_still_expires_by_itself_when_due(state_file):
    now = 1_900_000_000
    with StripeEmulator(state_file=state_file) as first:
        first.set_time(now)
        session = create_hosted(make_client(first), expires_at=now + 3600)

    with StripeEmulator(state_file=state_file) as restarted:
        restarted.set_time(now + 3600)
        expired = restarted.session(session.id)

    assert expired["status"] == "expired"
