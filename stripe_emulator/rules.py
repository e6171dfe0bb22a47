"""Stripe's business rules for creating a Checkout Session, beyond what the types say.

`check_create(ctx)` raises the first `ApiError` Stripe would answer with for
already type-checked params. `payment` mode is enforced in full; `setup` and
`subscription` get the mode-level rules only.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from . import errors
from .metadata import check_metadata
from .objects import line_amount
from .routing import ApiContext

MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60
MAX_LINE_ITEMS = 100
MAX_CLIENT_REFERENCE_ID = 200
MAX_URL = 5000
MAX_DECIMAL_PLACES = 12

# Currencies Stripe settles card payments in (https://stripe.com/docs/currencies).
_CURRENCY_ROWS = (
    "aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl",
    "bsd bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur",
    "fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy",
    "kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop",
    "mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg",
    "qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd top",
    "try ttd twd tzs uah ugx usd uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw",
)
SUPPORTED_CURRENCIES = frozenset(code for row in _CURRENCY_ROWS for code in row.split())

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MODE_ONLY_PARAMS = {
    "payment_intent_data": "payment",
    "subscription_data": "subscription",
    "setup_intent_data": "setup",
}


def is_email(value: str) -> bool:
    """Whether Stripe would take `value` as an email address."""
    return _EMAIL.match(value) is not None


def check_create(ctx: ApiContext) -> None:
    params = ctx.params
    mode = params.get("mode")
    if mode is None:
        raise errors.parameter_missing("mode")
    _check_customer(params)
    _check_client_reference_id(params)
    _check_all_metadata(params)
    for name in ("success_url", "cancel_url", "return_url"):
        if name in params:
            check_url(params[name], name)
    _check_ui_mode(params)
    _check_expires_at(params, ctx.now)
    if "currency" in params:
        _check_currency(params["currency"], "currency")
    for name, only_mode in _MODE_ONLY_PARAMS.items():
        if name in params and mode != only_mode:
            raise errors.invalid(f"You can not pass `{name}` in `{mode}` mode.", name)
    if mode == "setup":
        if "line_items" in params:
            raise errors.invalid("You can not pass `line_items` in `setup` mode.", "line_items")
        return
    _check_line_items(params, mode)
    _check_application_fee(params, ctx.account)


def _check_customer(params: dict[str, Any]) -> None:
    if "customer" in params and "customer_email" in params:
        raise errors.parameters_exclusive("customer", "customer_email")
    email = params.get("customer_email")
    if email is not None and not is_email(email):
        raise errors.invalid(f"Invalid email address: {email}", "customer_email", "email_invalid")


def _check_client_reference_id(params: dict[str, Any]) -> None:
    value = params.get("client_reference_id")
    if value is not None and len(value) > MAX_CLIENT_REFERENCE_ID:
        raise errors.invalid(
            f"Invalid string: {value[:20]}...; must be at most {MAX_CLIENT_REFERENCE_ID} "
            "characters",
            "client_reference_id",
        )


def _check_all_metadata(params: dict[str, Any]) -> None:
    check_metadata(params.get("metadata"), "metadata")
    check_metadata(
        params.get("payment_intent_data", {}).get("metadata"), "payment_intent_data[metadata]"
    )
    for index, item in enumerate(params.get("line_items", [])):
        check_metadata(item.get("metadata"), f"line_items[{index}][metadata]")
        product_data = item.get("price_data", {}).get("product_data", {})
        check_metadata(
            product_data.get("metadata"), f"line_items[{index}][price_data][product_data][metadata]"
        )


def check_url(url: str, param: str) -> None:
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or len(url) > MAX_URL
        or any(c.isspace() for c in url)
    ):
        raise errors.invalid("Not a valid URL", param, "url_invalid")


def _check_ui_mode(params: dict[str, Any]) -> None:
    ui_mode = params.get("ui_mode", "hosted_page")
    when_ui_mode = f"when `ui_mode` is `{ui_mode}`"
    if ui_mode == "hosted_page":
        for name in ("return_url", "redirect_on_completion"):
            if name in params:
                raise errors.not_allowed(name, when_ui_mode)
        return
    for name in ("success_url", "cancel_url"):
        if name in params:
            raise errors.not_allowed(name, when_ui_mode)
    never_redirects = params.get("redirect_on_completion") == "never"
    if never_redirects and "return_url" in params:
        raise errors.not_allowed("return_url", "when `redirect_on_completion` is `never`")
    if not never_redirects and "return_url" not in params:
        raise errors.invalid(
            f"Missing required param: return_url. It is required {when_ui_mode} unless "
            "`redirect_on_completion` is `never`.",
            "return_url",
            "parameter_missing",
        )


def _check_expires_at(params: dict[str, Any], now: int) -> None:
    expires_at = params.get("expires_at")
    if expires_at is None:
        return
    if expires_at - now < MIN_EXPIRY_SECONDS:
        raise errors.invalid(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
            "creation.",
            "expires_at",
        )
    if expires_at - now > MAX_EXPIRY_SECONDS:
        raise errors.invalid(
            "The `expires_at` timestamp must be at most 24 hours from Checkout Session creation.",
            "expires_at",
        )


def _check_currency(currency: str, param: str) -> None:
    if currency not in SUPPORTED_CURRENCIES:
        raise errors.invalid(
            f"Invalid currency: {currency}. Stripe currently supports lowercase three-letter "
            "ISO codes listed at https://stripe.com/docs/currencies.",
            param,
        )


def _check_line_items(params: dict[str, Any], mode: str) -> None:
    line_items = params.get("line_items")
    if not line_items:
        raise errors.parameter_missing("line_items")
    if len(line_items) > MAX_LINE_ITEMS:
        raise errors.invalid(
            f"You may only specify up to {MAX_LINE_ITEMS} line items in `{mode}` mode.",
            "line_items",
        )
    first_currency: str | None = None
    for index, item in enumerate(line_items):
        currency = _check_line_item(item, f"line_items[{index}]", mode)
        if first_currency is None:
            first_currency = currency
        elif currency != first_currency:
            raise errors.invalid(
                "All line items must use the same currency: `line_items[0]` is in "
                f"{first_currency} but `line_items[{index}]` is in {currency}.",
                f"line_items[{index}][price_data][currency]",
            )
    requested = params.get("currency")
    if requested is not None and requested != first_currency:
        raise errors.invalid(
            f"The `currency` ({requested}) must match the currency of the line items "
            f"({first_currency}).",
            "currency",
        )


def _check_application_fee(params: dict[str, Any], account: str | None) -> None:
    """`payment_intent_data[application_fee_amount]`: only for a direct charge on a connected
    account (or a destination charge), from 0 up to the session's total."""
    intent_data = params.get("payment_intent_data", {})
    fee = intent_data.get("application_fee_amount")
    if fee is None:
        return
    param = "payment_intent_data[application_fee_amount]"
    if account is None and "destination" not in intent_data.get("transfer_data", {}):
        raise errors.invalid(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
            "direct payment (using an OAuth key or Stripe-Account header) or destination "
            "payment (using `transfer_data[destination]`).",
            param,
        )
    if fee < 0:
        raise errors.value_at_least(param, 0)
    total = session_total(params["line_items"])
    if fee > total:
        raise errors.invalid(
            f"The application fee amount ({fee}) cannot be greater than the total amount of "
            f"the Checkout Session ({total}).",
            param,
        )


