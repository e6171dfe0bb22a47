"""POST /payment/stripe/v1/checkout: what a client gets back and what Stripe is asked for."""

import time
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from articles.models import ArticleType
from checkouts.models import Checkout, CheckoutStatus, Payable, PaymentStatus, UiMode
from tests.support.api import CHECKOUT_URL, CREATE_SESSION, SEED_RESPONSE_FIELDS, checkout_body
from tests.support.factories import make_api_key, make_article, make_company

FORM = "application/x-www-form-urlencoded"

pytestmark = pytest.mark.django_db(transaction=True)


def created_sessions(emulator):
    return emulator.requests_to("POST", CREATE_SESSION)


def sent_params(emulator) -> dict:
    (request,) = created_sessions(emulator)
    return request.params


def test_hosted_checkout_answers_with_the_seed_response_fields(create_checkout, stripe_emulator):
    response = create_checkout()

    assert response.status_code == 200
    body = response.json()
    assert list(body) == SEED_RESPONSE_FIELDS
    session = stripe_emulator.session(body["SessionId"])
    assert body["Url"] == session["url"]
    assert body["Status"] == "open"
    assert body["StripeAccount"] == "acct_1SalongLugn"
    assert body["ClientSecret"] is None
    assert body["CustomerId"] is None
    assert body["PaymentIntentId"] is None
    assert body["PaymentIntentClientSecret"] is None


def test_embedded_checkout_answers_with_the_client_secret_and_no_url(
    create_checkout, stripe_emulator
):
    response = create_checkout(UiMode="embedded")

    body = response.json()
    assert response.status_code == 200
    assert body["Url"] is None
    assert body["ClientSecret"] == stripe_emulator.session(body["SessionId"])["client_secret"]
    assert body["ClientSecret"]


def test_session_is_created_on_the_connected_account(create_checkout, stripe_emulator):
    create_checkout()

    (request,) = created_sessions(stripe_emulator)
    assert request.stripe_account == "acct_1SalongLugn"


def test_line_items_are_priced_from_the_catalogue_in_the_company_currency(
    create_checkout, stripe_emulator
):
    create_checkout(
        Articles=[
            {"ArticleTypeId": 1, "ArticleId": 1, "Quantity": 2},
            {"ArticleTypeId": 2, "ArticleId": 7, "Quantity": 1},
        ]
    )

    line_items = sent_params(stripe_emulator)["line_items"]
    assert [item["quantity"] for item in line_items] == ["2", "1"]
    assert [item["price_data"]["unit_amount"] for item in line_items] == ["45000", "380000"]
    assert {item["price_data"]["currency"] for item in line_items} == {"sek"}
    assert [item["price_data"]["product_data"]["name"] for item in line_items] == [
        "Haircut",
        "Ten-visit card",
    ]


def test_prices_sent_by_the_client_are_ignored(create_checkout, stripe_emulator):
    response = create_checkout(
        Articles=[{"ArticleTypeId": 1, "ArticleId": 1, "Quantity": 1, "UnitAmount": 1, "Price": 1}]
    )

    assert response.status_code == 200
    assert sent_params(stripe_emulator)["line_items"][0]["price_data"]["unit_amount"] == "45000"
    assert Checkout.objects.get().amount_total == 45000


def test_session_is_a_payment_tagged_with_company_reference_and_checkout(
    create_checkout, stripe_emulator, company
):
    create_checkout(InternalReferenceId="booking-77")

    params = sent_params(stripe_emulator)
    checkout = Checkout.objects.get()
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == "booking-77"
    assert params["metadata"] == {
        "company_id": str(company.id),
        "internal_reference_id": "booking-77",
        "checkout_id": str(checkout.id),
    }


def test_hosted_session_uses_stripes_current_ui_mode_name_and_company_default_urls(
    create_checkout, stripe_emulator
):
    create_checkout()

    params = sent_params(stripe_emulator)
    assert params["ui_mode"] == "hosted_page"
    assert params["success_url"] == (
        "https://booking.example.com/confirmed?session_id={CHECKOUT_SESSION_ID}"
    )
    assert params["cancel_url"] == "https://booking.example.com/cancelled"
    assert "return_url" not in params


def test_embedded_session_gets_a_return_url_and_no_success_or_cancel_url(
    create_checkout, stripe_emulator
):
    create_checkout(UiMode="embedded", ConfirmationUrl="https://app.example.com/done?lang=sv")

    params = sent_params(stripe_emulator)
    assert params["ui_mode"] == "embedded_page"
    assert params["return_url"] == (
        "https://app.example.com/done?lang=sv&session_id={CHECKOUT_SESSION_ID}"
    )
    assert "success_url" not in params
    assert "cancel_url" not in params


