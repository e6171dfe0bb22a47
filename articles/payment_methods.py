"""The payment methods a company may offer in Checkout, and the currencies each can take.

At the API version the SDK pins, Checkout takes a company's own list as
``allowed_payment_method_types``, and Stripe silently drops a method that the
session's currency cannot take. So the service checks the list against the
company's currency itself, when the settings are saved and at each create: a
salon never believes it offers Swish when it doesn't.
"""

from collections.abc import Iterable

# Each method a company may name, and the presentment currencies Stripe takes it in
# (None: every currency Stripe supports). From the "Payment method properties" of each
# method's page in Stripe's documentation:
#   card       https://docs.stripe.com/payments/cards (no currency restriction)
#   klarna     https://docs.stripe.com/payments/klarna
#   mobilepay  https://docs.stripe.com/payments/mobilepay (DKK, EUR, NOK, SEK)
#   swish      https://docs.stripe.com/payments/swish (SEK)
PAYMENT_METHOD_CURRENCIES: dict[str, frozenset[str] | None] = {
    "card": None,
    "klarna": frozenset(
        {"AUD", "CAD", "CHF", "CZK", "DKK", "EUR", "GBP", "NOK", "NZD", "PLN", "RON", "SEK", "USD"}
    ),
    "mobilepay": frozenset({"DKK", "EUR", "NOK", "SEK"}),
    "swish": frozenset({"SEK"}),
}
PAYMENT_METHOD_CHOICES = [
    ("card", "Card"),
    ("klarna", "Klarna"),
    ("mobilepay", "MobilePay"),
    ("swish", "Swish"),
]
# How a list of methods is kept in one column: "card,swish".
SEPARATOR = ","


def parse_payment_methods(text: str) -> list[str]:
    """``"card, Swish"`` -> ``["card", "swish"]``: the stored list, in order, once each."""
    names = (name.strip().lower() for name in text.split(SEPARATOR))
    return list(dict.fromkeys(name for name in names if name))


def unknown_payment_methods(methods: Iterable[str]) -> list[str]:
    return [method for method in methods if method not in PAYMENT_METHOD_CURRENCIES]


def unavailable_in(currency: str, methods: Iterable[str]) -> list[str]:
    """The known ``methods`` that Stripe cannot take in ``currency``."""
    return [
        method
        for method in methods
        if (currencies := PAYMENT_METHOD_CURRENCIES.get(method)) is not None
        and currency.upper() not in currencies
    ]


def describe_unavailable(currency: str, methods: Iterable[str]) -> str:
    """``"Swish cannot take EUR (it takes SEK only)."`` for each method, in one sentence each."""
    labels = dict(PAYMENT_METHOD_CHOICES)
    return " ".join(
        f"{labels[method]} cannot take {currency.upper()} "
        f"(it takes {', '.join(sorted(PAYMENT_METHOD_CURRENCIES[method]))} only)."
        for method in methods
    )
