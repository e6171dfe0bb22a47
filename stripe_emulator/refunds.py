"""Refunds of a paid charge: what Stripe refuses, the states a refund goes through, its events.

    create ----------------------> succeeded   refund.created, charge.refunded
    create (refunds_pending) ----> pending     refund.created, charge.refunded
    pending --settle-------------> succeeded   refund.updated
    pending|succeeded --fail-----> failed      refund.failed, refund.updated

A charge's `amount_refunded` is the sum of its pending and succeeded refunds,
never failed ones (so a failure brings it back down), and `refunded` says
whether that is all of it; the rest is what can still be refunded. Refused,
with Stripe's errors: an intent without a succeeded charge, a fully refunded
charge (`charge_already_refunded`), more than the charge or than what is
left. With `refund_application_fee`, the charge's application fee is
refunded in proportion (what is left of it once the charge is fully
refunded), with the platform's `application_fee.refunded`; a failed refund
does not give the fee back.

Every change happens under `store.lock` and publishes its events on the
charge's account before the lock is released; Dashboard refunds (no API
request) go through the same rules, with `request.id` null.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import errors, events, money, payment_objects, payments
from .store import Store, StoredObject

FAILURE_REASONS = (
    "charge_for_pending_refund_disputed",
    "declined",
    "expired_or_canceled_card",
    "insufficient_funds",
    "lost_or_stolen_card",
    "merchant_request",
    "unknown",
)
_COUNTED = ("pending", "succeeded")  # refund statuses that take money off the charge
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


class RefundStateError(ValueError):
    """The refund's status does not allow this change (e.g. settling a failed refund)."""


# --- what is refunded -------------------------------------------------------------


def charge_to_refund(
    store: Store,
    account: str | None,
    *,
    payment_intent: str | None = None,
    charge: str | None = None,
) -> StoredObject:
    """The charge a refund of this intent or charge (of `account`) takes money from."""
    with store.lock:
        if payment_intent is not None:
            intent = store.find_object("payment_intent", payment_intent, account)
            if intent is None:
                raise errors.resource_missing(
                    "payment_intent", payment_intent, "payment_intent", status=400
                )
            found = payments.successful_charge(store, intent.object)
            if found is None:
                raise _no_successful_charge(payment_intent)
            return found
        assert charge is not None
        found = store.find_object("charge", charge, account)
        if found is None:
            raise errors.resource_missing("charge", charge, "charge", status=400)
        if found.object["status"] != "succeeded":
            raise _no_successful_charge(found.object["payment_intent"])
        return found


def _no_successful_charge(intent_id: str) -> errors.ApiError:
    return errors.invalid(
        f"This PaymentIntent ({intent_id}) does not have a successful charge to refund."
    )


# --- state changes ------------------------------------------------------------------