def test_confirmation_url_that_already_has_the_placeholder_is_sent_unchanged(
    create_checkout, stripe_emulator
):
    url = "https://app.example.com/booking/{CHECKOUT_SESSION_ID}/paid"
    create_checkout(ConfirmationUrl=url, CancelUrl="https://shop.salong.example/back")

    params = sent_params(stripe_emulator)
    assert params["success_url"] == url
    assert params["cancel_url"] == "https://shop.salong.example/back"


@pytest.mark.parametrize(
    ("country_code", "locale"),
    [("SE", "sv"), ("se", "sv"), ("NO", "nb"), ("GB", "en-GB"), ("US", "en"), ("CH", "auto")],
)
def test_country_code_is_stored_and_sets_the_checkout_locale(
    create_checkout, stripe_emulator, country_code, locale
):
    create_checkout(CountryCode=country_code)

    assert sent_params(stripe_emulator)["locale"] == locale
    checkout = Checkout.objects.get()
    assert (checkout.country_code, checkout.locale) == (country_code.upper(), locale)


def test_expires_at_follows_the_company_checkout_lifetime(
    create_checkout, stripe_emulator, company
):
    company.stripe_settings.checkout_lifetime_minutes = 24 * 60
    company.stripe_settings.save()
    before = time.time()

    response = create_checkout()

    assert response.status_code == 200
    expires_at = int(sent_params(stripe_emulator)["expires_at"])
    assert before + 24 * 3600 - 5 <= expires_at <= time.time() + 24 * 3600
    assert Checkout.objects.get().expires_at.timestamp() == expires_at


def test_shortest_lifetime_is_still_accepted_by_stripe(create_checkout, stripe_emulator, company):
    company.stripe_settings.checkout_lifetime_minutes = 30
    company.stripe_settings.save()

    response = create_checkout()

    assert response.status_code == 200
    assert int(sent_params(stripe_emulator)["expires_at"]) >= time.time() + 30 * 60


@pytest.mark.parametrize(
    ("currency", "unit_amount", "stripe_unit_amount"),
    [
        ("JPY", 5000, "5000"),
        ("KRW", 30000, "30000"),
        ("ISK", 7900, "790000"),
        ("EUR", 1999, "1999"),
    ],
)
def test_amounts_are_converted_by_the_currency_exponent(
    stripe_emulator, currency, unit_amount, stripe_unit_amount
):
    company = make_company(currency=currency, account="acct_1Currency")
    make_article(company, unit_amount=unit_amount)
    client_key = make_api_key(company)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=client_key)
    response = client.post(CHECKOUT_URL, checkout_body(company), format="json")

    assert response.status_code == 200
    price_data = sent_params(stripe_emulator)["line_items"][0]["price_data"]
    assert price_data == {**price_data, "currency": currency.lower()}
    assert price_data["unit_amount"] == stripe_unit_amount
    assert Checkout.objects.get().amount_total == unit_amount


@pytest.mark.parametrize("ui_mode", ["hosted", "HOSTED", "hosted_page", "Hosted_Page", "", None])
def test_hosted_ui_mode_spellings_all_make_a_hosted_session(
    create_checkout, stripe_emulator, ui_mode
):
    response = create_checkout(UiMode=ui_mode)

    assert response.status_code == 200
    assert sent_params(stripe_emulator)["ui_mode"] == "hosted_page"


@pytest.mark.parametrize("ui_mode", ["embedded", "Embedded", "embedded_page", "EMBEDDED_PAGE"])
def test_embedded_ui_mode_spellings_all_make_an_embedded_session(
    create_checkout, stripe_emulator, ui_mode
):
    response = create_checkout(UiMode=ui_mode)

    assert response.status_code == 200
    assert sent_params(stripe_emulator)["ui_mode"] == "embedded_page"
    assert Checkout.objects.get().ui_mode == UiMode.EMBEDDED


def test_fields_bind_whatever_their_case(api, company, stripe_emulator):
    body = {
        "companyid": str(company.id),
        "countryCode": "se",
        "ARTICLES": [{"articleid": 7, "ARTICLETYPEID": 2, "quantity": 3}],
        "internalReferenceId": "booking-case",
        "uimode": "EMBEDDED",
        "confirmationurl": "https://app.example.com/ok",
    }

    response = api.post(CHECKOUT_URL, body, format="json")

    assert response.status_code == 200, response.json()
    params = sent_params(stripe_emulator)
    assert params["line_items"][0]["quantity"] == "3"
    assert params["client_reference_id"] == "booking-case"
    assert params["return_url"].startswith("https://app.example.com/ok")


