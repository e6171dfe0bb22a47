"""Builders for the objects behind a Checkout payment: payment_intent, charge,
application_fee, refund and fee_refund.

Shapes follow Stripe's published fixtures (`fixtures3.json`) at the pinned API
version, where `charge.refunds` is expand-only and a refund's `failure_reason`
and `pending_reason` appear only in the states they describe. Builders are
pure: they take the session and what the payment is, and return plain dicts.
"""

from __future__ import annotations

from typing import Any

from .objects import list_object, random_id

# The platform's Connect application, named on what it creates on connected accounts.
APPLICATION = "ca_StripeEmulatorPlatform0001"
TEST_CARD = {
    "brand": "visa",
    "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
    "country": "SE",
    "exp_month": 12,
    "exp_year": 2034,
    "fingerprint": "EmulatorCard4242",
    "funding": "credit",
    "last4": "4242",
    "network": "visa",
    "three_d_secure": None,
    "wallet": None,
}


def new_balance_transaction_id() -> str:
    return random_id("txn_")


def build_payment_intent(
    session: dict[str, Any],
    intent_data: dict[str, Any],
    *,
    account: str | None,
    created: int,
    status: str,
    charge_id: str,
) -> dict[str, Any]:
    """The session's PaymentIntent in `status`, its `latest_charge` being `charge_id`."""
    intent_id = random_id("pi_")
    amount = session["amount_total"]
    transfer = intent_data.get("transfer_data")
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": amount if status == "succeeded" else 0,
        "allowed_payment_method_types": session.get("allowed_payment_method_types"),
        "application": APPLICATION if account else None,
        "application_fee_amount": intent_data.get("application_fee_amount"),
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": intent_data.get("capture_method", "automatic_async"),
        "client_secret": f"{intent_id}_secret_{random_id('', 25)}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": session["currency"],
        "customer": session["customer"],
        "customer_account": session.get("customer_account"),
        "description": intent_data.get("description"),
        "excluded_payment_method_types": session.get("excluded_payment_method_types"),
        "last_payment_error": None,
        "latest_charge": charge_id,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "metadata": dict(intent_data.get("metadata", {})),
        "next_action": None,
        "on_behalf_of": intent_data.get("on_behalf_of"),
        "payment_method": random_id("pm_"),
        "payment_method_configuration_details": session["payment_method_configuration_details"],
        "payment_method_options": {},
        "payment_method_types": list(session["payment_method_types"]),
        "processing": None,
        "receipt_email": intent_data.get("receipt_email"),
        "review": None,
        "setup_future_usage": intent_data.get("setup_future_usage"),
        "shipping": intent_data.get("shipping"),
        "source": None,
        "statement_descriptor": intent_data.get("statement_descriptor"),
        "statement_descriptor_suffix": intent_data.get("statement_descriptor_suffix"),
        "status": status,
        "transfer_data": {"destination": transfer["destination"]} if transfer else None,
        "transfer_group": intent_data.get("transfer_group"),
    }


def build_charge(
    intent: dict[str, Any], session: dict[str, Any], *, charge_id: str, created: int, status: str
) -> dict[str, Any]:
    """The charge of `intent` in `status` (`succeeded`, `pending` or `failed`)."""
    paid = status == "succeeded"
    details = session.get("customer_details") or {}
    method_type = (
        "card" if "card" in intent["payment_method_types"] else intent["payment_method_types"][0]
    )
    return {
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"] if paid else 0,
        "amount_refunded": 0,
        "application": intent["application"],
        "application_fee": None,
        "application_fee_amount": intent["application_fee_amount"],
        "balance_transaction": new_balance_transaction_id() if paid else None,
        "billing_details": {
            "address": details.get("address"),
            "email": details.get("email"),
            "name": details.get("name"),
            "phone": details.get("phone"),
            "tax_id": None,
        },
        "calculated_statement_descriptor": intent["statement_descriptor"],
        "captured": paid,
        "created": created,
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": intent["on_behalf_of"],
        "outcome": outcome(status),
        "paid": paid,
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "payment_method_details": {
            "type": method_type,
            method_type: dict(TEST_CARD) if method_type == "card" else {},
        },
        "receipt_email": intent["receipt_email"],
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{random_id('', 40)}",
        "refunded": False,
        "review": None,
        "shipping": intent["shipping"],
        "source": None,
        "source_transfer": None,
        "statement_descriptor": intent["statement_descriptor"],
        "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
        "status": status,
        "transfer_data": intent["transfer_data"],
        "transfer_group": intent["transfer_group"],
    }


def outcome(status: str) -> dict[str, Any] | None:
    if status == "pending":
        return None
    approved = status == "succeeded"
    return {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network" if approved else "declined_by_network",
        "reason": None if approved else "insufficient_funds",
        "risk_level": "normal",
        "seller_message": "Payment complete." if approved else "The bank declined the payment.",
        "type": "authorized" if approved else "issuer_declined",
    }


def build_application_fee(charge: dict[str, Any], *, account: str, created: int) -> dict[str, Any]:
    """The platform's fee on `charge`, taken from connected account `account`."""
    fee_id = random_id("fee_")
    return {
        "id": fee_id,
        "object": "application_fee",
        "account": account,
        "amount": charge["application_fee_amount"],
        "amount_refunded": 0,
        "application": APPLICATION,
        "balance_transaction": new_balance_transaction_id(),
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "fee_source": {"charge": charge["id"], "type": "charge"},
        "livemode": False,
        "originating_transaction": None,
        "refunded": False,
        "refunds": list_object(f"/v1/application_fees/{fee_id}/refunds", [], False),
    }


def build_refund(
    charge: dict[str, Any],
    *,
    amount: int,
    status: str,
    created: int,
    reason: str | None = None,
    metadata: dict[str, str] | None = None,
    instructions_email: str | None = None,
) -> dict[str, Any]:
    """A refund of `amount` of `charge`, in `status` (`succeeded` or `pending`)."""
    method_type = charge["payment_method_details"]["type"]
    refund = {
        "id": random_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_balance_transaction_id(),
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "customer": None,
        "customer_account": None,
        "destination_details": {
            "type": method_type,
            method_type: {"type": "refund"} if method_type == "card" else {},
        },
        "metadata": metadata or {},
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }
    if instructions_email is not None:
        refund["instructions_email"] = instructions_email
    if status == "pending":
        refund["pending_reason"] = "processing"
    return refund


def build_fee_refund(fee: dict[str, Any], *, amount: int, created: int) -> dict[str, Any]:
    return {
        "id": random_id("fr_"),
        "object": "fee_refund",
        "amount": amount,
        "balance_transaction": new_balance_transaction_id(),
        "created": created,
        "currency": fee["currency"],
        "fee": fee["id"],
        "metadata": {},
    }