def create(
    store: Store,
    stored_charge: StoredObject,
    *,
    amount: int | None = None,
    reason: str | None = None,
    metadata: dict[str, str] | None = None,
    refund_application_fee: bool = False,
    instructions_email: str | None = None,
    now: int,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Refund `amount` (default: all that is left) of the charge; the new refund (live)."""
    with store.lock:
        charge = stored_charge.object
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise errors.invalid(
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = remaining if amount is None else amount
        if amount > charge["amount"]:
            raise _too_much(amount, "charge amount", charge["amount"], charge["currency"])
        if amount > remaining:
            raise _too_much(amount, "unrefunded amount on charge", remaining, charge["currency"])
        refund = payment_objects.build_refund(
            charge,
            amount=amount,
            status="pending" if store.take_pending_refund() else "succeeded",
            created=now,
            reason=reason,
            metadata=metadata,
            instructions_email=instructions_email,
        )
        store.add_object(stored_charge.account, refund)
        _recount(store, stored_charge)
        publish = _publisher(store, stored_charge.account, now, request_id, idempotency_key)
        publish(events.REFUND_CREATED, refund)
        publish(events.CHARGE_REFUNDED, charge)
        if refund_application_fee:
            _refund_fee(store, charge, amount, now, request_id, idempotency_key)
        return refund


def settle(store: Store, refund_id: str, *, now: int) -> dict[str, Any]:
    """A pending refund succeeds; the refund (live). KeyError if unknown."""
    with store.lock:
        stored = _stored_refund(store, refund_id)
        refund = stored.object
        if refund["status"] != "pending":
            raise RefundStateError(
                f"{refund_id} is {refund['status']}; only a pending refund can be settled"
            )
        refund["status"] = "succeeded"
        refund.pop("pending_reason", None)
        _publisher(store, stored.account, now)(events.REFUND_UPDATED, refund)
        return refund


def fail(
    store: Store, refund_id: str, *, now: int, failure_reason: str = "unknown"
) -> dict[str, Any]:
    """A pending or succeeded refund fails: the money goes back on the charge. KeyError if
    unknown; ValueError for a failure reason Stripe does not give."""
    if failure_reason not in FAILURE_REASONS:
        raise ValueError(f"failure_reason must be one of {', '.join(FAILURE_REASONS)}")
    with store.lock:
        stored = _stored_refund(store, refund_id)
        refund = stored.object
        if refund["status"] not in _COUNTED:
            raise RefundStateError(
                f"{refund_id} is {refund['status']}; only a pending or succeeded refund can fail"
            )
        refund.pop("pending_reason", None)
        refund.update(
            status="failed",
            failure_reason=failure_reason,
            failure_balance_transaction=payment_objects.new_balance_transaction_id(),
        )
        charge = store.any_object("charge", refund["charge"])
        assert charge is not None
        _recount(store, charge)
        publish = _publisher(store, stored.account, now)
        publish(events.REFUND_FAILED, refund)
        publish(events.REFUND_UPDATED, refund)
        return refund


# --- helpers ----------------------------------------------------------------------


def _recount(store: Store, stored_charge: StoredObject) -> None:
    charge = stored_charge.object
    charge["amount_refunded"] = sum(
        refund.object["amount"]
        for refund in store.objects_of("refund", stored_charge.account)
        if refund.object["charge"] == charge["id"] and refund.object["status"] in _COUNTED
    )
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]


def _refund_fee(
    store: Store,
    charge: dict[str, Any],
    amount: int,
    now: int,
    request_id: str | None,
    idempotency_key: str | None,
) -> None:
    stored_fee = store.any_object("application_fee", charge["application_fee"] or "")
    if stored_fee is None:
        return
    fee = stored_fee.object
    left = fee["amount"] - fee["amount_refunded"]
    share = left if charge["refunded"] else min(left, fee["amount"] * amount // charge["amount"])
    if share <= 0:
        return
    fee_refund = payment_objects.build_fee_refund(fee, amount=share, created=now)
    fee["refunds"]["data"].insert(0, fee_refund)
    fee["amount_refunded"] += share
    fee["refunded"] = fee["amount_refunded"] >= fee["amount"]
    _publisher(store, None, now, request_id, idempotency_key)(events.APPLICATION_FEE_REFUNDED, fee)


def _stored_refund(store: Store, refund_id: str) -> StoredObject:
    stored = store.any_object("refund", refund_id)
    if stored is None:
        raise KeyError(refund_id)
    return stored


def _publisher(
    store: Store,
    account: str | None,
    now: int,
    request_id: str | None = None,
    idempotency_key: str | None = None,
):
    def publish(event_type: str, obj: dict[str, Any]) -> None:
        store.events.publish(
            event_type,
            obj,
            account=account,
            created=now,
            request_id=request_id,
            idempotency_key=idempotency_key,
        )

    return publish


def _too_much(amount: int, what: str, limit: int, currency: str) -> errors.ApiError:
    return errors.invalid(
        f"Refund amount ({_amount(amount, currency)}) is greater than {what} "
        f"({_amount(limit, currency)})",
        "amount",
    )


def _amount(amount: int, currency: str) -> str:
    """How Stripe's refund errors show an amount: `$20.00`, `€7.00`, else `SEK 100.00`."""
    places = money.exponent(currency)
    value = f"{Decimal(amount).scaleb(-places):.{places}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{currency.upper()} {value}"