def session_total(line_items: list[dict[str, Any]]) -> int:
    """What the customer pays for these (checked) line items, in the smallest unit."""
    return sum(line_amount(item["price_data"], item["quantity"]) for item in line_items)


def _check_line_item(item: dict[str, Any], param: str, mode: str) -> str:
    """Check one line item; return its currency."""
    if "price" in item and "price_data" in item:
        raise errors.parameters_exclusive(f"{param}[price]", f"{param}[price_data]")
    if "price" in item:
        # The emulator has no Prices API, so every price id is unknown to it.
        raise errors.resource_missing("price", item["price"], f"{param}[price]", status=400)
    if "price_data" not in item:
        raise errors.invalid(
            f"Missing required param: {param}[price_data]. Each line item needs `price` or "
            "`price_data`.",
            f"{param}[price_data]",
            "parameter_missing",
        )
    if "quantity" not in item:
        raise errors.parameter_missing(f"{param}[quantity]")
    if item["quantity"] < 1:
        raise errors.value_at_least(f"{param}[quantity]", 1)
    return _check_price_data(item["price_data"], f"{param}[price_data]", mode)


def _check_price_data(price_data: dict[str, Any], param: str, mode: str) -> str:
    _check_currency(price_data["currency"], f"{param}[currency]")
    if "product" in price_data and "product_data" in price_data:
        raise errors.parameters_exclusive(f"{param}[product]", f"{param}[product_data]")
    if "product" not in price_data and "product_data" not in price_data:
        raise errors.parameter_missing(f"{param}[product_data]")
    if "unit_amount" in price_data and "unit_amount_decimal" in price_data:
        raise errors.parameters_exclusive(f"{param}[unit_amount]", f"{param}[unit_amount_decimal]")
    if "unit_amount" in price_data:
        if price_data["unit_amount"] < 0:
            raise errors.value_at_least(f"{param}[unit_amount]", 0)
    elif "unit_amount_decimal" in price_data:
        _check_unit_amount_decimal(price_data["unit_amount_decimal"], param)
    else:
        raise errors.parameter_missing(f"{param}[unit_amount]")
    if mode == "payment" and "recurring" in price_data:
        raise errors.invalid(
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
            f"{param}[recurring]",
        )
    return price_data["currency"]


def _check_unit_amount_decimal(value: Decimal, param: str) -> None:
    name = f"{param}[unit_amount_decimal]"
    if value < 0:
        raise errors.value_at_least(name, 0)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:
        raise errors.invalid(
            f"Invalid decimal: {value}; must have at most {MAX_DECIMAL_PLACES} decimal places",
            name,
        )
