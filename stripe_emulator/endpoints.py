"""Where events go: the webhook endpoints, and which events each one receives.

Two kinds of endpoint receive events:

* the one set with `StripeEmulator.configure_webhook` (scope `all`): every
  event of every account, like `stripe listen --forward-to`;
* those created through `/v1/webhook_endpoints` (kept here as
  `RegisteredEndpoint`s), as on Stripe: an enabled endpoint receives the
  events whose type its `enabled_events` lists (or all, with `*`); an account
  endpoint (`connect=false`, scope `account`) those of the account that
  created it, a Connect endpoint created by the platform (scope `connect`)
  those of its connected accounts (events that carry `account`).

`EndpointRegistry` is thread-safe; `recipients(event)` is the snapshot of
endpoints an event is sent to at the moment it is published.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)
DEFAULT_TIMEOUT = 10.0
ALL_EVENTS = "*"

EndpointScope = Literal["all", "account", "connect"]


@dataclass(frozen=True)
class WebhookEndpoint:
    """One delivery target: where to POST, the secret to sign with, and how to retry."""

    url: str
    secret: str
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    max_attempts: int | None = None  # None: one more than there are retry delays
    timeout: float = DEFAULT_TIMEOUT
    id: str | None = None  # the `we_...` of an endpoint created through the API
    scope: EndpointScope = "all"
    account: str | None = None  # who created it (None: the platform)
    enabled_events: tuple[str, ...] = (ALL_EVENTS,)

    def __post_init__(self) -> None:
        if not is_http_url(self.url):
            raise ValueError(f"webhook url must be an http(s) URL, not {self.url!r}")
        if not self.secret:
            raise ValueError("webhook secret must not be empty")
        delays = tuple(float(delay) for delay in self.retry_delays)
        if any(delay < 0 for delay in delays):
            raise ValueError("retry delays must not be negative")
        object.__setattr__(self, "retry_delays", delays)
        object.__setattr__(self, "enabled_events", tuple(self.enabled_events))
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")

    @property
    def attempts(self) -> int:
        if self.max_attempts is not None:
            return self.max_attempts
        return len(self.retry_delays) + 1

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based); the last repeats."""
        if not self.retry_delays:
            return 0.0
        return self.retry_delays[min(attempt, len(self.retry_delays)) - 1]

    def receives(self, event: dict[str, Any]) -> bool:
        """Whether this endpoint is sent `event` (its type, and whose it is)."""
        if ALL_EVENTS not in self.enabled_events and event["type"] not in self.enabled_events:
            return False
        owner = event.get("account")
        if self.scope == "account":
            return owner == self.account
        if self.scope == "connect":
            return self.account is None and owner is not None
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "retry_delays": list(self.retry_delays),
            "enabled_events": list(self.enabled_events),
        }


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@dataclass(frozen=True)
class DeliverySettings:
    """How events are delivered to endpoints created through the API."""

    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    max_attempts: int | None = None
    timeout: float = DEFAULT_TIMEOUT


@dataclass
class RegisteredEndpoint:
    """A `webhook_endpoint` created through the API, with what its object does not show."""

    account: str | None  # who created it (None: the platform)
    endpoint: dict[str, Any]  # the `webhook_endpoint` object, without its secret
    secret: str
    connect: bool
    sequence: int

    def target(self, delivery: DeliverySettings) -> WebhookEndpoint:
        return WebhookEndpoint(
            self.endpoint["url"],
            self.secret,
            delivery.retry_delays,
            max_attempts=delivery.max_attempts,
            timeout=delivery.timeout,
            id=self.endpoint["id"],
            scope="connect" if self.connect else "account",
            account=self.account,
            enabled_events=tuple(self.endpoint["enabled_events"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "connect": self.connect,
            "secret": self.secret,
            "endpoint": copy.deepcopy(self.endpoint),
        }


@dataclass
class EndpointRegistry:
    _configured: WebhookEndpoint | None = None
    _registered: dict[str, RegisteredEndpoint] = field(default_factory=dict)
    _sequence: int = 0
    _delivery: DeliverySettings = field(default_factory=DeliverySettings)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the configured endpoint -------------------------------------------------

    @property
    def configured(self) -> WebhookEndpoint | None:
        return self._configured

    def configure(self, endpoint: WebhookEndpoint | None) -> None:
        with self._lock:
            self._configured = endpoint

    def set_delivery(self, delivery: DeliverySettings) -> None:
        """Retry delays, attempts and timeout for endpoints created through the API."""
        WebhookEndpoint("http://delivery.test/", "whsec_check", **dataclasses.asdict(delivery))
        with self._lock:
            self._delivery = delivery

    # --- endpoints created through the API ------------------------------------------

    def add(
        self, account: str | None, endpoint: dict[str, Any], secret: str, connect: bool
    ) -> None:
        with self._lock:
            self._sequence += 1
            self._registered[endpoint["id"]] = RegisteredEndpoint(
                account, copy.deepcopy(endpoint), secret, connect, self._sequence
            )

    def find(self, endpoint_id: str, account: str | None) -> dict[str, Any] | None:
        """A copy of the endpoint object if `account` created it, else None."""
        with self._lock:
            registered = self._registered.get(endpoint_id)
            if registered is None or registered.account != account:
                return None
            return copy.deepcopy(registered.endpoint)

    def update(self, endpoint_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply `changes` to the endpoint object; a copy of the result (KeyError if unknown)."""
        with self._lock:
            endpoint = self._registered[endpoint_id].endpoint
            endpoint.update(copy.deepcopy(changes))
            return copy.deepcopy(endpoint)

    def remove(self, endpoint_id: str) -> None:
        with self._lock:
            self._registered.pop(endpoint_id, None)

    def of(self, account: str | None) -> list[dict[str, Any]]:
        """Copies of the endpoints `account` created, newest first."""
        with self._lock:
            owned = [r for r in self._registered.values() if r.account == account]
            owned.sort(key=lambda registered: registered.sequence, reverse=True)
            return [copy.deepcopy(registered.endpoint) for registered in owned]

    def registered(self) -> list[RegisteredEndpoint]:
        """Copies of every endpoint created through the API, oldest first."""
        with self._lock:
            ordered = sorted(self._registered.values(), key=lambda r: r.sequence)
            return copy.deepcopy(ordered)

    # --- routing ------------------------------------------------------------------------

    def recipients(self, event: dict[str, Any]) -> list[WebhookEndpoint]:
        """The endpoints `event` goes to now: the configured one, then the API's, oldest first."""
        with self._lock:
            candidates = [self._configured] if self._configured is not None else []
            for registered in sorted(self._registered.values(), key=lambda r: r.sequence):
                if registered.endpoint["status"] == "enabled":
                    candidates.append(registered.target(self._delivery))
        return [endpoint for endpoint in candidates if endpoint.receives(event)]

    # --- surviving a restart -------------------------------------------------------------

    def saved_state(self) -> dict[str, Any]:
        """The endpoints created through the API, as JSON-ready copies (for `restore`).

        Not the configured endpoint nor the delivery settings: whoever starts the
        emulator sets those."""
        with self._lock:
            return {
                "sequence": self._sequence,
                "registered": [dataclasses.asdict(r) for r in self._registered.values()],
            }

    def restore(self, saved: dict[str, Any]) -> None:
        registered = [RegisteredEndpoint(**item) for item in copy.deepcopy(saved["registered"])]
        with self._lock:
            self._sequence = saved["sequence"]
            self._registered = {item.endpoint["id"]: item for item in registered}

    def reset(self) -> None:
        with self._lock:
            self._configured = None
            self._registered.clear()
            self._delivery = DeliverySettings()
