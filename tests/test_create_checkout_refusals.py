"""Requests the checkout endpoint refuses: a precise error, no Stripe call, nothing stored."""

import uuid

import pytest
from rest_framework.exceptions import ErrorDetail, ValidationError

from articles.models import ArticleType
from checkouts.api.errors import servicestack_exception_handler
from checkouts.api.schema.examples import SEED_REQUEST
from checkouts.models import Checkout, CheckoutStatus, Payable
from tests.support.api import CHECKOUT_URL, CREATE_SESSION, checkout_body
from tests.support.factories import make_article, make_company, make_paid_checkout, make_payable

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_reaches_stripe_or_the_database(stripe_emulator):
    """Every refusal here must leave no session on Stripe and no record behind."""
    yield
    assert stripe_emulator.requests_to("POST", CREATE_SESSION) == []
    assert not Checkout.objects.filter(status=CheckoutStatus.OPEN).exists()
    assert not Payable.objects.filter(checkouts__isnull=True).exists()


def errors_of(response) -> dict[str, str]:
    """FieldName -> ErrorCode of every field error in the response."""
    return {
        error["FieldName"]: error["ErrorCode"]
        for error in response.json()["ResponseStatus"]["Errors"]
    }


@pytest.mark.parametrize("field", ["CompanyId", "CountryCode", "Articles", "InternalReferenceId"])
def test_each_required_field_is_named_when_missing(create_checkout, field):
    response = create_checkout(**{field: None})

    assert response.status_code == 400
    assert errors_of(response) == {field: "NotEmpty"}


def test_every_failing_field_is_listed_at_once(api):
    response = api.post(CHECKOUT_URL, {"UiMode": "sideways"}, format="json")

    status = response.json()["ResponseStatus"]
    assert response.status_code == 400
    assert errors_of(response) == {
        "CompanyId": "NotEmpty",
        "CountryCode": "NotEmpty",
        "Articles": "NotEmpty",
        "InternalReferenceId": "NotEmpty",
        "UiMode": "InvalidUiMode",
    }
    assert status["ErrorCode"] == status["Errors"][0]["ErrorCode"]
    assert status["Message"] == status["Errors"][0]["Message"]


def test_company_id_must_be_a_uuid(create_checkout):
    response = create_checkout(CompanyId="company-1")

    assert response.status_code == 400
    assert errors_of(response) == {"CompanyId": "Invalid"}


@pytest.mark.parametrize("country_code", ["XX", "SWE", "S", "", "12"])
def test_country_code_must_be_iso_3166_alpha_2(create_checkout, country_code):
    response = create_checkout(CountryCode=country_code)

    assert response.status_code == 400
    assert list(errors_of(response)) == ["CountryCode"]


def test_articles_must_not_be_empty(create_checkout):
    response = create_checkout(Articles=[])

    assert response.status_code == 400
    assert errors_of(response) == {"Articles": "NotEmpty"}


def test_at_most_one_hundred_articles(create_checkout):
    articles = [{"ArticleTypeId": 1, "ArticleId": 1, "Quantity": 1}] * 101

    response = create_checkout(Articles=articles)

    assert response.status_code == 400
    assert errors_of(response) == {"Articles": "Length"}


@pytest.mark.parametrize(
    ("article", "field", "code"),
    [
        ({"ArticleTypeId": 1}, "Articles[0].ArticleId", "NotEmpty"),
        ({"ArticleId": 1}, "Articles[0].ArticleTypeId", "NotEmpty"),
        ({"ArticleTypeId": 1, "ArticleId": 0}, "Articles[0].ArticleId", "InclusiveBetween"),
        ({"ArticleTypeId": -2, "ArticleId": 1}, "Articles[0].ArticleTypeId", "InclusiveBetween"),
        ({"ArticleTypeId": 1, "ArticleId": "one"}, "Articles[0].ArticleId", "Invalid"),
        (
            {"ArticleTypeId": 1, "ArticleId": 1, "Quantity": 0},
            "Articles[0].Quantity",
            "InclusiveBetween",
        ),
        (
            {"ArticleTypeId": 1, "ArticleId": 1, "Quantity": 1000},
            "Articles[0].Quantity",
            "InclusiveBetween",
        ),
    ],
)
def test_each_article_field_is_checked_and_named_by_position(create_checkout, article, field, code):
    response = create_checkout(Articles=[article])

    assert response.status_code == 400
    assert errors_of(response) == {field: code}


