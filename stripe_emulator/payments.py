"""The payment behind a Checkout Session in `payment` mode: PaymentIntent, Charge, fee.

    complete(paid)     -> payment_intent succeeded               charge succeeded (+ fee)
    complete(unpaid)   -> payment_intent processing              charge pending
      settle(success)  -> payment_intent succeeded               charge succeeded (+ fee)
      settle(failure)  -> payment_intent requires_payment_method charge failed

The intent and charge belong to the session's account; `amount` is the
session's `amount_total`, `metadata`, `description`, `application_fee_amount`
(and the rest) come from the create request's `payment_intent_data`. When
the charge succeeds with an `application_fee_amount` above 0, the platform's
`application_fee` (`fee_...`) is created and named on the charge. `lifecycle`
calls these under `store.lock`; they emit no events of their own (Stripe's
`payment_intent.*`/`charge.*` events are not emulated): the session's events
tell the story.
"""

from __future__ import annotations

from typing import Any

from . import payment_objects
from .objects import random_id
from .store import Store, StoredObject, StoredSession

DECLINE_CODE = "insufficient_funds"
DECLINE_MESSAGE = "The customer's account has insufficient funds to cover this payment."


def start(store: Store, stored: StoredSession, *, now: int, paid: bool) -> str:
    """The customer paid (or started a delayed payment): the intent and charge; the intent id."""
    charge_id = random_id("ch_")
    intent = payment_objects.build_payment_intent(
        stored.session,
        stored.payment_intent_data,
        account=stored.account,
        created=now,
        status="succeeded" if paid else "processing",
        charge_id=charge_id,
    )
    charge = payment_objects.build_charge(
        intent,
        stored.session,
        charge_id=charge_id,
        created=now,
        status="succeeded" if paid else "pending",
    )
    store.add_object(stored.account, intent)
    store.add_object(stored.account, charge)
    if paid:
        _take_fee(store, charge, stored, now)
    return intent["id"]


def settle(store: Store, stored: StoredSession, *, now: int, succeeded: bool) -> None:
    """The delayed payment of the session's intent succeeds or fails."""
    intent = _object(store, "payment_intent", stored.session["payment_intent"])
    charge = _object(store, "charge", intent["latest_charge"])
    if succeeded:
        intent.update(status="succeeded", amount_received=intent["amount"])
        charge.update(
            status="succeeded",
            paid=True,
            captured=True,
            amount_captured=charge["amount"],
            balance_transaction=payment_objects.new_balance_transaction_id(),
            outcome=payment_objects.outcome("succeeded"),
        )
        _take_fee(store, charge, stored, now)
        return
    charge.update(
        status="failed",
        failure_code=DECLINE_CODE,
        failure_message=DECLINE_MESSAGE,
        outcome=payment_objects.outcome("failed"),
    )
    intent.update(
        status="requires_payment_method",
        last_payment_error={
            "charge": charge["id"],
            "code": DECLINE_CODE,
            "message": DECLINE_MESSAGE,
            "type": "card_error",
        },
    )


def successful_charge(store: Store, intent: dict[str, Any]) -> StoredObject | None:
    """The intent's charge if it succeeded (the one a refund of the intent refunds)."""
    charge_id = intent.get("latest_charge")
    stored = store.any_object("charge", charge_id) if charge_id else None
    return stored if stored is not None and stored.object["status"] == "succeeded" else None


def _take_fee(store: Store, charge: dict[str, Any], stored: StoredSession, now: int) -> None:
    fee_amount = charge["application_fee_amount"]
    destination = (charge["transfer_data"] or {}).get("destination")
    account = stored.account or destination
    if not fee_amount or account is None:
        return
    fee = payment_objects.build_application_fee(charge, account=account, created=now)
    store.add_object(None, fee)  # the platform's
    charge["application_fee"] = fee["id"]


def _object(store: Store, kind: str, object_id: str) -> dict[str, Any]:
    stored = store.any_object(kind, object_id)
    if stored is None:
        raise KeyError(object_id)
    return stored.object
