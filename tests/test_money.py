"""Integer minor units, converted by each currency's exponent."""

from decimal import Decimal

import pytest

from articles.money import (
    InexactAmountError,
    currency_exponent,
    format_money,
    from_stripe_amount,
    is_iso_currency,
    to_major_units,
    to_stripe_amount,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("SEK", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("sek", 2)],
)
def test_currency_exponents_follow_iso_4217(currency, exponent):
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "stripe_amount"),
    [
        (12950, "SEK", 12950),
        (500, "JPY", 500),
        (1234, "BHD", 1234),
        (79, "ISK", 7900),
        (300, "MGA", 3),
    ],
)
def test_amounts_go_to_stripe_in_its_smallest_unit_and_back(amount, currency, stripe_amount):
    assert to_stripe_amount(amount, currency) == stripe_amount
    assert from_stripe_amount(stripe_amount, currency) == amount


def test_an_amount_stripe_cannot_express_is_refused():
    with pytest.raises(InexactAmountError):
        to_stripe_amount(150, "MGA")


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (12950, "SEK", "129.50 SEK"),
        (500, "JPY", "500 JPY"),
        (1234, "BHD", "1.234 BHD"),
        (None, "SEK", ""),
    ],
)
def test_amounts_are_shown_in_major_units(amount, currency, shown):
    assert format_money(amount, currency) == shown


def test_major_units_are_exact_decimals():
    assert to_major_units(1999, "EUR") == Decimal("19.99")


@pytest.mark.parametrize(
    ("code", "known"), [("SEK", True), ("sek", True), ("XYZ", False), ("SE", False)]
)
def test_currency_codes_are_checked_against_iso_4217(code, known):
    assert is_iso_currency(code) is known
