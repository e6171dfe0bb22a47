"""Content negotiation as BokaMera documents it, and ServiceStack's error shape in every format."""

import csv
import io
import json

import pytest
from defusedxml.ElementTree import fromstring as parse_xml
from django.test import override_settings

from checkouts.api.errors import server_error, servicestack_exception_handler
from checkouts.api.renderers import ServiceStackXMLRenderer
from tests.support.api import CHECKOUT_URL, SEED_RESPONSE_FIELDS, STATUS_URL, checkout_body
from tests.support.factories import make_paid_checkout, make_payable

pytestmark = pytest.mark.django_db(transaction=True)

NS = "{http://schemas.servicestack.net/types}"
NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

# The three ways the seed gives to ask for a format.
WAYS = {
    "accept": lambda fmt, media: (CHECKOUT_URL, {"HTTP_ACCEPT": media}),
    "suffix": lambda fmt, media: (f"{CHECKOUT_URL}.{fmt}", {}),
    "query": lambda fmt, media: (f"{CHECKOUT_URL}?format={fmt}", {}),
}


def post(api, company, way, fmt, media, **overrides):
    url, headers = WAYS[way](fmt, media)
    return api.post(url, checkout_body(company, **overrides), format="json", **headers)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("way", WAYS)
def test_csv_is_a_header_row_and_one_data_row(api, company, stripe_emulator, way):
    response = post(api, company, way, "csv", "text/csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert text.count("\r\n") == 2
    assert text.endswith("\r\n")
    header, row = csv_rows(response)
    assert header == SEED_RESPONSE_FIELDS
    values = dict(zip(header, row, strict=True))
    assert values["SessionId"].startswith("cs_test_")
    assert values["Status"] == "open"
    assert values["ClientSecret"] == ""
    assert values["StripeAccount"] == "acct_1SalongLugn"


@pytest.mark.parametrize("way", WAYS)
def test_xml_has_the_response_dto_as_root(api, company, stripe_emulator, way):
    response = post(api, company, way, "xml", "application/xml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = parse_xml(response.content)
    assert root.tag == f"{NS}StripeCheckoutQueryResponse"
    assert [child.tag.removeprefix(NS) for child in root] == SEED_RESPONSE_FIELDS
    assert root.find(f"{NS}Status").text == "open"
    assert root.find(f"{NS}ClientSecret").get(NIL) == "true"


@pytest.mark.parametrize("way", WAYS)
def test_json_can_be_asked_for_explicitly(api, company, stripe_emulator, way):
    response = post(api, company, way, "json", "application/json")

    assert response.status_code == 200
    assert list(response.json()) == SEED_RESPONSE_FIELDS


def test_json_is_the_default(api, company, stripe_emulator):
    response = api.post(CHECKOUT_URL, checkout_body(company), format="json")

    assert response["Content-Type"] == "application/json"


def test_validation_errors_in_csv_keep_the_servicestack_shape(api, company, stripe_emulator):
    response = post(api, company, "query", "csv", "text/csv", CountryCode="XX")

    assert response.status_code == 400
    header, row = csv_rows(response)
    values = dict(zip(header, row, strict=True))
    assert values["ResponseStatus.ErrorCode"] == "InvalidCountryCode"
    assert values["ResponseStatus.Errors.0.FieldName"] == "CountryCode"
    assert values["ResponseStatus.Errors.0.ErrorCode"] == "InvalidCountryCode"


def test_validation_errors_in_xml_keep_the_servicestack_shape(api, company, stripe_emulator):
    response = post(api, company, "suffix", "xml", "application/xml", CountryCode="XX", Articles=[])

    assert response.status_code == 400
    root = parse_xml(response.content)
    assert root.tag == f"{NS}ErrorResponse"
    status = root.find(f"{NS}ResponseStatus")
    errors = status.find(f"{NS}Errors").findall(f"{NS}ResponseError")
    assert [error.find(f"{NS}FieldName").text for error in errors] == ["CountryCode", "Articles"]


def test_unauthorised_in_xml_keeps_the_servicestack_shape(client, company):
    response = client.post(
        f"{CHECKOUT_URL}.xml", checkout_body(company), content_type="application/json"
    )

    assert response.status_code == 401
    root = parse_xml(response.content)
    assert root.find(f"{NS}ResponseStatus/{NS}ErrorCode").text == "Unauthorized"


def test_unknown_format_parameter_is_not_acceptable(api, company, stripe_emulator):
    response = api.post(f"{CHECKOUT_URL}?format=yaml", checkout_body(company), format="json")

    assert response.status_code == 406
    assert response.json()["ResponseStatus"]["ErrorCode"] == "NotAcceptable"
    assert "yaml" in response.json()["ResponseStatus"]["Message"]


def test_unknown_format_suffix_is_not_found(api, company, stripe_emulator):
    response = api.post(f"{CHECKOUT_URL}.yaml", checkout_body(company), format="json")

    assert response.status_code == 404
    assert response.json()["ResponseStatus"]["ErrorCode"] == "NotFound"


def test_unservable_accept_header_is_not_acceptable(api, company, stripe_emulator):
    response = api.post(
        CHECKOUT_URL, checkout_body(company), format="json", HTTP_ACCEPT="image/png"
    )

    assert response.status_code == 406
    assert response.json()["ResponseStatus"]["ErrorCode"] == "NotAcceptable"


def test_wrong_method_is_method_not_allowed(api):
    response = api.get(CHECKOUT_URL)

    assert response.status_code == 405
    assert response.json()["ResponseStatus"]["ErrorCode"] == "MethodNotAllowed"


def test_unknown_path_is_not_found_in_the_same_shape(api):
    response = api.post("/payment/stripe/v1/nothing-here", {}, format="json")

    assert response.status_code == 404
    assert response.json() == {
        "ResponseStatus": {
            "ErrorCode": "NotFound",
            "Message": "No resource at /payment/stripe/v1/nothing-here.",
            "Errors": [],
        }
    }


def test_unexpected_errors_are_500_without_a_stack_trace():
    response = servicestack_exception_handler(RuntimeError("database on fire"), {})

    assert response.status_code == 500
    assert response.data == {
        "ResponseStatus": {
            "ErrorCode": "InternalServerError",
            "Message": "An unexpected error occurred.",
            "Errors": [],
        }
    }


@override_settings(DEBUG=True)
def test_unexpected_errors_show_the_stack_trace_in_debug():
    try:
        raise RuntimeError("database on fire")
    except RuntimeError as error:
        response = servicestack_exception_handler(error, {})

    assert "database on fire" in response.data["ResponseStatus"]["StackTrace"]


def test_errors_outside_the_api_are_500_in_the_same_shape(rf):
    response = server_error(rf.get("/admin/"))

    assert response.status_code == 500
    assert json.loads(response.content)["ResponseStatus"]["ErrorCode"] == "InternalServerError"


def status_of(api, company, checkout, fmt: str):
    return api.post(
        f"{STATUS_URL}.{fmt}",
        {"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id},
        format="json",
    )


@pytest.mark.parametrize(
    "reference", ["=1+1", "+46701234567", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(x)"]
)
def test_a_csv_cell_a_spreadsheet_would_run_starts_with_a_quote(api, company, reference):
    checkout = make_paid_checkout(make_payable(company, reference=reference))

    response = status_of(api, company, checkout, "csv")

    assert response.status_code == 200
    header, row = csv_rows(response)
    assert dict(zip(header, row, strict=True))["InternalReferenceId"] == f"'{reference}"


def test_text_from_stripe_that_xml_cannot_hold_still_makes_valid_xml(api, company):
    """Stripe's text is stored as Stripe sent it; the XML answer replaces what XML 1.0
    cannot hold with U+FFFD. (Not NUL, which PostgreSQL refuses to store.)"""
    checkout = make_paid_checkout(
        make_payable(company), customer_email="kund\x01\x1b\ufffe@example.se"
    )

    response = status_of(api, company, checkout, "xml")

    assert response.status_code == 200
    root = parse_xml(response.content)
    assert root.find(f"{NS}CustomerEmail").text == "kund\ufffd\ufffd\ufffd@example.se"


def test_the_xml_renderer_writes_valid_xml_whatever_the_data():
    every_character_below_0x20 = "".join(chr(code) for code in range(0x20))
    data = {"Text": f"{every_character_below_0x20}\ud800\udfff\ufffe\uffff ok \U0001f600"}

    xml = ServiceStackXMLRenderer().render(data)

    text = parse_xml(xml.encode()).find(f"{NS}Text").text
    assert text.endswith(" ok \U0001f600")
    assert "\x00" not in text
    assert "\t\n" in text
