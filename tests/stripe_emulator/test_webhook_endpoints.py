"""Webhook endpoints created through the API, and which events each one is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
import stripe

from tests.support.emulator import WEBHOOK_SECRET, WebhookReceiver
from tests.support.stripe_sdk import SHOP, STRIPE_FIXTURES, create_hosted

COMPLETED = "checkout.session.completed"
EXPIRED = "checkout.session.expired"


@pytest.fixture
def other_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def create_endpoint(client: stripe.StripeClient, url: str, account: str | None = None, **params):
    options = {"stripe_account": account} if account else None
    return client.v1.webhook_endpoints.create(
        params={"url": url, "enabled_events": ["*"], **params}, options=options
    )


def delivered(receiver: WebhookReceiver, secret: str) -> list[tuple[str, str | None]]:
    """(type, account) of every event the receiver got, each verified with `secret`."""
    events = [
        stripe.Webhook.construct_event(r.body, r.headers["Stripe-Signature"], secret)
        for r in receiver.received
    ]
    return [(event.type, event.to_dict().get("account")) for event in events]


def endpoint_error(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call()
    return raised.value


# --- the API ---------------------------------------------------------------------------------


def test_create_answers_the_endpoint_with_its_secret_once(client):
    created = create_endpoint(
        client,
        "https://shop.example/hooks",
        enabled_events=["checkout.session.completed"],
        description="Bookings",
        metadata={"team": "payments"},
    )

    assert created.id.startswith("we_")
    assert created.object == "webhook_endpoint"
    assert created.secret.startswith("whsec_")
    assert (created.status, created.url) == ("enabled", "https://shop.example/hooks")
    assert created.enabled_events == ["checkout.session.completed"]
    assert (created.description, created.metadata.to_dict()) == ("Bookings", {"team": "payments"})
    retrieved = client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in retrieved.to_dict()
    assert retrieved.to_dict() == {k: v for k, v in created.to_dict().items() if k != "secret"}


@pytest.mark.skipif(not STRIPE_FIXTURES.exists(), reason="Stripe's fixtures3.json is not here")
def test_endpoint_has_the_fields_of_stripes_fixture(client):
    fixture = json.loads(STRIPE_FIXTURES.read_text())["resources"]["webhook_endpoint"]

    created = create_endpoint(client, "https://shop.example/hooks")

    assert set(created.to_dict()) == set(fixture) | {"secret"}


def test_create_refuses_an_unknown_event_type_and_a_bad_url(client):
    unknown = endpoint_error(
        lambda: create_endpoint(client, "https://shop.example/h", enabled_events=["nope"])
    )
    bad_url = endpoint_error(lambda: create_endpoint(client, "not a url"))
    missing = endpoint_error(
        lambda: client.v1.webhook_endpoints.create(params={"enabled_events": ["*"]})
    )

    assert (unknown.code, unknown.param) == ("parameter_invalid_string", "enabled_events[0]")
    assert (bad_url.code, bad_url.param) == ("url_invalid", "url")
    assert (missing.code, missing.param) == ("parameter_missing", "url")


def test_update_changes_url_events_status_description_and_merges_metadata(client):
    created = create_endpoint(
        client, "https://shop.example/a", description="Old", metadata={"a": "1", "b": "2"}
    )

    updated = client.v1.webhook_endpoints.update(
        created.id,
        params={
            "url": "https://shop.example/b",
            "enabled_events": ["checkout.session.expired"],
            "disabled": True,
            "description": "",
            "metadata": {"b": "", "c": "3"},
        },
    )

    assert updated.url == "https://shop.example/b"
    assert updated.enabled_events == ["checkout.session.expired"]
    assert updated.status == "disabled"
    assert updated.description is None
    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}
    enabled = client.v1.webhook_endpoints.update(created.id, params={"disabled": False})
    assert enabled.status == "enabled"


def test_delete_removes_the_endpoint(client):
    created = create_endpoint(client, "https://shop.example/hooks")

    deleted = client.v1.webhook_endpoints.delete(created.id)

    assert (deleted.id, deleted.deleted) == (created.id, True)
    error = endpoint_error(lambda: client.v1.webhook_endpoints.retrieve(created.id))
    assert (error.http_status, error.code) == (404, "resource_missing")
    assert error.user_message == f"No such webhook_endpoint: '{created.id}'"


def test_list_is_newest_first_and_pages_on_the_callers_account(client):
    ids = [create_endpoint(client, f"https://shop.example/{n}").id for n in range(3)]
    create_endpoint(client, "https://shop.example/shop", account=SHOP)

    first = client.v1.webhook_endpoints.list(params={"limit": 2})
    rest = client.v1.webhook_endpoints.list(params={"starting_after": first.data[-1].id})

    assert [e.id for e in first.data + rest.data] == list(reversed(ids))
    assert (first.has_more, rest.has_more) == (True, False)
    assert len(client.v1.webhook_endpoints.list(options={"stripe_account": SHOP}).data) == 1
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.retrieve(ids[0], options={"stripe_account": SHOP})


# --- delivery --------------------------------------------------------------------------------


def test_a_connect_endpoint_gets_connected_accounts_events_an_account_endpoint_the_platforms(
    stripe_emulator, client, webhook_receiver, other_receiver
):
    connect = create_endpoint(client, webhook_receiver.url, connect=True)
    platform = create_endpoint(client, other_receiver.url)
    stripe_emulator.complete_session(create_hosted(client, account=SHOP).id)
    stripe_emulator.complete_session(create_hosted(client, account=None).id)

    stripe_emulator.drain_webhooks()

    assert delivered(webhook_receiver, connect.secret) == [(COMPLETED, SHOP)]
    assert delivered(other_receiver, platform.secret) == [(COMPLETED, None)]


def test_an_endpoint_gets_only_its_enabled_events(stripe_emulator, client, webhook_receiver):
    endpoint = create_endpoint(client, webhook_receiver.url, connect=True, enabled_events=[EXPIRED])
    paid, expired = create_hosted(client), create_hosted(client)
    stripe_emulator.complete_session(paid.id)
    client.v1.checkout.sessions.expire(expired.id, options={"stripe_account": SHOP})

    stripe_emulator.drain_webhooks()

    assert delivered(webhook_receiver, endpoint.secret) == [(EXPIRED, SHOP)]


def test_a_disabled_or_deleted_endpoint_gets_nothing(stripe_emulator, client, webhook_receiver):
    disabled = create_endpoint(client, webhook_receiver.url, connect=True)
    deleted = create_endpoint(client, webhook_receiver.url, connect=True)
    client.v1.webhook_endpoints.update(disabled.id, params={"disabled": True})
    client.v1.webhook_endpoints.delete(deleted.id)

    stripe_emulator.complete_session(create_hosted(client).id)

    assert stripe_emulator.drain_webhooks() == []
    assert stripe_emulator.events[0]["pending_webhooks"] == 0


def test_an_account_endpoint_of_a_connected_account_gets_that_accounts_events(
    stripe_emulator, client, webhook_receiver
):
    endpoint = create_endpoint(client, webhook_receiver.url, account=SHOP)
    stripe_emulator.complete_session(create_hosted(client, account=SHOP).id)
    stripe_emulator.complete_session(create_hosted(client, account="acct_1Other").id)

    stripe_emulator.drain_webhooks()

    assert delivered(webhook_receiver, endpoint.secret) == [(COMPLETED, SHOP)]


def test_the_configured_webhook_gets_everything_beside_the_apis_endpoints(
    stripe_emulator, client, webhook_receiver, other_receiver
):
    stripe_emulator.configure_webhook(webhook_receiver.url, WEBHOOK_SECRET)
    endpoint = create_endpoint(client, other_receiver.url, connect=True)
    stripe_emulator.complete_session(create_hosted(client).id)
    stripe_emulator.complete_session(create_hosted(client, account=None).id)

    records = stripe_emulator.drain_webhooks()

    assert delivered(webhook_receiver, WEBHOOK_SECRET) == [(COMPLETED, SHOP), (COMPLETED, None)]
    assert delivered(other_receiver, endpoint.secret) == [(COMPLETED, SHOP)]
    assert [e["pending_webhooks"] for e in stripe_emulator.events] == [2, 1]
    assert [r.endpoint_id for r in records] == [None, endpoint.id, None]


def test_api_endpoints_are_retried_with_the_delivery_settings(
    stripe_emulator, client, webhook_receiver
):
    stripe_emulator.set_webhook_delivery((0.0,), max_attempts=3)
    create_endpoint(client, webhook_receiver.url, connect=True)
    webhook_receiver.respond_with(500, 503)
    stripe_emulator.complete_session(create_hosted(client).id)

    records = stripe_emulator.drain_webhooks()

    assert [record.status for record in records] == [500, 503, 200]
    assert records[-1].attempt == 3
    assert not records[-1].will_retry


def test_reset_forgets_the_endpoints(stripe_emulator, client, webhook_receiver):
    created = create_endpoint(client, webhook_receiver.url, connect=True)

    stripe_emulator.reset()
    stripe_emulator.complete_session(create_hosted(client).id)

    assert stripe_emulator.drain_webhooks() == []
    assert stripe_emulator.webhook_endpoints() == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.retrieve(created.id)


# --- control API -----------------------------------------------------------------------------


def test_endpoints_and_their_secrets_can_be_read_over_http(stripe_emulator, client):
    created = create_endpoint(client, "https://shop.example/hooks", account=SHOP, connect=False)

    listed = requests.get(f"{stripe_emulator.url}/_emulator/webhook_endpoints", timeout=5).json()

    (entry,) = listed["data"]
    assert (entry["account"], entry["connect"], entry["secret"]) == (SHOP, False, created.secret)
    assert entry["endpoint"]["id"] == created.id


def test_delivery_settings_can_be_set_over_http(stripe_emulator, client, webhook_receiver):
    response = requests.post(
        f"{stripe_emulator.url}/_emulator/webhook_delivery",
        json={"retry_delays": [0], "max_attempts": 2},
        timeout=5,
    )
    create_endpoint(client, webhook_receiver.url, connect=True)
    webhook_receiver.respond_with(500)
    stripe_emulator.complete_session(create_hosted(client).id)

    records = stripe_emulator.drain_webhooks()

    assert response.status_code == 200
    assert [(r.attempt, r.status) for r in records] == [(1, 500), (2, 200)]
    bad = requests.post(
        f"{stripe_emulator.url}/_emulator/webhook_delivery", json={"timeout": 0}, timeout=5
    )
    assert bad.status_code == 400
