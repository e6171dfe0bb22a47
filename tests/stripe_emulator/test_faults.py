"""Faults that fire after Stripe did the work, and hold gates for deterministic races."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
import stripe

from stripe_emulator import StripeEmulator
from tests.support.stripe_sdk import SESSIONS, SHOP, create_hosted, hosted_params, make_client

EXPIRE = r"/v1/checkout/sessions/.+/expire"


class Call:
    """Run one SDK call in a thread (it will be held); `result()` joins and returns or raises."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._outcome: list[Any] = []
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self._outcome.append(call())
        except Exception as error:
            self._outcome.append(error)

    def result(self, timeout: float = 5.0) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the call is still held"
        (outcome,) = self._outcome
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def sessions(emulator: StripeEmulator) -> list[str]:
    return [stored.session["id"] for stored in emulator.store.all_sessions()]


# --- after the work -----------------------------------------------------------------------


def test_error_after_work_creates_the_session_and_the_retry_gets_the_replay(stripe_emulator):
    stripe_emulator.inject_fault("error", method="POST", path=SESSIONS, after_work=True)
    client = make_client(stripe_emulator, retries=1)

    session = client.v1.checkout.sessions.create(params=hosted_params())

    first, retry = stripe_emulator.requests_to("POST", SESSIONS)
    assert (first.fault, first.status, first.handled_status) == ("error", 500, 200)
    assert (retry.status, retry.idempotent_replayed) == (200, True)
    assert first.idempotency_key == retry.idempotency_key
    assert session.last_response.headers["Idempotent-Replayed"] == "true"
    assert sessions(stripe_emulator) == [session.id]


def test_error_after_work_on_expire_emits_the_event_once(stripe_emulator, client):
    session = create_hosted(client)
    stripe_emulator.inject_fault("error", method="POST", path=EXPIRE, status=503, after_work=True)
    options = {"stripe_account": SHOP, "idempotency_key": "expire-1"}

    with pytest.raises(stripe.APIError) as raised:
        client.v1.checkout.sessions.expire(session.id, options=options)
    replayed = client.v1.checkout.sessions.expire(session.id, options=options)

    assert raised.value.http_status == 503
    assert replayed.status == "expired"
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    assert [e["type"] for e in stripe_emulator.events] == ["checkout.session.expired"]


def test_drop_after_work_closes_the_connection_after_creating(stripe_emulator, client):
    stripe_emulator.inject_fault("drop", method="POST", path=SESSIONS, after_work=True)
    options = {"idempotency_key": "create-1"}

    with pytest.raises(stripe.APIConnectionError):
        client.v1.checkout.sessions.create(params=hosted_params(), options=options)
    (created,) = sessions(stripe_emulator)
    retried = client.v1.checkout.sessions.create(params=hosted_params(), options=options)

    assert retried.id == created
    dropped, replayed = stripe_emulator.requests_to("POST", SESSIONS)
    assert (dropped.fault, dropped.status, dropped.handled_status) == ("drop", None, 200)
    assert replayed.idempotent_replayed is True


def test_timeout_after_work_holds_the_done_request_until_the_client_gives_up(stripe_emulator):
    stripe_emulator.inject_fault(
        "timeout", method="POST", path=SESSIONS, seconds=30, after_work=True
    )
    impatient = make_client(stripe_emulator, timeout=0.5)
    options = {"idempotency_key": "create-1"}

    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.checkout.sessions.create(params=hosted_params(), options=options)
    retried = make_client(stripe_emulator).v1.checkout.sessions.create(
        params=hosted_params(), options=options
    )

    assert sessions(stripe_emulator) == [retried.id]
    assert retried.last_response.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("kind", ["latency", "pass_through"])
def test_after_work_is_only_for_error_drop_and_timeout(stripe_emulator, kind):
    with pytest.raises(ValueError, match="after_work needs kind error, timeout, drop"):
        stripe_emulator.inject_fault(kind, after_work=True, hold=True)


# --- hold gates ---------------------------------------------------------------------------


def test_a_held_request_waits_at_the_gate_until_released(stripe_emulator, client):
    gate = stripe_emulator.inject_fault("pass_through", method="POST", path=SESSIONS, hold=True)
    held = Call(lambda: client.v1.checkout.sessions.create(params=hosted_params()))

    gate.wait_until_held()
    assert sessions(stripe_emulator) == []
    assert client.v1.checkout.sessions.list().data == []  # other requests go by
    gate.release()
    session = held.result()

    assert sessions(stripe_emulator) == [session.id]
    assert (gate.fired, gate.held) == (1, 1)