def test_errors_of_a_later_article_name_its_index(create_checkout):
    response = create_checkout(
        Articles=[{"ArticleTypeId": 1, "ArticleId": 1}, {"ArticleTypeId": 1, "ArticleId": -5}]
    )

    assert errors_of(response) == {"Articles[1].ArticleId": "InclusiveBetween"}


def test_internal_reference_id_is_at_most_200_characters(create_checkout):
    response = create_checkout(InternalReferenceId="b" * 201)

    assert response.status_code == 400
    assert errors_of(response) == {"InternalReferenceId": "Length"}


@pytest.mark.parametrize("field", ["ConfirmationUrl", "CancelUrl"])
@pytest.mark.parametrize(
    "url", ["/relative/path", "ftp://app.example.com/x", "javascript:alert(1)", "app.example.com"]
)
def test_redirect_urls_must_be_absolute_http_urls(create_checkout, field, url):
    response = create_checkout(**{field: url})

    assert response.status_code == 400
    assert errors_of(response) == {field: "Invalid"}


@pytest.mark.parametrize("field", ["ConfirmationUrl", "CancelUrl"])
@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.net/phish",
        "https://app.example.com.evil.example.net/",
        "https://salong.example.evil.net/",
    ],
)
def test_redirect_urls_must_stay_on_the_company_hosts(create_checkout, field, url):
    response = create_checkout(**{field: url})

    assert response.status_code == 400
    assert errors_of(response) == {field: "HostNotAllowed"}


def test_cancel_url_is_not_allowed_with_embedded_ui(create_checkout):
    response = create_checkout(UiMode="embedded", CancelUrl="https://app.example.com/back")

    assert response.status_code == 400
    (error,) = response.json()["ResponseStatus"]["Errors"]
    assert error["FieldName"] == "CancelUrl"
    assert "not allowed if UiMode is embedded" in error["Message"]


def test_cancel_url_with_embedded_is_reported_with_other_errors(create_checkout):
    response = create_checkout(
        UiMode="Embedded_Page", CancelUrl="https://app.example.com/back", CountryCode="XX"
    )

    assert errors_of(response) == {"CountryCode": "InvalidCountryCode", "CancelUrl": "NotAllowed"}


def test_unknown_ui_mode_is_refused(create_checkout):
    response = create_checkout(UiMode="popup")

    assert errors_of(response) == {"UiMode": "InvalidUiMode"}


