"""Payment methods per company: Stripe's dynamic ones, a configuration, or the company's
own list, which must take the company's currency, checked when saved and at each create."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from articles.models import StripeCheckoutSettings
from tests.support.api import CHECKOUT_URL, CREATE_SESSION, checkout_body
from tests.support.factories import make_api_key, make_article, make_company

COMPANIES = "/admin/articles/company/"


def allow(company, **fields) -> None:
    StripeCheckoutSettings.objects.filter(company=company).update(**fields)


def sent_to_stripe(emulator) -> dict:
    (request,) = emulator.requests_to("POST", CREATE_SESSION)
    return request.params


@pytest.mark.django_db(transaction=True)
def test_by_default_stripe_chooses_the_payment_methods(create_checkout, stripe_emulator):
    assert create_checkout().status_code == 200

    params = sent_to_stripe(stripe_emulator)
    assert "allowed_payment_method_types" not in params
    assert "payment_method_configuration" not in params


@pytest.mark.django_db(transaction=True)
def test_a_swedish_company_with_swish_and_card_creates_a_session_that_allows_both(
    company, create_checkout, stripe_emulator
):
    allow(company, allowed_payment_methods="swish,card")

    response = create_checkout()

    assert response.status_code == 200
    assert sent_to_stripe(stripe_emulator)["allowed_payment_method_types"] == ["swish", "card"]
    session = stripe_emulator.session(response.json()["SessionId"])
    assert session["payment_method_types"] == ["swish", "card"]


@pytest.mark.django_db(transaction=True)
def test_a_payment_method_configuration_is_sent_as_the_company_set_it(
    company, create_checkout, stripe_emulator
):
    allow(company, payment_method_configuration="pmc_1SalongLugn")

    response = create_checkout()

    assert sent_to_stripe(stripe_emulator)["payment_method_configuration"] == "pmc_1SalongLugn"
    session = stripe_emulator.session(response.json()["SessionId"])
    assert session["payment_method_configuration_details"]["id"] == "pmc_1SalongLugn"


@pytest.mark.django_db(transaction=True)
def test_a_euro_company_with_swish_is_refused_with_a_clear_error_before_stripe_is_asked(
    api, stripe_emulator
):
    company = make_company(name="Salon Helsinki", currency="EUR", account="acct_1Helsinki")
    make_article(company, unit_amount=4500)
    # Written past the settings' own check, as a script or a data fix could.
    allow(company, allowed_payment_methods="card,swish")
    api.credentials(HTTP_X_API_KEY=make_api_key(company))

    response = api.post(CHECKOUT_URL, checkout_body(company), format="json")

    assert response.status_code == 400
    assert response.json()["ResponseStatus"] == {
        "ErrorCode": "PaymentMethodNotAvailable",
        "Message": "Swish cannot take EUR (it takes SEK only). The company's Stripe Checkout "
        "settings must change before it can take payments.",
        "Errors": [],
    }
    assert stripe_emulator.requests_to("POST", CREATE_SESSION) == []


# --- the settings' own check, when they are saved --------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("currency", "methods", "message"),
    [
        ("EUR", "card, MobilePay, swish", "Swish cannot take EUR (it takes SEK only)."),
        ("SEK", "card,bitcoin", "Unknown payment method(s): bitcoin."),
    ],
    ids=["swish-in-euros", "unknown"],
)
def test_settings_naming_a_method_that_cannot_be_offered_are_refused(currency, methods, message):
    settings = make_company(currency=currency).stripe_settings
    settings.allowed_payment_methods = methods

    with pytest.raises(ValidationError) as refused:
        settings.full_clean()

    assert refused.value.message_dict == {"allowed_payment_methods": [message]}


@pytest.mark.django_db
def test_mobilepay_takes_danish_kroner_and_the_list_is_kept_in_stripes_names():
    settings = make_company(currency="DKK").stripe_settings
    settings.allowed_payment_methods = " MobilePay ,card,mobilepay"

    settings.full_clean()

    assert settings.allowed_payment_methods == "mobilepay,card"
    assert settings.payment_method_types == ["mobilepay", "card"]


@pytest.mark.django_db
def test_the_database_refuses_a_list_and_a_configuration_together():
    company = make_company()

    with pytest.raises(IntegrityError):
        allow(company, allowed_payment_methods="card", payment_method_configuration="pmc_1A")


# --- the admin ---------------------------------------------------------------------------


def company_form(company, **settings) -> dict:
    """The company page's form as staff submit it, Stripe settings inline."""
    stripe = company.stripe_settings
    form = {
        "name": company.name,
        "currency": company.currency,
        "stripe_settings-TOTAL_FORMS": "1",
        "stripe_settings-INITIAL_FORMS": "1",
        "stripe_settings-MIN_NUM_FORMS": "0",
        "stripe_settings-MAX_NUM_FORMS": "1",
        "stripe_settings-0-company": str(company.pk),
        "stripe_settings-0-enabled": "on",
        "stripe_settings-0-connected_account_id": stripe.connected_account_id,
        "stripe_settings-0-default_confirmation_url": stripe.default_confirmation_url,
        "stripe_settings-0-default_cancel_url": stripe.default_cancel_url,
        "stripe_settings-0-allowed_redirect_hosts": stripe.allowed_redirect_hosts,
        "stripe_settings-0-checkout_lifetime_minutes": str(stripe.checkout_lifetime_minutes),
        "stripe_settings-0-payment_method_configuration": "",
        "stripe_settings-0-platform_fee_percent": "0",
        "stripe_settings-0-platform_fee_fixed": "0",
        "stripe_settings-0-platform_fee_minimum": "",
        "stripe_settings-0-platform_fee_maximum": "",
    }
    form.update({f"stripe_settings-0-{name}": value for name, value in settings.items()})
    return form


@pytest.mark.django_db
def test_staff_tick_the_methods_a_company_allows(admin_client):
    company = make_company()

    response = admin_client.post(
        f"{COMPANIES}{company.pk}/change/",
        company_form(company, allowed_payment_methods=["card", "swish"]),
    )

    assert response.status_code == 302
    company.stripe_settings.refresh_from_db()
    assert company.stripe_settings.allowed_payment_methods == "card,swish"


@pytest.mark.django_db
def test_staff_cannot_give_a_euro_company_swish(admin_client):
    company = make_company(currency="EUR")

    response = admin_client.post(
        f"{COMPANIES}{company.pk}/change/",
        company_form(company, allowed_payment_methods=["card", "swish"]),
    )

    assert response.status_code == 200
    assert "Swish cannot take EUR (it takes SEK only)." in response.content.decode()
    company.stripe_settings.refresh_from_db()
    assert company.stripe_settings.allowed_payment_methods == ""


@pytest.mark.django_db
def test_staff_cannot_move_a_company_that_offers_swish_to_euros(admin_client):
    company = make_company()
    allow(company, allowed_payment_methods="swish")
    company.refresh_from_db()

    form = company_form(company, allowed_payment_methods=["swish"])
    response = admin_client.post(f"{COMPANIES}{company.pk}/change/", {**form, "currency": "EUR"})

    assert "Swish cannot take EUR (it takes SEK only)." in response.content.decode()
    company.refresh_from_db()
    assert company.currency == "SEK"