def test_a_gate_lines_up_a_race_between_expiring_and_paying(stripe_emulator, client):
    session = create_hosted(client)
    gate = stripe_emulator.inject_fault("pass_through", method="POST", path=EXPIRE, hold=True)
    expiring = Call(
        lambda: client.v1.checkout.sessions.expire(session.id, options={"stripe_account": SHOP})
    )
    gate.wait_until_held()

    stripe_emulator.complete_session(session.id)
    gate.release()

    with pytest.raises(stripe.InvalidRequestError, match="has a status of `complete`"):
        expiring.result()
    assert stripe_emulator.session(session.id)["status"] == "complete"


def test_a_released_gate_goes_on_with_an_error_after_the_work(stripe_emulator, client):
    gate = stripe_emulator.inject_fault(
        "error", method="POST", path=SESSIONS, status=502, hold=True, after_work=True
    )
    held = Call(lambda: client.v1.checkout.sessions.create(params=hosted_params()))
    gate.wait_until_held()
    assert sessions(stripe_emulator) == []

    gate.release()

    with pytest.raises(stripe.APIError) as raised:
        held.result()
    assert raised.value.http_status == 502
    assert len(sessions(stripe_emulator)) == 1


def test_wait_until_held_times_out_when_nothing_arrives(stripe_emulator):
    gate = stripe_emulator.inject_fault("pass_through", hold=True)

    with pytest.raises(TimeoutError, match="0 of 1 request"):
        gate.wait_until_held(timeout=0.05)


def test_reset_lets_a_held_request_go_without_running_it(stripe_emulator, client):
    gate = stripe_emulator.inject_fault("pass_through", method="POST", path=SESSIONS, hold=True)
    held = Call(lambda: client.v1.checkout.sessions.create(params=hosted_params()))
    gate.wait_until_held()

    stripe_emulator.reset()

    with pytest.raises(stripe.APIConnectionError):
        held.result()
    assert sessions(stripe_emulator) == []


def test_stop_lets_a_held_request_go():
    emulator = StripeEmulator().start()
    gate = emulator.inject_fault("pass_through", hold=True)
    held = Call(lambda: requests.get(emulator.url + SESSIONS, timeout=10))
    gate.wait_until_held()

    emulator.stop()

    with pytest.raises(requests.ConnectionError):
        held.result()


def test_pass_through_without_a_hold_is_refused(stripe_emulator):
    with pytest.raises(ValueError, match="does nothing without hold=True"):
        stripe_emulator.inject_fault("pass_through")


# --- control API --------------------------------------------------------------------------


def test_gates_can_be_driven_over_http(stripe_emulator, client):
    base = f"{stripe_emulator.url}/_emulator/faults"
    added = requests.post(
        base,
        json={"kind": "drop", "method": "POST", "path": SESSIONS, "hold": True, "after_work": True},
        timeout=5,
    )
    fault_id = added.json()["id"]
    held = Call(lambda: client.v1.checkout.sessions.create(params=hosted_params()))

    waited = requests.post(f"{base}/{fault_id}/wait_until_held", json={"timeout": 5}, timeout=10)
    before = sessions(stripe_emulator)
    released = requests.post(f"{base}/{fault_id}/release", timeout=5)

    with pytest.raises(stripe.APIConnectionError):
        held.result()
    assert added.status_code == 201
    assert (added.json()["hold"], added.json()["after_work"]) == (True, True)
    assert (waited.status_code, waited.json()["held"]) == (200, 1)
    assert before == []
    assert released.status_code == 200
    assert len(sessions(stripe_emulator)) == 1
    assert requests.get(f"{base}/{fault_id}", timeout=5).json()["fired"] == 1


def test_waiting_for_a_gate_over_http_times_out_with_504(stripe_emulator):
    fault = stripe_emulator.inject_fault("pass_through", hold=True)

    response = requests.post(
        f"{stripe_emulator.url}/_emulator/faults/{fault.id}/wait_until_held",
        json={"timeout": 0.05},
        timeout=5,
    )

    assert response.status_code == 504


def test_an_unknown_fault_is_a_404_and_a_bad_one_a_400(stripe_emulator):
    base = f"{stripe_emulator.url}/_emulator/faults"

    missing = requests.get(f"{base}/fault_nope", timeout=5)
    bad = requests.post(base, json={"kind": "latency", "after_work": True}, timeout=5)

    assert missing.status_code == 404
    assert bad.status_code == 400
