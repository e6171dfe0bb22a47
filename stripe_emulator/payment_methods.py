"""Which payment methods a Checkout Session offers, as Stripe works it out at this API version.

At 2026-09-30.endive and later, `payment_method_types` can no longer be
passed (400 `payment_method_types_no_longer_supported`). Instead:

* `allowed_payment_method_types` filters the methods the account has enabled;
  Stripe silently drops one the session's currency cannot take (Swish: SEK
  only; MobilePay: DKK, EUR, NOK, SEK; Klarna: its currencies; card: every
  currency; see `CURRENCIES`), and the session shows what is left as its
  `payment_method_types`. If nothing is left, the session cannot be created.
  A method `CURRENCIES` does not list is taken to accept any currency.
* It may not be combined with `excluded_payment_method_types` or
  `payment_method_configuration` (mutually exclusive, as Stripe documents
  for PaymentIntents' `allowed_payment_method_types`).
* Without it, the session offers `card` (the emulator's stand-in for the
  Dashboard's dynamic payment methods), less `excluded_payment_method_types`.
* `payment_method_configuration` (`pmc_...`) is recorded as
  `payment_method_configuration_details` (`{"id", "parent": null}`); the
  emulator holds no configurations, so any `pmc_` id is taken as one.
"""

from __future__ import annotations

from typing import Any

import stripe

from . import errors
from .routing import ApiContext

API_VERSION: str = stripe.api_version

DYNAMIC_DEFAULT = ("card",)
CURRENCIES: dict[str, frozenset[str]] = {
    "swish": frozenset({"sek"}),
    "mobilepay": frozenset({"dkk", "eur", "nok", "sek"}),
    "klarna": frozenset(
        ["aud", "cad", "chf", "czk", "dkk", "eur", "gbp", "nok", "nzd", "pln", "ron", "sek", "usd"],
    ),
    "bancontact": frozenset({"eur"}),
    "eps": frozenset({"eur"}),
    "ideal": frozenset({"eur"}),
    "blik": frozenset({"pln"}),
    "p24": frozenset({"eur", "pln"}),
    "twint": frozenset({"chf"}),
}
_CONFIGURATION_PREFIX = "pmc_"


def check_removed_params(raw: dict[str, Any]) -> None:
    """Refuse `payment_method_types` before the params are checked against the SDK's types."""
    if "payment_method_types" in raw:
        raise errors.invalid(
            f"`payment_method_types` is no longer supported on API version {API_VERSION}. Use "
            "`allowed_payment_method_types` to choose among the payment methods enabled in "
            "your Dashboard.",
            "payment_method_types",
            "payment_method_types_no_longer_supported",
        )


def check_create(ctx: ApiContext) -> None:
    params = ctx.params
    if "allowed_payment_method_types" in params:
        for other in ("excluded_payment_method_types", "payment_method_configuration"):
            if other in params:
                raise errors.parameters_exclusive("allowed_payment_method_types", other)
    configuration = params.get("payment_method_configuration")
    if configuration is not None and not configuration.startswith(_CONFIGURATION_PREFIX):
        raise errors.resource_missing(
            "payment_method_configuration",
            configuration,
            "payment_method_configuration",
            status=400,
        )
    if "allowed_payment_method_types" in params and not offered(params):
        currency = session_currency(params)
        raise errors.invalid(
            "None of the payment method types in `allowed_payment_method_types` can be used "
            f"with this Checkout Session (currency `{currency}`).",
            "allowed_payment_method_types",
        )


def offered(params: dict[str, Any]) -> list[str]:
    """The session's `payment_method_types`, from checked create params."""
    allowed = params.get("allowed_payment_method_types")
    if allowed is None:
        excluded = params.get("excluded_payment_method_types", [])
        return [method for method in DYNAMIC_DEFAULT if method not in excluded]
    currency = session_currency(params)
    return [
        method
        for method in dict.fromkeys(allowed)
        if currency is None or currency in CURRENCIES.get(method, frozenset({currency}))
    ]


def configuration_details(params: dict[str, Any]) -> dict[str, Any] | None:
    configuration = params.get("payment_method_configuration")
    return None if configuration is None else {"id": configuration, "parent": None}


def session_currency(params: dict[str, Any]) -> str | None:
    if "currency" in params:
        return params["currency"]
    items = params.get("line_items") or []
    return items[0]["price_data"]["currency"] if items else None
