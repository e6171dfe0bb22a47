"""Amounts in a currency's smallest unit, formatted for people as Stripe's pages show them."""

from __future__ import annotations

from decimal import Decimal

# https://stripe.com/docs/currencies#zero-decimal and #three-decimal
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])


def exponent(currency: str) -> int:
    """How many decimals the currency's smallest unit has (JPY 0, SEK 2, KWD 3)."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def format_amount(amount: int, currency: str) -> str:
    """`10000, "sek"` -> `"SEK 100.00"`; `1500, "jpy"` -> `"JPY 1,500"` (no decimals)."""
    value = Decimal(amount).scaleb(-exponent(currency))
    return f"{currency.upper()} {value:,.{exponent(currency)}f}"
