"""The emulator's Checkout Session lifecycle: paying, delayed payments, expiring, and events."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from stripe_emulator.lifecycle import SessionStateError
from tests.support.stripe_sdk import (
    NOW,
    SHOP,
    create_hosted,
    embedded_params,
    hosted_params,
)


def control(emulator, path: str, json=None) -> requests.Response:
    return requests.post(f"{emulator.url}/_emulator{path}", json=json, timeout=5)


def event_types(emulator) -> list[str]:
    return [event["type"] for event in emulator.events]


# --- completing -------------------------------------------------------------------------


def test_completing_in_python_fills_the_payment_and_emits_completed(stripe_emulator, client):
    session = create_hosted(client)

    completed = stripe_emulator.complete_session(session.id, customer_email="anna@example.se")

    assert (completed["status"], completed["payment_status"]) == ("complete", "paid")
    assert completed["payment_intent"].startswith("pi_")
    assert completed["customer"].startswith("cus_")
    assert completed["customer_details"]["email"] == "anna@example.se"
    assert completed["customer_details"]["name"]
    assert completed["url"] is None
    (event,) = stripe_emulator.events
    assert event["type"] == "checkout.session.completed"
    assert event["account"] == SHOP
    assert event["data"]["object"] == completed
    assert event["request"] == {"id": None, "idempotency_key": None}


def test_the_sdk_sees_the_completed_session(stripe_emulator, client):
    session = create_hosted(client, customer_email="kund@example.se")

    stripe_emulator.complete_session(session.id)

    retrieved = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": SHOP})
    assert (retrieved.status, retrieved.payment_status) == ("complete", "paid")
    assert retrieved.customer_details.email == "kund@example.se"
    assert retrieved.url is None


def test_completing_over_http_takes_payment_status_and_email(stripe_emulator, client):
    session = create_hosted(client)

    response = control(
        stripe_emulator,
        f"/sessions/{session.id}/complete",
        {"payment_status": "unpaid", "customer_email": "bo@example.se"},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["payment_status"]) == ("complete", "unpaid")
    assert body["customer_details"]["email"] == "bo@example.se"
    assert stripe_emulator.session(session.id)["payment_status"] == "unpaid"
    assert event_types(stripe_emulator) == ["checkout.session.completed"]


def test_completing_over_http_without_a_body_pays(stripe_emulator, client):
    session = create_hosted(client)

    response = requests.post(
        f"{stripe_emulator.url}/_emulator/sessions/{session.id}/complete", timeout=5
    )

    assert response.status_code == 200
    assert response.json()["payment_status"] == "paid"


def test_only_open_sessions_can_be_completed(stripe_emulator, client):
    session = create_hosted(client)
    stripe_emulator.complete_session(session.id)

    with pytest.raises(SessionStateError, match="only open sessions"):
        stripe_emulator.complete_session(session.id)
    response = control(stripe_emulator, f"/sessions/{session.id}/complete")

    assert response.status_code == 400
    assert "is complete; only open sessions can be completed" in response.json()["error"]["message"]
    assert event_types(stripe_emulator) == ["checkout.session.completed"]


def test_an_expired_session_cannot_be_completed(stripe_emulator, client):
    session = create_hosted(client)
    client.v1.checkout.sessions.expire(session.id, options={"stripe_account": SHOP})

    response = control(stripe_emulator, f"/sessions/{session.id}/complete")

    assert response.status_code == 400
    assert "is expired" in response.json()["error"]["message"]


def test_completing_an_unknown_session_is_a_404(stripe_emulator):
    with pytest.raises(KeyError):
        stripe_emulator.complete_session("cs_test_nope")

    response = control(stripe_emulator, "/sessions/cs_test_nope/complete")

    assert response.status_code == 404


def test_completing_with_an_unknown_payment_status_is_a_400(stripe_emulator, client):
    session = create_hosted(client)

    response = control(
        stripe_emulator, f"/sessions/{session.id}/complete", {"payment_status": "maybe"}
    )

    assert response.status_code == 400
    assert stripe_emulator.session(session.id)["status"] == "open"


def test_a_session_naming_a_customer_keeps_it(stripe_emulator, client):
    session = client.v1.checkout.sessions.create(
        params=hosted_params(customer="cus_Existing1"), options={"stripe_account": SHOP}
    )

    assert stripe_emulator.complete_session(session.id)["customer"] == "cus_Existing1"


def test_cancelling_is_only_navigation_the_session_stays_open(stripe_emulator, client):
    session = create_hosted(client)

    returned = stripe_emulator.cancel_session(session.id)
    response = control(stripe_emulator, f"/sessions/{session.id}/cancel")

    assert returned["status"] == "open"
    assert response.status_code == 200
    assert stripe_emulator.session(session.id)["status"] == "open"
    assert stripe_emulator.events == []


# --- delayed payments -------------------------------------------------------------------


def test_a_delayed_payment_that_succeeds_makes_the_session_paid(stripe_emulator, client):
    session = create_hosted(client)
    stripe_emulator.complete_session(session.id, payment_status="unpaid")

    settled = stripe_emulator.settle_async_payment(session.id, succeeded=True)

    assert (settled["status"], settled["payment_status"]) == ("complete", "paid")
    assert event_types(stripe_emulator) == [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ]
    assert stripe_emulator.events[-1]["data"]["object"]["payment_status"] == "paid"


def test_a_delayed_payment_that_fails_leaves_it_unpaid_and_is_final(stripe_emulator, client):
    session = create_hosted(client)
    stripe_emulator.complete_session(session.id, payment_status="unpaid")

    response = control(
        stripe_emulator, f"/sessions/{session.id}/async_payment", {"succeeded": False}
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payment_status"]) == ("complete", "unpaid")
    assert event_types(stripe_emulator)[-1] == "checkout.session.async_payment_failed"
    with pytest.raises(SessionStateError):
        stripe_emulator.settle_async_payment(session.id, succeeded=True)


def test_only_a_complete_unpaid_session_can_be_settled(stripe_emulator, client):
    open_session = create_hosted(client)
    paid = create_hosted(client)
    stripe_emulator.complete_session(paid.id)

    for session_id in (open_session.id, paid.id):
        response = control(stripe_emulator, f"/sessions/{session_id}/async_payment")
        assert response.status_code == 400
        assert "no pending delayed payment" in response.json()["error"]["message"]
    assert event_types(stripe_emulator) == ["checkout.session.completed"]


def test_async_payment_needs_a_boolean(stripe_emulator, client):
    session = create_hosted(client)
    stripe_emulator.complete_session(session.id, payment_status="unpaid")

    response = control(
        stripe_emulator, f"/sessions/{session.id}/async_payment", {"succeeded": "no"}
    )

    assert response.status_code == 400
    assert stripe_emulator.session(session.id)["payment_status"] == "unpaid"


# --- expiring -----------------------------------------------------------------------------


def test_expiring_through_the_api_emits_expired_naming_the_request(stripe_emulator, client):
    session = create_hosted(client)

    client.v1.checkout.sessions.expire(
        session.id, options={"stripe_account": SHOP, "idempotency_key": "expire-1"}
    )

    (event,) = stripe_emulator.events
    (request,) = stripe_emulator.requests_to("POST", r"/v1/checkout/sessions/.+/expire")
    assert event["type"] == "checkout.session.expired"
    assert event["account"] == SHOP
    assert event["data"]["object"]["status"] == "expired"
    assert event["data"]["object"]["url"] is None
    assert event["request"] == {"id": request.request_id, "idempotency_key": "expire-1"}


def test_an_idempotent_replay_of_expire_emits_no_second_event(stripe_emulator, client):
    session = create_hosted(client)
    options = {"stripe_account": SHOP, "idempotency_key": "expire-1"}

    client.v1.checkout.sessions.expire(session.id, options=options)
    client.v1.checkout.sessions.expire(session.id, options=options)

    assert event_types(stripe_emulator) == ["checkout.session.expired"]


def test_a_session_expires_by_itself_when_the_clock_reaches_expires_at(stripe_emulator, client):
    stripe_emulator.set_time(NOW)
    session = create_hosted(client, expires_at=NOW + 3600)

    stripe_emulator.set_time(NOW + 3599)
    assert stripe_emulator.session(session.id)["status"] == "open"
    stripe_emulator.set_time(NOW + 3600)

    assert stripe_emulator.session(session.id)["status"] == "expired"
    (event,) = stripe_emulator.events
    assert event["type"] == "checkout.session.expired"
    assert event["created"] == NOW + 3600
    assert event["request"] == {"id": None, "idempotency_key": None}
    assert event["account"] == SHOP


def test_due_sessions_expire_in_expires_at_order(stripe_emulator, client):
    stripe_emulator.set_time(NOW)
    later = create_hosted(client, expires_at=NOW + 7200)
    sooner = create_hosted(client, expires_at=NOW + 3600)
    paid = create_hosted(client, expires_at=NOW + 1800)
    stripe_emulator.complete_session(paid.id)

    stripe_emulator.set_time(NOW + 86_400)

    expired = [e["data"]["object"]["id"] for e in stripe_emulator.events[1:]]
    assert expired == [sooner.id, later.id]
    assert stripe_emulator.session(paid.id)["status"] == "complete"


def test_expire_due_sessions_over_http_expires_nothing_that_is_not_due(stripe_emulator, client):
    session = create_hosted(client)

    response = control(stripe_emulator, "/expire_due")

    assert response.json() == {"expired": []}
    assert stripe_emulator.expire_due_sessions() == []
    assert stripe_emulator.session(session.id)["status"] == "open"


def test_the_background_checker_expires_sessions_on_a_running_clock(stripe_emulator, client):
    # Created "30 minutes ago" so it falls due one second from now, by the real clock.
    start = int(time.time()) - 1799
    stripe_emulator.set_time(start)
    session = create_hosted(client, expires_at=start + 1800)
    stripe_emulator.set_time(None)

    event = stripe_emulator.wait_for_event("checkout.session.expired", session.id, timeout=5)

    assert event["data"]["object"]["id"] == session.id
    assert event["created"] >= start + 1800


def test_wait_for_event_times_out(stripe_emulator):
    with pytest.raises(TimeoutError, match=r"no checkout.session.completed event"):
        stripe_emulator.wait_for_event("checkout.session.completed", timeout=0.05)


def test_embedded_sessions_complete_and_expire_the_same_way(stripe_emulator, client):
    session = client.v1.checkout.sessions.create(params=embedded_params())

    stripe_emulator.complete_session(session.id)

    (event,) = stripe_emulator.events
    assert "account" not in event  # a platform session: not a Connect event
    assert event["data"]["object"]["client_secret"] == session.client_secret


# --- events API ----------------------------------------------------------------------------


def test_events_can_be_retrieved_with_the_sdk_on_their_account(stripe_emulator, client):
    session = create_hosted(client)
    stripe_emulator.complete_session(session.id)
    (event,) = stripe_emulator.events

    retrieved = client.v1.events.retrieve(event["id"], options={"stripe_account": SHOP})

    assert retrieved.type == "checkout.session.completed"
    assert retrieved.data.object.id == session.id
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.events.retrieve(event["id"])
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"


def test_events_list_newest_first_filtered_by_type(stripe_emulator, client):
    first, second, other = (
        create_hosted(client),
        create_hosted(client),
        create_hosted(client, account="acct_1Other"),
    )
    stripe_emulator.complete_session(first.id)
    client.v1.checkout.sessions.expire(second.id, options={"stripe_account": SHOP})
    stripe_emulator.complete_session(other.id)
    options = {"stripe_account": SHOP}

    everything = client.v1.events.list(options=options)
    completed = client.v1.events.list(
        params={"type": "checkout.session.completed"}, options=options
    )
    wildcard = client.v1.events.list(params={"type": "checkout.session.*"}, options=options)

    assert [e.type for e in everything.data] == [
        "checkout.session.expired",
        "checkout.session.completed",
    ]
    assert [e.data.object.id for e in completed.data] == [first.id]
    assert len(wildcard.data) == 2
    assert client.v1.events.list().data == []


def test_events_list_pages_with_limit_and_starting_after(stripe_emulator, client):
    sessions = [create_hosted(client) for _ in range(3)]
    for session in sessions:
        stripe_emulator.complete_session(session.id)
    options = {"stripe_account": SHOP}

    page = client.v1.events.list(params={"limit": 2}, options=options)
    rest = client.v1.events.list(
        params={"limit": 2, "starting_after": page.data[-1].id}, options=options
    )

    assert page.has_more is True
    assert [e.data.object.id for e in page.data + rest.data] == [s.id for s in reversed(sessions)]
    assert rest.has_more is False
