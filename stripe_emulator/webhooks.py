"""Webhook delivery: sign events as Stripe does and POST them to their endpoints, with retries.

Which endpoints an event goes to is `endpoints.EndpointRegistry`'s to say;
`WebhookDispatcher` queues one delivery per event and endpoint, and guarantees:

* deliveries are made one at a time, in the order they were enqueued (an
  event's deliveries in the order of its recipients); a delivery being
  retried holds back the ones after it;
* each attempt is a fresh POST of the same body (the compact JSON event, the
  exact bytes signed), signed with its endpoint's secret and the real
  wall-clock time so it passes Stripe's 300 s tolerance even while the
  emulator's clock is frozen;
* a 2xx answer delivers the event; 5xx or a connection error/timeout is
  retried after the configured delays until `max_attempts`; any other
  status (3xx, 4xx) fails it at once, without retry, and redirects are not
  followed;
* every attempt is recorded as a `DeliveryRecord`;
* `reset()` drops queued and in-flight events (an attempt already on the
  wire finishes, but is neither recorded nor retried) and forgets the
  endpoints and the records; `drain(timeout)` waits on a condition, never by
  polling.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .endpoints import DEFAULT_RETRY_DELAYS, DEFAULT_TIMEOUT, EndpointRegistry, WebhookEndpoint

__all__ = [
    "DEFAULT_RETRY_DELAYS",
    "DEFAULT_TIMEOUT",
    "DeliveryRecord",
    "WebhookDispatcher",
    "WebhookEndpoint",
    "encode_event",
    "sign_payload",
]

logger = logging.getLogger(__name__)

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
MAX_RECORDED_BODY = 2000


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload`: `t=<ts>,v1=<hex HMAC-SHA256>`.

    The HMAC is keyed with the whole secret (`whsec_...`) over `"<t>.<payload>"`,
    exactly as Stripe signs, so `stripe.Webhook.construct_event` accepts it.
    `timestamp` defaults to the current wall-clock time.
    """
    t = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{t}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def encode_event(event: dict[str, Any]) -> bytes:
    """The delivered body: compact JSON, UTF-8."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery attempt of one event.

    `status` is the HTTP status answered (None if the connection failed, then
    `error` says why); `will_retry` tells whether another attempt follows.
    `delivered_at` is the wall-clock time the attempt was sent; `endpoint_id`
    the `we_...` it went to (None: the endpoint set with `configure_webhook`).
    """

    event_id: str
    event_type: str
    account: str | None
    url: str
    attempt: int
    status: int | None
    error: str | None
    response_body: str
    delivered_at: float
    will_retry: bool
    endpoint_id: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "succeeded": self.succeeded}


@dataclass
class _Pending:
    event: dict[str, Any]
    body: bytes
    endpoint: WebhookEndpoint
    attempt: int = 0
    not_before: float = 0.0  # time.monotonic() before which the next attempt must not start


@dataclass
class _Outcome:
    sent_at: float
    status: int | None
    error: str | None
    response_body: str = ""


