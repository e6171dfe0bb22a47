"""Fault injection: make the next matching requests fail the way networks and Stripe do.

A `Fault` matches by HTTP method, a path regex (full match) and optionally the
`Stripe-Account` header, and fires for the next `times` matching requests
(None: every one). `FaultPlan` is thread-safe and consumes faults in the
order they were added; a fired fault is used up even if the request is
dropped. Kinds:

* `error`   answer `status` with a Stripe-shaped error body, without running the request;
* `timeout` hold the request for `seconds`, then run it normally (the client
  has usually given up by then, as with a slow Stripe); released early, and
  answered by closing the connection, on reset/stop;
* `drop`    close the connection without any response;
* `latency` wait `seconds`, then run the request normally.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from .errors import ApiError

FaultKind = Literal["error", "timeout", "drop", "latency"]
FAULT_KINDS: tuple[str, ...] = ("error", "timeout", "drop", "latency")
_DEFAULT_SECONDS = {"timeout": 30.0, "latency": 0.5}
_ids = itertools.count(1)


@dataclass
class Fault:
    kind: FaultKind
    method: str | None = None
    path: str = ".*"
    stripe_account: str | None = None
    times: int | None = 1
    status: int = 500
    seconds: float | None = None
    should_retry: bool | None = None
    message: str | None = None
    code: str | None = None
    id: str = field(default_factory=lambda: f"fault_{next(_ids)}")
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, not {self.kind!r}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for every matching request)")
        if self.kind == "error" and not 400 <= self.status <= 599:
            raise ValueError("an error fault needs a status between 400 and 599")
        if self.seconds is None:
            self.seconds = _DEFAULT_SECONDS.get(self.kind, 0.0)
        if self.seconds < 0:
            raise ValueError("seconds must not be negative")
        self.method = self.method.upper() if self.method else None
        re.compile(self.path)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        allowed = {f.name for f in fields(cls)} - {"id", "fired"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def matches(self, method: str, path: str, stripe_account: str | None) -> bool:
        return (
            (self.method is None or self.method == method)
            and re.fullmatch(self.path, path) is not None
            and (self.stripe_account is None or self.stripe_account == stripe_account)
        )

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def error(self) -> ApiError:
        """The Stripe-shaped error an `error` fault answers with."""
        headers = {}
        if self.should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if self.should_retry else "false"
        error_type, code, message = _default_error(self.status)
        return ApiError(
            self.status,
            self.message or message,
            type=error_type,
            code=self.code or code,
            headers=headers,
        )


def _default_error(status: int) -> tuple[str, str | None, str]:
    if status == 429:
        return (
            "invalid_request_error",
            "rate_limit",
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
        )
    if status >= 500:
        return ("api_error", None, f"Something went wrong on Stripe's end (HTTP {status}).")
    if status == 409:
        return (
            "invalid_request_error",
            "lock_timeout",
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it.",
        )
    return ("invalid_request_error", None, f"Injected error (HTTP {status}).")


@dataclass
class FaultPlan:
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str, stripe_account: str | None) -> Fault | None:
        """Consume one firing of the first fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, stripe_account):
                    fault.fired += 1
                    if fault.exhausted:
                        self._faults.remove(fault)
                    return fault
            return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)