def test_unknown_company_is_not_found(create_checkout):
    response = create_checkout(CompanyId=str(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json()["ResponseStatus"]["ErrorCode"] == "NotFound"


@pytest.mark.parametrize("enabled", [False, None])
def test_company_without_enabled_stripe_checkout_is_refused(api, company, enabled):
    if enabled is None:
        company.stripe_settings.delete()
    else:
        company.stripe_settings.enabled = enabled
        company.stripe_settings.save()

    response = api.post(CHECKOUT_URL, checkout_body(company), format="json")

    assert response.status_code == 400
    assert response.json()["ResponseStatus"]["ErrorCode"] == "StripeCheckoutNotEnabled"


def test_unknown_article_is_named_by_position(create_checkout):
    response = create_checkout(
        Articles=[{"ArticleTypeId": 1, "ArticleId": 1}, {"ArticleTypeId": 1, "ArticleId": 404}]
    )

    assert response.status_code == 400
    assert errors_of(response) == {"Articles[1].ArticleId": "ArticleNotFound"}


def test_an_article_id_of_another_type_is_unknown(create_checkout):
    response = create_checkout(Articles=[{"ArticleTypeId": ArticleType.GIFT_CARD, "ArticleId": 7}])

    assert errors_of(response) == {"Articles[0].ArticleId": "ArticleNotFound"}


def test_inactive_article_is_refused(create_checkout, company):
    make_article(company, article_type=ArticleType.GIFT_CARD, article_id=3, active=False)

    response = create_checkout(Articles=[{"ArticleTypeId": 3, "ArticleId": 3}])

    assert errors_of(response) == {"Articles[0].ArticleId": "ArticleInactive"}


def test_another_companys_article_is_unknown(create_checkout):
    other = make_company(name="Other", account="acct_1Other")
    make_article(other, article_type=ArticleType.GIFT_CARD, article_id=9)

    response = create_checkout(Articles=[{"ArticleTypeId": 3, "ArticleId": 9}])

    assert errors_of(response) == {"Articles[0].ArticleId": "ArticleNotFound"}


def test_catalogue_errors_and_url_errors_are_reported_together(create_checkout):
    response = create_checkout(
        ConfirmationUrl="https://evil.example.net/",
        Articles=[{"ArticleTypeId": 1, "ArticleId": 404}],
    )

    assert errors_of(response) == {
        "ConfirmationUrl": "HostNotAllowed",
        "Articles[0].ArticleId": "ArticleNotFound",
    }


def test_a_paid_payable_gets_no_new_checkout(create_checkout, company):
    make_paid_checkout(make_payable(company, "booking-paid"))

    response = create_checkout(InternalReferenceId="booking-paid")

    assert response.status_code == 409
    assert response.json()["ResponseStatus"]["ErrorCode"] == "AlreadyPaid"


def test_malformed_json_is_a_serialization_error(api):
    response = api.post(CHECKOUT_URL, '{"CompanyId": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["ResponseStatus"]["ErrorCode"] == "SerializationException"


def test_a_body_that_is_not_an_object_is_refused(api):
    response = api.post(CHECKOUT_URL, "[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["ResponseStatus"]["Errors"]


def test_unsupported_body_type_is_refused(api):
    response = api.post(CHECKOUT_URL, "CompanyId,CountryCode", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["ResponseStatus"]["ErrorCode"] == "UnsupportedMediaType"


def test_each_failing_field_and_rule_is_listed_once(create_checkout):
    response = create_checkout(ConfirmationUrl="String", CancelUrl="String")

    errors = response.json()["ResponseStatus"]["Errors"]
    assert [(error["FieldName"], error["ErrorCode"]) for error in errors] == [
        ("ConfirmationUrl", "Invalid"),
        ("CancelUrl", "Invalid"),
    ]


def test_the_seed_sample_with_its_placeholders_lists_each_failing_field_once(api, company):
    sample = {**SEED_REQUEST.value, "CompanyId": str(company.id)}

    response = api.post(CHECKOUT_URL, sample, format="json")

    assert response.status_code == 400
    assert [
        (error["FieldName"], error["ErrorCode"])
        for error in response.json()["ResponseStatus"]["Errors"]
    ] == [
        ("CountryCode", "InvalidCountryCode"),
        ("Articles[0].ArticleId", "InclusiveBetween"),
        ("Articles[0].ArticleTypeId", "InclusiveBetween"),
        ("Articles[0].Quantity", "InclusiveBetween"),
        ("ConfirmationUrl", "Invalid"),
        ("CancelUrl", "Invalid"),
        ("UiMode", "InvalidUiMode"),
    ]


def test_two_validators_refusing_a_field_for_one_reason_make_one_entry():
    error = ValidationError(
        {"CancelUrl": [ErrorDetail("Enter a valid URL.", "invalid")] * 2, "UiMode": []}
    )

    response = servicestack_exception_handler(error, {})

    assert response.data["ResponseStatus"]["Errors"] == [
        {"ErrorCode": "Invalid", "FieldName": "CancelUrl", "Message": "Enter a valid URL."}
    ]
