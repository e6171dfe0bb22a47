"""Stripe `event` objects and the log of every event the emulator has emitted.

The shape is Stripe's published `event` fixture (`fixtures3.json`), copied
here. Connect events carry `account`: the connected account the object
belongs to (absent for the platform's own objects, as on Stripe).

`EventLog` guarantees: events are kept oldest first in the order they were
published; each is handed to the `sink` (webhook delivery) in that same
order, under the log's lock, before `publish` returns; readers get copies.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from . import objects

API_VERSION: str = stripe.api_version

SESSION_COMPLETED = "checkout.session.completed"
SESSION_ASYNC_PAYMENT_SUCCEEDED = "checkout.session.async_payment_succeeded"
SESSION_ASYNC_PAYMENT_FAILED = "checkout.session.async_payment_failed"
SESSION_EXPIRED = "checkout.session.expired"
REFUND_CREATED = "refund.created"
REFUND_UPDATED = "refund.updated"
REFUND_FAILED = "refund.failed"
CHARGE_REFUNDED = "charge.refunded"
APPLICATION_FEE_REFUNDED = "application_fee.refunded"


def new_event_id() -> str:
    return objects.random_id("evt_", 24)


def build_event(
    event_type: str,
    data_object: dict[str, Any],
    *,
    account: str | None,
    created: int,
    request_id: str | None = None,
    idempotency_key: str | None = None,
    pending_webhooks: int = 0,
) -> dict[str, Any]:
    """An `event` wrapping a deep copy of `data_object` as it is at this moment."""
    event: dict[str, Any] = {
        "id": new_event_id(),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": copy.deepcopy(data_object)},
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }
    if account is not None:
        event["account"] = account
    return event


class EventSink(Protocol):
    """Where published events go besides the log (the webhook dispatcher)."""

    def recipients(self, event: dict[str, Any]) -> Sequence[object]:
        """The endpoints a new event is sent to (their number is its `pending_webhooks`)."""
        ...

    def enqueue(self, event: dict[str, Any], recipients: Any) -> None:
        """Take the event for delivery to `recipients`; must not block on the network."""
        ...


@dataclass(frozen=True)
class StoredEvent:
    account: str | None
    event: dict[str, Any]


class EventLog:
    """Every event published since the last `clear()`, scoped by account for the API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._published = threading.Condition(self._lock)
        self._events: list[StoredEvent] = []
        self.sink: EventSink | None = None

    def publish(
        self,
        event_type: str,
        data_object: dict[str, Any],
        *,
        account: str | None,
        created: int,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Record a new event about `data_object` and hand it to the sink; returns a copy."""
        with self._lock:
            event = build_event(
                event_type,
                data_object,
                account=account,
                created=created,
                request_id=request_id,
                idempotency_key=idempotency_key,
            )
            recipients = self.sink.recipients(event) if self.sink else []
            event["pending_webhooks"] = len(recipients)
            self._events.append(StoredEvent(account, event))
            if self.sink is not None:
                self.sink.enqueue(copy.deepcopy(event), recipients)
            self._published.notify_all()
            return copy.deepcopy(event)

    def wait_for(
        self, matches: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any] | None:
        """Block until an event `matches` (possibly one already logged); a copy, or None
        if `timeout` seconds pass first."""
        found: list[dict[str, Any]] = []

        def present() -> bool:
            found[:] = [stored.event for stored in self._events if matches(stored.event)][:1]
            return bool(found)

        with self._published:
            if not self._published.wait_for(present, timeout):
                return None
            return copy.deepcopy(found[0])

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def saved_state(self) -> list[dict[str, Any]]:
        """Copies of every event with its account, oldest first (for `restore`)."""
        with self._lock:
            return [
                {"account": stored.account, "event": copy.deepcopy(stored.event)}
                for stored in self._events
            ]

    def restore(self, saved: list[dict[str, Any]]) -> None:
        """Replace the log with a `saved_state()`; nothing is sent to the sink."""
        events = [StoredEvent(item["account"], copy.deepcopy(item["event"])) for item in saved]
        with self._lock:
            self._events = events

    def all(self) -> list[dict[str, Any]]:
        """Copies of every event, oldest first, whichever account it belongs to."""
        with self._lock:
            return [copy.deepcopy(stored.event) for stored in self._events]

    def of(self, account: str | None) -> list[dict[str, Any]]:
        """Copies of one account's events (None: the platform), newest first."""
        with self._lock:
            owned = [s.event for s in self._events if s.account == account]
        return [copy.deepcopy(event) for event in reversed(owned)]

    def find(self, event_id: str, account: str | None) -> dict[str, Any] | None:
        """A copy of the event if it belongs to `account`, else None."""
        with self._lock:
            for stored in self._events:
                if stored.event["id"] == event_id and stored.account == account:
                    return copy.deepcopy(stored.event)
        return None
