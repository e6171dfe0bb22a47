"""The platform's fee: the stated rule in integer minor units, sent to Stripe as the
application fee, stored on the checkout."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from articles.models import StripeCheckoutSettings
from checkouts.fees import platform_fee
from checkouts.models import Checkout
from tests.support.api import CHECKOUT_URL, CREATE_SESSION, checkout_body
from tests.support.factories import (
    make_api_key,
    make_article,
    make_checkout,
    make_company,
    make_payable,
)


def rule(percent="0", fixed=0, minimum=None, maximum=None) -> StripeCheckoutSettings:
    return StripeCheckoutSettings(
        platform_fee_percent=Decimal(percent),
        platform_fee_fixed=fixed,
        platform_fee_minimum=minimum,
        platform_fee_maximum=maximum,
    )


@pytest.mark.parametrize(
    ("total", "fee_rule", "fee"),
    [
        (45000, rule("2.50"), 1125),
        (10001, rule("2.50"), 250),  # 250.025 rounds down
        (10020, rule("2.50"), 251),  # 250.5 rounds half up
        (10000, rule("1.25", fixed=300), 425),
        (10000, rule("1.00", minimum=500), 500),
        (100000, rule("10.00", maximum=2000), 2000),
        (10000, rule("1.00", fixed=100, minimum=150, maximum=180), 180),
        (200, rule(fixed=500), 200),  # never more than the total
        (10000, rule(minimum=50), 50),
        (10000, rule(), None),  # no fee taken
    ],
)
def test_the_fee_is_the_percent_rounded_half_up_plus_the_fixed_part_within_its_bounds(
    total, fee_rule, fee
):
    assert platform_fee(total, "SEK", fee_rule) == fee


def test_the_percent_part_is_rounded_in_the_currencys_minor_unit():
    # 3.33 % of 45000 yen is 1498.5 yen; JPY has no smaller unit.
    assert platform_fee(45000, "JPY", rule("3.33")) == 1499


def test_where_stripe_charges_only_whole_units_the_fee_is_a_whole_unit():
    # 2.5 % of MGA 100.00 is MGA 2.50; Stripe charges MGA without decimals.
    assert platform_fee(10000, "MGA", rule("2.50")) == 300


@pytest.mark.django_db
def test_a_fixed_fee_stripe_cannot_charge_in_the_currency_is_refused():
    settings = make_company(currency="MGA").stripe_settings
    settings.platform_fee_fixed = 150

    with pytest.raises(ValidationError) as refused:
        settings.full_clean()

    assert refused.value.message_dict == {
        "platform_fee_fixed": ["Stripe charges MGA in steps of 100 minor units."]
    }


# --- sent to Stripe and stored -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_fee_is_sent_as_the_application_fee_and_stored_on_the_checkout(
    company, create_checkout, stripe_emulator
):
    StripeCheckoutSettings.objects.filter(company=company).update(
        platform_fee_percent=Decimal("2.50"), platform_fee_fixed=100
    )

    response = create_checkout()

    (request,) = stripe_emulator.requests_to("POST", CREATE_SESSION)
    assert request.params["payment_intent_data"]["application_fee_amount"] == "1225"
    checkout = Checkout.objects.get(stripe_session_id=response.json()["SessionId"])
    assert checkout.application_fee_amount == 1225
    paid = stripe_emulator.complete_session(checkout.stripe_session_id)
    charge = stripe_emulator.charge(
        stripe_emulator.payment_intent(paid["payment_intent"])["latest_charge"]
    )
    assert stripe_emulator.application_fee(charge["application_fee"])["amount"] == 1225


@pytest.mark.django_db(transaction=True)
def test_the_fee_is_sent_in_stripes_unit_of_the_currency(api, stripe_emulator):
    company = make_company(name="Reykjavik Hair", currency="ISK", account="acct_1Reykjavik")
    make_article(company, unit_amount=5000)
    StripeCheckoutSettings.objects.filter(company=company).update(
        platform_fee_percent=Decimal("2.00")
    )
    api.credentials(HTTP_X_API_KEY=make_api_key(company))

    response = api.post(CHECKOUT_URL, checkout_body(company), format="json")

    (request,) = stripe_emulator.requests_to("POST", CREATE_SESSION)
    # 100 ISK, which Stripe takes in hundredths.
    assert request.params["payment_intent_data"]["application_fee_amount"] == "10000"
    assert (
        Checkout.objects.get(stripe_session_id=response.json()["SessionId"]).application_fee_amount
        == 100
    )


@pytest.mark.django_db(transaction=True)
def test_a_company_without_a_fee_sends_none(create_checkout, stripe_emulator):
    response = create_checkout()

    (request,) = stripe_emulator.requests_to("POST", CREATE_SESSION)
    assert "application_fee_amount" not in request.params["payment_intent_data"]
    checkout = Checkout.objects.get(stripe_session_id=response.json()["SessionId"])
    assert checkout.application_fee_amount is None


@pytest.mark.django_db
def test_the_database_refuses_a_fee_above_the_checkouts_total(company):
    checkout = make_checkout(make_payable(company), application_fee_amount=45000)

    with pytest.raises(IntegrityError), transaction.atomic():
        Checkout.objects.filter(pk=checkout.pk).update(application_fee_amount=45001)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fee",
    [
        {"platform_fee_percent": Decimal("100.01")},
        {"platform_fee_minimum": 500, "platform_fee_maximum": 499},
    ],
    ids=["percent-above-100", "minimum-above-maximum"],
)
def test_the_database_refuses_a_fee_rule_that_is_not_one(fee):
    company = make_company()

    with pytest.raises(IntegrityError), transaction.atomic():
        StripeCheckoutSettings.objects.filter(company=company).update(**fee)