def test_form_encoded_body_with_indexed_articles(api, company, stripe_emulator):
    body = {
        "CompanyId": str(company.id),
        "CountryCode": "SE",
        "Articles[0].ArticleTypeId": "1",
        "Articles[0].ArticleId": "1",
        "Articles[0].Quantity": "2",
        "Articles[1][ArticleTypeId]": "2",
        "Articles[1][ArticleId]": "7",
        "InternalReferenceId": "booking-form",
    }

    response = api.post(CHECKOUT_URL, urlencode(body), content_type=FORM)

    assert response.status_code == 200, response.json()
    line_items = sent_params(stripe_emulator)["line_items"]
    assert [(item["price_data"]["unit_amount"], item["quantity"]) for item in line_items] == [
        ("45000", "2"),
        ("380000", "1"),
    ]


def test_form_encoded_body_with_articles_as_json(api, company, stripe_emulator):
    body = {
        "CompanyId": str(company.id),
        "CountryCode": "SE",
        "Articles": '[{"ArticleTypeId": 2, "ArticleId": 7, "Quantity": 1}]',
        "InternalReferenceId": "booking-form-json",
    }

    response = api.post(CHECKOUT_URL, urlencode(body), content_type=FORM)

    assert response.status_code == 200, response.json()
    assert sent_params(stripe_emulator)["line_items"][0]["price_data"]["unit_amount"] == "380000"


def test_missing_quantity_buys_one(create_checkout, stripe_emulator):
    create_checkout(Articles=[{"ArticleTypeId": ArticleType.SERVICE, "ArticleId": 1}])

    assert sent_params(stripe_emulator)["line_items"][0]["quantity"] == "1"


def test_checkout_and_its_lines_are_stored(create_checkout, stripe_emulator, company):
    response = create_checkout(
        InternalReferenceId="booking-store",
        Articles=[
            {"ArticleTypeId": 1, "ArticleId": 1, "Quantity": 2},
            {"ArticleTypeId": 2, "ArticleId": 7, "Quantity": 1},
        ],
    )

    checkout = Checkout.objects.get(stripe_session_id=response.json()["SessionId"])
    session = stripe_emulator.session(checkout.stripe_session_id)
    assert checkout.company == company
    assert checkout.payable.internal_reference_id == "booking-store"
    assert checkout.connected_account_id == "acct_1SalongLugn"
    assert checkout.status == CheckoutStatus.OPEN
    assert checkout.payment_status == PaymentStatus.UNPAID
    assert checkout.currency == "SEK"
    assert checkout.amount_total == 2 * 45000 + 380000 == session["amount_total"]
    assert checkout.url == session["url"]
    assert checkout.expires_at.timestamp() == session["expires_at"]
    assert checkout.success_url == session["success_url"]
    assert [
        (line.article_type, line.article_id, line.name, line.quantity, line.unit_amount)
        for line in checkout.line_items
    ] == [(1, 1, "Haircut", 2, 45000), (2, 7, "Ten-visit card", 1, 380000)]
    assert str(checkout.line_items[0].vat_rate) == "25.00"
    assert Payable.objects.get().current_checkout == checkout


def test_each_attempt_sends_its_own_deterministic_idempotency_key(create_checkout, stripe_emulator):
    create_checkout()
    create_checkout()

    keys = [request.idempotency_key for request in created_sessions(stripe_emulator)]
    checkouts = Checkout.objects.order_by("created_at")
    assert keys == [f"bokacheckout-checkout-{checkout.id}" for checkout in checkouts]


def test_a_retried_network_failure_creates_one_session(create_checkout, stripe_emulator):
    stripe_emulator.inject_fault("error", method="POST", path=CREATE_SESSION, status=500)

    response = create_checkout()

    assert response.status_code == 200
    attempts = created_sessions(stripe_emulator)
    assert len(attempts) == 2
    assert attempts[0].idempotency_key == attempts[1].idempotency_key
    assert len(stripe_emulator.sessions_on("acct_1SalongLugn")) == 1


def test_ui_mode_is_recorded_as_bokamera_names_it(create_checkout, stripe_emulator):
    create_checkout(UiMode="embedded_page")

    assert Checkout.objects.get().ui_mode == UiMode.EMBEDDED == "embedded"
