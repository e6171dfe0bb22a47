"""Fault injection: make the next matching requests fail the way networks and Stripe do.

A `Fault` matches by HTTP method, a path regex (full match) and optionally the
`Stripe-Account` header, and fires for the next `times` matching requests
(None: every one). `FaultPlan` is thread-safe and consumes faults in the
order they were added; a fired fault is used up even if the request is
dropped. Kinds:

* `error`        answer `status` with a Stripe-shaped error body, without running the request;
* `timeout`      hold the request for `seconds`, then run it normally (the client
                 has usually given up by then, as with a slow Stripe);
* `drop`         close the connection without any response;
* `latency`      wait `seconds`, then run the request normally;
* `pass_through` run the request normally (only useful with `hold`).

`after_work=True` (kinds `error`, `drop`, `timeout`) makes the fault fire
after Stripe did the work: the request runs in full (state changes, events,
its response stored under its `Idempotency-Key`), and only then is the
client answered with the error, or the connection closed without a byte
(`drop`), or held for `seconds` and then closed (`timeout`). A retry with
the same key gets Stripe's replay of the real answer.

`hold=True` adds a gate in front of everything else: a matching request
waits inside the emulator until the test calls `fault.release()`, then goes
on with the fault's other behaviour. `fault.wait_until_held(timeout)` blocks
until a request has reached the gate, so a test can line up a race without
sleeping. Once released, the gate stays open for later matching requests.

Held requests (by the gate, or by `timeout`/`latency` seconds) are let go on
reset/stop and answered by closing the connection, without running.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from .errors import ApiError

FaultKind = Literal["error", "timeout", "drop", "latency", "pass_through"]
FAULT_KINDS: tuple[str, ...] = ("error", "timeout", "drop", "latency", "pass_through")
AFTER_WORK_KINDS: tuple[str, ...] = ("error", "timeout", "drop")
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
    hold: bool = False
    after_work: bool = False
    id: str = field(default_factory=lambda: f"fault_{next(_ids)}")
    fired: int = 0
    held: int = 0  # requests that have reached the hold gate
    _gate: threading.Condition = field(
        default_factory=threading.Condition, init=False, repr=False, compare=False
    )
    _opened: bool = field(default=False, init=False, repr=False, compare=False)
    _abandoned: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, not {self.kind!r}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for every matching request)")
        if self.kind == "error" and not 400 <= self.status <= 599:
            raise ValueError("an error fault needs a status between 400 and 599")
        if self.after_work and self.kind not in AFTER_WORK_KINDS:
            raise ValueError(f"after_work needs kind {', '.join(AFTER_WORK_KINDS)}")
        if self.kind == "pass_through" and not self.hold:
            raise ValueError("a pass_through fault does nothing without hold=True")
        if self.seconds is None:
            self.seconds = _DEFAULT_SECONDS.get(self.kind, 0.0)
        if self.seconds < 0:
            raise ValueError("seconds must not be negative")
        self.method = self.method.upper() if self.method else None
        re.compile(self.path)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        allowed = {f.name for f in fields(cls) if f.init} - {"id", "fired", "held"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

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

    # --- the hold gate ----------------------------------------------------------

    def wait_until_held(self, timeout: float = 5.0, count: int = 1) -> Fault:
        """Block until `count` requests have reached this fault's gate (in all); returns self.

        TimeoutError if they have not after `timeout` seconds.
        """
        with self._gate:
            if not self._gate.wait_for(lambda: self.held >= count, timeout):
                raise TimeoutError(
                    f"{self.held} of {count} request(s) reached {self.id}'s gate within {timeout} s"
                )
        return self

    def release(self) -> None:
        """Open the gate: held requests go on (and later matching ones do not stop)."""
        with self._gate:
            self._opened = True
            self._gate.notify_all()

    def wait_at_gate(self, let_go: threading.Event) -> bool:
        """Hold the calling request here: True once released, False if let go by
        reset/stop (`let_go` set, or `abandon()`), when it must not run."""
        with self._gate:
            self.held += 1
            self._gate.notify_all()
            self._gate.wait_for(lambda: self._opened or self._abandoned or let_go.is_set())
            return not (self._abandoned or let_go.is_set())

    def abandon(self) -> None:
        """Let go of every request held at the gate, now and later, without running them."""
        with self._gate:
            self._abandoned = True
            self._gate.notify_all()


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
    # Every fault added since the last clear, used up or not: found by id, abandoned on clear.
    _added: dict[str, Fault] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
            self._added[fault.id] = fault
        return fault

    def get(self, fault_id: str) -> Fault:
        """A fault added since the last clear, pending or used up; KeyError if unknown."""
        with self._lock:
            return self._added[fault_id]

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
        """Forget every fault, letting go of the requests their gates hold."""
        with self._lock:
            added = list(self._added.values())
            self._faults.clear()
            self._added.clear()
        for fault in added:
            fault.abandon()

    def abandon_gates(self) -> None:
        """Let go of every request held at a gate (on stop), keeping the faults."""
        with self._lock:
            added = list(self._added.values())
        for fault in added:
            fault.abandon()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)