@dataclass
class WebhookDispatcher:
    """Queues events for their endpoints and delivers them from a worker thread."""

    endpoints: EndpointRegistry = field(default_factory=EndpointRegistry)
    _queue: collections.deque[_Pending] = field(default_factory=collections.deque)
    _in_flight: _Pending | None = None
    _records: list[DeliveryRecord] = field(default_factory=list)
    _generation: int = 0
    _closed: bool = False
    _worker: threading.Thread | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    # --- configuration ----------------------------------------------------------

    @property
    def endpoint(self) -> WebhookEndpoint | None:
        """The endpoint set with `configure` (endpoints created through the API aside)."""
        return self.endpoints.configured

    def configure(self, endpoint: WebhookEndpoint | None) -> None:
        """Send every event published from now on to `endpoint` (None: stop doing so).

        Events already queued keep the endpoints they were queued for.
        """
        self.endpoints.configure(endpoint)

    def recipients(self, event: dict[str, Any]) -> list[WebhookEndpoint]:
        """The endpoints a new event would be sent to (its `pending_webhooks`)."""
        return [] if self._closed else self.endpoints.recipients(event)

    # --- queue ------------------------------------------------------------------

    def enqueue(self, event: dict[str, Any], recipients: list[WebhookEndpoint]) -> None:
        """Queue `event` for each of `recipients`; with none, drop it. Never blocks."""
        with self._changed:
            if not recipients or self._closed:
                return
            body = encode_event(event)
            self._queue.extend(_Pending(event, body, endpoint) for endpoint in recipients)
            self._ensure_worker()
            self._changed.notify_all()

    def reset(self) -> None:
        """Forget the endpoints, queued and in-flight events, and every delivery record."""
        self.endpoints.reset()
        with self._changed:
            self._generation += 1
            self._queue.clear()
            self._in_flight = None
            self._records.clear()
            self._changed.notify_all()

    def close(self, timeout: float = 1.0) -> None:
        """Stop the worker, dropping what is still queued; safe to call twice."""
        with self._changed:
            self._closed = True
            self._generation += 1
            self._queue.clear()
            self._in_flight = None
            self._changed.notify_all()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)

    @property
    def records(self) -> list[DeliveryRecord]:
        """Every delivery attempt since the last reset, in the order they were made."""
        with self._changed:
            return list(self._records)

    def drain(self, timeout: float = 10.0) -> list[DeliveryRecord]:
        """Block until every queued event is delivered or given up; the delivery records.

        Raises TimeoutError if that takes longer than `timeout` seconds.
        """
        with self._changed:
            if not self._changed.wait_for(self._idle, timeout):
                pending = len(self._queue) + (self._in_flight is not None)
                raise TimeoutError(
                    f"{pending} webhook event(s) still undelivered after {timeout} s"
                )
            return list(self._records)

    def _idle(self) -> bool:
        return not self._queue and self._in_flight is None

    # --- worker -----------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(
                target=self._run, name="stripe-emulator-webhooks", daemon=True
            )
            self._worker.start()

    def _run(self) -> None:
        while True:
            with self._changed:
                pending, generation = self._next()
                if pending is None:
                    return
            outcome = _post(pending)
            with self._changed:
                if generation == self._generation:
                    self._record(pending, outcome)
                self._changed.notify_all()

    def _next(self) -> tuple[_Pending | None, int]:
        """Wait (holding the condition) for the next attempt to be due; (None, _) on close."""
        while not self._closed:
            if self._in_flight is None and self._queue:
                self._in_flight = self._queue.popleft()
            current = self._in_flight
            if current is None:
                self._changed.wait()
                continue
            wait = current.not_before - time.monotonic()
            if wait > 0:
                # A reset() during the wait swaps the in-flight event, so look again.
                self._changed.wait(wait)
                continue
            current.attempt += 1
            return current, self._generation
        return None, self._generation

    def _record(self, pending: _Pending, outcome: _Outcome) -> None:
        endpoint = pending.endpoint
        retryable = outcome.status is None or outcome.status >= 500
        will_retry = retryable and pending.attempt < endpoint.attempts
        self._records.append(
            DeliveryRecord(
                event_id=pending.event["id"],
                event_type=pending.event["type"],
                account=pending.event.get("account"),
                url=endpoint.url,
                attempt=pending.attempt,
                status=outcome.status,
                error=outcome.error,
                response_body=outcome.response_body,
                delivered_at=outcome.sent_at,
                will_retry=will_retry,
                endpoint_id=endpoint.id,
            )
        )
        if will_retry:
            pending.not_before = time.monotonic() + endpoint.delay_after(pending.attempt)
        else:
            self._in_flight = None


def _post(pending: _Pending) -> _Outcome:
    """One signed POST of the event; never raises."""
    endpoint = pending.endpoint
    parts = urlsplit(endpoint.url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": sign_payload(pending.body, endpoint.secret),
        "User-Agent": USER_AGENT,
        "Accept": "*/*; q=0.5, application/xml",
        "Cache-Control": "no-cache",
    }
    sent_at = time.time()
    try:
        connection = connection_class(parts.hostname, parts.port, timeout=endpoint.timeout)
        try:
            connection.request("POST", target, body=pending.body, headers=headers)
            response = connection.getresponse()
            body = response.read(MAX_RECORDED_BODY).decode("utf-8", "replace")
            return _Outcome(sent_at, response.status, None, body)
        finally:
            connection.close()
    except (OSError, http.client.HTTPException) as error:
        logger.debug("webhook %s to %s failed: %r", pending.event["id"], endpoint.url, error)
        return _Outcome(sent_at, None, f"{type(error).__name__}: {error}")
