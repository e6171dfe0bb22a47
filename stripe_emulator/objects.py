"""Builders for the JSON objects the emulator answers with.

Shapes follow Stripe's published fixtures (`fixtures3.json`, resource
`checkout.session` and `item`), copied here so nothing is read at runtime.
Builders are pure: they take validated params and return plain dicts.
"""

from __future__ import annotations

import secrets
import string
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

_ALPHABET = string.ascii_letters + string.digits

# Fields a client may expand on a checkout.session. `line_items` and
# `payment_intent` are materialised; the others are ids the emulator holds no
# object for.
EXPANDABLE_SESSION_FIELDS = frozenset(
    {
        "customer",
        "invoice",
        "line_items",
        "payment_intent",
        "payment_link",
        "setup_intent",
        "subscription",
    }
)


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_session_id() -> str:
    return random_id("cs_test_a1", 56)


def new_request_id() -> str:
    return random_id("req_", 14)


def line_amount(price_data: dict[str, Any], quantity: int) -> int:
    """unit_amount x quantity; a fractional unit_amount_decimal total is rounded half up."""
    if "unit_amount" in price_data:
        return int(price_data["unit_amount"]) * quantity
    total = Decimal(price_data["unit_amount_decimal"]) * quantity
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def build_line_item(line_item: dict[str, Any], created: int) -> dict[str, Any]:
    """A checkout `item` (with its inline `price`) from one validated `line_items[n]` entry."""
    price_data = line_item["price_data"]
    quantity = line_item["quantity"]
    amount = line_amount(price_data, quantity)
    product_data = price_data.get("product_data")
    if "unit_amount" in price_data:
        unit_amount: int | None = price_data["unit_amount"]
        unit_amount_decimal = str(price_data["unit_amount"])
    else:
        decimal = Decimal(price_data["unit_amount_decimal"])
        unit_amount = int(decimal) if decimal == decimal.to_integral_value() else None
        unit_amount_decimal = str(decimal)
    price = {
        "id": random_id("price_"),
        "object": "price",
        "active": False,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": price_data["currency"],
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": price_data.get("product") or random_id("prod_", 14),
        "recurring": None,
        "tax_behavior": price_data.get("tax_behavior", "unspecified"),
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    }
    return {
        "id": random_id("li_"),
        "object": "item",
        "adjustable_quantity": line_item.get("adjustable_quantity"),
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price_data["currency"],
        "description": product_data["name"] if product_data else None,
        "metadata": line_item.get("metadata") or {},
        "price": price,
        "quantity": quantity,
    }


def build_session(
    params: dict[str, Any],
    *,
    session_id: str,
    created: int,
    expires_at: int,
    currency: str | None,
    amount_total: int | None,
    base_url: str,
    payment_method_types: list[str],
    payment_method_configuration_details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `checkout.session` in status `open`, filled from validated create params."""
    mode = params["mode"]
    ui_mode = params.get("ui_mode", "hosted_page")
    hosted = ui_mode == "hosted_page"
    return {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": bool(params.get("adaptive_pricing", {}).get("enabled"))},
        "after_expiration": _after_expiration(params.get("after_expiration")),
        "allow_promotion_codes": params.get("allow_promotion_codes"),
        "allowed_payment_method_types": params.get("allowed_payment_method_types"),
        "amount_subtotal": amount_total,
        "amount_total": amount_total,
        "automatic_tax": {
            "enabled": bool(params.get("automatic_tax", {}).get("enabled")),
            "liability": None,
            "provider": None,
            "status": None,
        },
        "billing_address_collection": params.get("billing_address_collection"),
        "branding_settings": None,
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "client_secret": None if hosted else f"{session_id}_secret_{random_id('', 24)}",
        "collected_information": None,
        "consent": None,
        "consent_collection": params.get("consent_collection"),
        "created": created,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": params.get("custom_fields", []),
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
            **params.get("custom_text", {}),
        },
        "customer": params.get("customer"),
        "customer_account": params.get("customer_account"),
        "customer_creation": params.get(
            "customer_creation", "if_required" if mode == "payment" else None
        ),
        "customer_details": None,
        "customer_email": params.get("customer_email"),
        "discounts": [],
        "excluded_payment_method_types": params.get("excluded_payment_method_types"),
        "expires_at": expires_at,
        "integration_identifier": params.get("integration_identifier"),
        "invoice": None,
        "invoice_creation": _invoice_creation(params) if mode == "payment" else None,
        "livemode": False,
        "locale": params.get("locale"),
        "managed_payments": {
            "enabled": bool(params.get("managed_payments", {}).get("enabled")),
        },
        "metadata": params.get("metadata", {}),
        "mode": mode,
        "name_collection": params.get("name_collection"),
        "optional_items": params.get("optional_items"),
        "origin_context": params.get("origin_context"),
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": params.get("payment_method_collection", "if_required"),
        "payment_method_configuration_details": payment_method_configuration_details,
        "payment_method_options": params.get("payment_method_options", {}),
        "payment_method_types": payment_method_types,
        "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
        "permissions": params.get("permissions"),
        "phone_number_collection": {
            "enabled": bool(params.get("phone_number_collection", {}).get("enabled")),
        },
        "presentment_details": None,
        "recovered_from": None,
        "redirect_on_completion": None
        if hosted
        else params.get("redirect_on_completion", "always"),
        "return_url": params.get("return_url"),
        "saved_payment_method_options": {
            "allow_redisplay_filters": ["always"],
            "payment_method_remove": None,
            "payment_method_save": None,
        },
        "setup_intent": None,
        "shipping_address_collection": params.get("shipping_address_collection"),
        "shipping_cost": None,
        "shipping_options": params.get("shipping_options", []),
        "status": "open",
        "submit_type": params.get("submit_type"),
        "subscription": None,
        "success_url": params.get("success_url"),
        "tax_id_collection": {"enabled": False, "required": "never"},
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": ui_mode,
        "url": f"{base_url}/c/pay/{session_id}" if hosted else None,
        "wallet_options": params.get("wallet_options"),
    }


def _after_expiration(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value or "recovery" not in value:
        return None
    recovery = value["recovery"]
    return {
        "recovery": {
            "allow_promotion_codes": bool(recovery.get("allow_promotion_codes")),
            "enabled": recovery["enabled"],
            "expires_at": None,
            "url": None,
        }
    }


def _invoice_creation(params: dict[str, Any]) -> dict[str, Any]:
    requested = params.get("invoice_creation", {})
    return {
        "enabled": bool(requested.get("enabled")),
        "invoice_data": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": None,
            "metadata": {},
            "rendering_options": None,
            **requested.get("invoice_data", {}),
        },
    }


def customer_details(email: str | None) -> dict[str, Any]:
    """`customer_details` as Checkout fills it in once the customer has paid."""
    return {
        "address": {
            "city": None,
            "country": "SE",
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def list_object(url: str, data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
