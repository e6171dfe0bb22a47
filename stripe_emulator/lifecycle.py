"""What happens to a Checkout Session after it is created, and the events that tells.

    open --complete(paid)------------------------> complete/paid          checkout.session.completed
    open --complete(unpaid)----------------------> complete/unpaid        checkout.session.completed
         complete/unpaid --settle(succeeded)-----> complete/paid          ...async_payment_succeeded
         complete/unpaid --settle(failed)--------> complete/unpaid        ...async_payment_failed
    open --expire (API call, or expires_at due)--> expired                checkout.session.expired

In `payment` mode, completing creates the session's PaymentIntent and Charge
and settling settles them (see `payments`). Every transition happens under
`store.lock` and publishes its event, whose
`data.object` is the session right after the change, before the lock is
released; so events are in the order the changes happened. A refused
transition raises `SessionStateError` and changes nothing.
"""

from __future__ import annotations

from typing import Literal

from . import events, objects, payments
from .store import Store, StoredSession

DEFAULT_CUSTOMER_EMAIL = "kund@example.se"
DEFAULT_CUSTOMER_NAME = "Test Kund"

PaymentStatus = Literal["paid", "unpaid"]


class SessionStateError(ValueError):
    """The session's state does not allow this transition (e.g. paying an expired session)."""


def complete(
    store: Store,
    stored: StoredSession,
    *,
    now: int,
    payment_status: PaymentStatus = "paid",
    customer_email: str | None = None,
    customer_name: str | None = None,
) -> None:
    """The customer pays: status `complete`, the payment's objects, `checkout.session.completed`.

    `payment_status="unpaid"` models a delayed payment method (e.g. a bank
    debit): the session completes, and `settle_async_payment` decides later.
    A customer is created unless the session already names one; in `setup`
    mode payment_status stays `no_payment_required` and only "paid" is allowed.
    """
    if payment_status not in ("paid", "unpaid"):
        raise ValueError(f"payment_status must be 'paid' or 'unpaid', not {payment_status!r}")
    with store.lock:
        session = stored.session
        _require_status(session, "open", "completed")
        mode = session["mode"]
        if mode == "setup" and payment_status != "paid":
            raise ValueError("a setup-mode session takes no payment, so it cannot stay unpaid")
        email = customer_email or session.get("customer_email") or DEFAULT_CUSTOMER_EMAIL
        details = objects.customer_details(email)
        details["name"] = customer_name or DEFAULT_CUSTOMER_NAME
        session.update(
            status="complete",
            url=None,
            customer=session.get("customer") or objects.random_id("cus_", 14),
            customer_details=details,
        )
        if mode == "setup":
            session["setup_intent"] = objects.random_id("seti_")
        else:
            session["payment_status"] = payment_status
        if mode == "payment":
            session["payment_intent"] = payments.start(
                store, stored, now=now, paid=payment_status == "paid"
            )
        if mode == "subscription":
            session["subscription"] = objects.random_id("sub_")
            session["invoice"] = objects.random_id("in_")
        stored.async_payment = "pending" if payment_status == "unpaid" else None
        _publish(store, stored, events.SESSION_COMPLETED, now)


def settle_async_payment(
    store: Store, stored: StoredSession, *, now: int, succeeded: bool = True
) -> None:
    """The delayed payment of a complete, unpaid session succeeds (-> paid) or fails.

    Allowed once per session; the session stays `complete` either way.
    """
    with store.lock:
        session = stored.session
        if stored.async_payment != "pending":
            raise SessionStateError(
                f"{session['id']} has no pending delayed payment (status {session['status']}, "
                f"payment_status {session['payment_status']}); only a session completed with "
                "payment_status 'unpaid' can be settled, once"
            )
        if session["payment_intent"] is not None:
            payments.settle(store, stored, now=now, succeeded=succeeded)
        if succeeded:
            session["payment_status"] = "paid"
            stored.async_payment = "succeeded"
            _publish(store, stored, events.SESSION_ASYNC_PAYMENT_SUCCEEDED, now)
        else:
            stored.async_payment = "failed"
            _publish(store, stored, events.SESSION_ASYNC_PAYMENT_FAILED, now)


def expire(
    store: Store,
    stored: StoredSession,
    *,
    now: int,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> None:
    """An open session expires: status `expired`, no `url`, `checkout.session.expired`.

    `request_id`/`idempotency_key` name the API request that expired it (None
    when it expired by itself at `expires_at`), as the event's `request` does.
    """
    with store.lock:
        _require_status(stored.session, "open", "expired")
        stored.session.update(status="expired", url=None)
        _publish(
            store,
            stored,
            events.SESSION_EXPIRED,
            now,
            request_id=request_id,
            idempotency_key=idempotency_key,
        )


def expire_due(store: Store, now: float) -> list[str]:
    """Expire every open session whose `expires_at` is at or before `now`; their ids.

    Sessions expire in `expires_at` order (then creation order), so their
    events are too.
    """
    with store.lock:
        due = store.take_due_open_sessions(now)
        for stored in due:
            expire(store, stored, now=int(now))
        return [stored.session["id"] for stored in due]


def next_expiry(store: Store) -> int | None:
    """The earliest `expires_at` of an open session, or None if none is open."""
    return store.next_open_expiry()


def _require_status(session: dict[str, object], status: str, verb: str) -> None:
    if session["status"] != status:
        raise SessionStateError(
            f"{session['id']} is {session['status']}; only {status} sessions can be {verb}"
        )


def _publish(
    store: Store,
    stored: StoredSession,
    event_type: str,
    now: int,
    *,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> None:
    store.events.publish(
        event_type,
        stored.session,
        account=stored.account,
        created=now,
        request_id=request_id,
        idempotency_key=idempotency_key,
    )
