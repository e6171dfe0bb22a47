"""The emulator's state: sessions, other objects (payment intents, charges, application
fees, refunds), events, webhook endpoints, recorded requests and the idempotency cache.

`Store` guarantees consistency under concurrent requests: every read and write
goes through `store.lock` (re-entrant), and the API layer holds it for a whole
request, so Stripe operations never interleave. Readers get copies, never the
live objects.
"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from .endpoints import EndpointRegistry
from .events import EventLog

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60


@dataclass
class RecordedRequest:
    """One request as the emulator received it (params decoded, values still strings).

    `status` is what the client was answered (None: nothing, the connection was
    dropped); `handled_status` what the API itself answered, even when a fault
    then replaced or dropped that answer (None: the request never ran).
    """

    request_id: str
    method: str
    path: str
    params: dict[str, Any]
    stripe_account: str | None
    idempotency_key: str | None
    stripe_version: str | None
    received_at: float
    status: int | None = None
    fault: str | None = None
    idempotent_replayed: bool = False
    handled_status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


AsyncPayment = Literal["pending", "succeeded", "failed"]


@dataclass
class StoredSession:
    account: str | None
    session: dict[str, Any]
    line_items: list[dict[str, Any]]
    sequence: int
    # The outcome of a delayed payment method: "pending" from a completion
    # with payment_status "unpaid" until it is settled, once.
    async_payment: AsyncPayment | None = None
    # The create request's `payment_intent_data` (the session object does not show it).
    payment_intent_data: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredObject:
    """An API object other than a session (payment_intent, charge, refund, ...) and its owner."""

    account: str | None
    object: dict[str, Any]
    sequence: int


@dataclass(frozen=True)
class IdempotentResult:
    fingerprint: tuple[str, str, str]
    status: int
    body: dict[str, Any]
    request_id: str
    stored_at: float


IdempotencyScope = tuple[str, str | None, str]


@dataclass
class Store:
    lock: threading.RLock = field(default_factory=threading.RLock)
    _sessions: dict[str, StoredSession] = field(default_factory=dict)
    _objects: dict[str, StoredObject] = field(default_factory=dict)
    _requests: list[RecordedRequest] = field(default_factory=list)
    _idempotency: dict[IdempotencyScope, IdempotentResult] = field(default_factory=dict)
    _sequence: int = 0
    # Sessions by when they are due, (expires_at, sequence, id), so that expiring the due
    # ones costs no scan of every session; one no longer open is dropped when reached.
    _expiry_queue: list[tuple[int, int, str]] = field(default_factory=list)
    # How many of the next refunds start `pending` (None: every one, until reset).
    _pending_refunds: int | None = 0
    _recorded: threading.Condition = field(init=False)
    events: EventLog = field(default_factory=EventLog)
    webhook_endpoints: EndpointRegistry = field(default_factory=EndpointRegistry)

    def __post_init__(self) -> None:
        self._recorded = threading.Condition(self.lock)

    def saved_state(self) -> dict[str, Any]:
        """What outlives a restart, as JSON-ready copies: sessions, other objects, events,
        endpoints created through the API and idempotency keys (recorded requests do not)."""
        with self.lock:
            return {
                "sequence": self._sequence,
                "pending_refunds": self._pending_refunds,
                "sessions": [dataclasses.asdict(s) for s in self._sessions.values()],
                "objects": [dataclasses.asdict(s) for s in self._objects.values()],
                "idempotency": [
                    {"scope": list(scope), **dataclasses.asdict(result)}
                    for scope, result in self._idempotency.items()
                ],
                "events": self.events.saved_state(),
                "webhook_endpoints": self.webhook_endpoints.saved_state(),
            }

    def restore(self, state: dict[str, Any]) -> None:
        """Replace sessions, objects, events, endpoints and keys with a `saved_state()`.

        KeyError or TypeError if `state` is not one."""
        sessions = {s["session"]["id"]: StoredSession(**s) for s in state["sessions"]}
        objects = {s["object"]["id"]: StoredObject(**s) for s in state["objects"]}
        idempotency = {
            tuple(saved.pop("scope")): IdempotentResult(
                **{**saved, "fingerprint": tuple(saved["fingerprint"])}
            )
            for saved in copy.deepcopy(state["idempotency"])
        }
        with self.lock:
            self._sequence = state["sequence"]
            self._pending_refunds = state["pending_refunds"]
            self._sessions = sessions
            self._expiry_queue = [
                (stored.session["expires_at"], stored.sequence, session_id)
                for session_id, stored in sessions.items()
            ]
            heapq.heapify(self._expiry_queue)
            self._objects = objects
            self._idempotency = idempotency
            self.events.restore(state["events"])
            self.webhook_endpoints.restore(state["webhook_endpoints"])

    def reset(self) -> None:
        with self.lock:
            self._sessions.clear()
            self._expiry_queue.clear()
            self._objects.clear()
            self._pending_refunds = 0
            self._requests.clear()
            self._idempotency.clear()
            self.events.clear()
            self.webhook_endpoints.reset()

    # --- sessions -----------------------------------------------------------

    def add_session(
        self,
        account: str | None,
        session: dict[str, Any],
        line_items: list[dict[str, Any]],
        payment_intent_data: dict[str, Any] | None = None,
    ) -> None:
        with self.lock:
            self._sequence += 1
            self._sessions[session["id"]] = StoredSession(
                account, session, line_items, self._sequence, None, payment_intent_data or {}
            )
            heapq.heappush(
                self._expiry_queue, (session["expires_at"], self._sequence, session["id"])
            )

    def find_session(self, session_id: str, account: str | None) -> StoredSession | None:
        """The live stored session if it belongs to `account` (None: the platform)."""
        with self.lock:
            stored = self._sessions.get(session_id)
            if stored is None or stored.account != account:
                return None
            return stored

    def any_session(self, session_id: str) -> StoredSession | None:
        """The live stored session, whichever account owns it (for emulator-side operations)."""
        with self.lock:
            return self._sessions.get(session_id)

    def find_by_client_secret(self, client_secret: str) -> StoredSession | None:
        """The live stored session whose `client_secret` this is, whichever account owns it."""
        with self.lock:
            for stored in self._sessions.values():
                if client_secret and stored.session.get("client_secret") == client_secret:
                    return stored
            return None

    def take_due_open_sessions(self, now: float) -> list[StoredSession]:
        """The live open sessions whose `expires_at` is at or before `now`, in `expires_at`
        order, then creation order; the caller expires them (hold `lock` meanwhile)."""
        with self.lock:
            due = []
            while self._expiry_queue and self._expiry_queue[0][0] <= now:
                _, _, session_id = heapq.heappop(self._expiry_queue)
                stored = self._sessions.get(session_id)
                if stored is not None and stored.session["status"] == "open":
                    due.append(stored)
            return due

    def next_open_expiry(self) -> int | None:
        """The earliest `expires_at` of a live open session, or None if none is open."""
        with self.lock:
            while self._expiry_queue:
                expires_at, _, session_id = self._expiry_queue[0]
                stored = self._sessions.get(session_id)
                if stored is not None and stored.session["status"] == "open":
                    return expires_at
                heapq.heappop(self._expiry_queue)
            return None

    def live_sessions(self) -> list[StoredSession]:
        """Every live stored session, oldest first (hold `lock` while using them)."""
        with self.lock:
            return sorted(self._sessions.values(), key=lambda stored: stored.sequence)

    def sessions_of(self, account: str | None) -> list[StoredSession]:
        """The live stored sessions of one account, newest first."""
        with self.lock:
            owned = [s for s in self._sessions.values() if s.account == account]
            return sorted(owned, key=lambda stored: stored.sequence, reverse=True)

    def session_snapshot(self, session_id: str) -> StoredSession:
        """A deep copy of a stored session, whichever account owns it; KeyError if unknown."""
        with self.lock:
            return copy.deepcopy(self._sessions[session_id])

    def all_sessions(self) -> list[StoredSession]:
        with self.lock:
            return copy.deepcopy(sorted(self._sessions.values(), key=lambda s: s.sequence))

    # --- other objects (ids are unique across kinds: they carry the kind's prefix) ----------

    def add_object(self, account: str | None, obj: dict[str, Any]) -> StoredObject:
        """Keep `obj` (live: later changes to it are the stored state) as `account`'s."""
        with self.lock:
            self._sequence += 1
            stored = StoredObject(account, obj, self._sequence)
            self._objects[obj["id"]] = stored
            return stored

    def find_object(
        self, kind: str | None, object_id: str, account: str | None
    ) -> StoredObject | None:
        """The live stored object if it is a `kind` (None: any) belonging to `account`."""
        with self.lock:
            stored = self.any_object(kind, object_id)
            return stored if stored is not None and stored.account == account else None

    def any_object(self, kind: str | None, object_id: str) -> StoredObject | None:
        """The live stored object of `kind` (None: any), whichever account owns it."""
        with self.lock:
            stored = self._objects.get(object_id)
            if stored is None or kind not in (None, stored.object["object"]):
                return None
            return stored

    def objects_of(self, kind: str, account: str | None) -> list[StoredObject]:
        """The live stored `kind` objects of one account, newest first."""
        with self.lock:
            owned = [
                s
                for s in self._objects.values()
                if s.object["object"] == kind and s.account == account
            ]
            return sorted(owned, key=lambda stored: stored.sequence, reverse=True)

    def all_objects(self, kind: str) -> list[StoredObject]:
        """Deep copies of every stored `kind` object, whichever account owns it, oldest first."""
        with self.lock:
            every = [s for s in self._objects.values() if s.object["object"] == kind]
            return copy.deepcopy(sorted(every, key=lambda stored: stored.sequence))

    def object_snapshot(self, kind: str, object_id: str) -> StoredObject:
        """A deep copy of a stored `kind` object, whichever account owns it; KeyError if none."""
        with self.lock:
            stored = self.any_object(kind, object_id)
            if stored is None:
                raise KeyError(object_id)
            return copy.deepcopy(stored)

    def start_refunds_pending(self, times: int | None) -> None:
        """Make the next `times` refunds (None: every one) start `pending`; 0: none."""
        if times is not None and times < 0:
            raise ValueError("times must not be negative (or None for every refund)")
        with self.lock:
            self._pending_refunds = times

    def take_pending_refund(self) -> bool:
        """Whether the refund being created starts `pending` (using up one of `times`)."""
        with self.lock:
            if self._pending_refunds is None:
                return True
            if self._pending_refunds > 0:
                self._pending_refunds -= 1
                return True
            return False

    # --- recorded requests --------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self._requests.append(request)
            self._recorded.notify_all()

    def wait_for_recorded(self, count: int, timeout: float) -> bool:
        """Block until at least `count` requests are recorded; False if `timeout` ran out."""
        with self._recorded:
            return self._recorded.wait_for(lambda: len(self._requests) >= count, timeout)

    def update_record(self, request: RecordedRequest, **changes: Any) -> None:
        with self.lock:
            for name, value in changes.items():
                setattr(request, name, value)

    def recorded(self) -> list[RecordedRequest]:
        with self.lock:
            return [dataclasses.replace(r, params=copy.deepcopy(r.params)) for r in self._requests]

    # --- idempotency --------------------------------------------------------

    def idempotent_result(self, scope: IdempotencyScope, now: float) -> IdempotentResult | None:
        with self.lock:
            result = self._idempotency.get(scope)
            if result is not None and now - result.stored_at > IDEMPOTENCY_TTL_SECONDS:
                del self._idempotency[scope]
                return None
            return result

    def save_idempotent(self, scope: IdempotencyScope, result: IdempotentResult) -> None:
        with self.lock:
            self._idempotency[scope] = result
