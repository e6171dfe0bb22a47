"""Money as integer minor units plus an ISO 4217 currency.

Amounts are stored in the currency's ISO minor unit (öre for SEK, yen for
JPY, fils for BHD). Stripe wants "the smallest currency unit" as *it*
defines it, which matches ISO except for a few currencies listed below.
"""

from decimal import Decimal

import pycountry

DEFAULT_EXPONENT = 2

# ISO 4217 minor units that differ from the common two decimals.
ISO_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
            "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}  # fmt: skip

# Where Stripe's "smallest currency unit" is not ISO's: Stripe still takes
# ISK in hundredths and treats MGA as zero-decimal.
STRIPE_EXPONENTS: dict[str, int] = {"ISK": 2, "MGA": 0}


class InexactAmountError(ValueError):
    """The amount cannot be expressed in the target unit without rounding."""


def is_iso_currency(code: str) -> bool:
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code.upper()) is not None


def currency_exponent(currency: str) -> int:
    return ISO_EXPONENTS.get(currency.upper(), DEFAULT_EXPONENT)


def _stripe_exponent(currency: str) -> int:
    return STRIPE_EXPONENTS.get(currency.upper(), currency_exponent(currency))


def _rescale(amount: int, from_exponent: int, to_exponent: int) -> int:
    if to_exponent >= from_exponent:
        return amount * 10 ** (to_exponent - from_exponent)
    quotient, remainder = divmod(amount, 10 ** (from_exponent - to_exponent))
    if remainder:
        raise InexactAmountError(f"{amount} cannot be expressed with {to_exponent} decimals")
    return quotient


def to_stripe_amount(amount: int, currency: str) -> int:
    """ISO minor units -> the integer Stripe expects for ``currency``."""
    return _rescale(amount, currency_exponent(currency), _stripe_exponent(currency))


def from_stripe_amount(amount: int, currency: str) -> int:
    """Stripe's integer amount for ``currency`` -> ISO minor units."""
    return _rescale(amount, _stripe_exponent(currency), currency_exponent(currency))


def smallest_stripe_amount(currency: str) -> int:
    """The smallest amount, in ISO minor units, that Stripe can charge in ``currency``: 1,
    but 100 for MGA, which Stripe takes without decimals."""
    return 10 ** max(0, currency_exponent(currency) - _stripe_exponent(currency))


def to_major_units(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-currency_exponent(currency))


def format_money(amount: int | None, currency: str) -> str:
    """``12950, "SEK"`` -> ``"129.50 SEK"``; ``500, "JPY"`` -> ``"500 JPY"``."""
    if amount is None:
        return ""
    return f"{to_major_units(amount, currency)} {currency.upper()}"
