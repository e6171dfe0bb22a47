"""A BokaMera client, unchanged: requests as ServiceStack reads them, routes as it matches
them, fields from the query string, and every format asked for in every way."""

import csv
import http.client
import io
import json
from urllib.parse import urlencode

import pytest
from defusedxml.ElementTree import fromstring as parse_xml

from checkouts.models import Checkout
from tests.support.api import (
    CHECKOUT_URL,
    CREATE_SESSION,
    PAYMENTS_URL,
    REFUND_URL,
    SEED_RESPONSE_FIELDS,
    checkout_body,
)

pytestmark = pytest.mark.django_db(transaction=True)

NS = "{http://schemas.servicestack.net/types}"
STATUS_FIELDS = [
    "Status",
    "CustomerEmail",
    "PaymentStatus",
    "InternalReferenceId",
    "AmountTotal",
    "Currency",
    "AmountRefunded",
]


def csv_record(response) -> dict[str, str]:
    header, row = csv.reader(io.StringIO(response.content.decode()))
    return dict(zip(header, row, strict=True))


def xml_record(response, root_name: str) -> dict[str, str | None]:
    root = parse_xml(response.content)
    assert root.tag == f"{NS}{root_name}"
    return {child.tag.removeprefix(NS): child.text for child in root}


def record(response, fmt: str, root_name: str = "StripeCheckoutQueryResponse") -> dict:
    """The answer's fields, read as its format says, the format checked."""
    media_type = response["Content-Type"].split(";")[0]
    assert (
        media_type == {"json": "application/json", "csv": "text/csv", "xml": "application/xml"}[fmt]
    )
    if fmt == "csv":
        return csv_record(response)
    if fmt == "xml":
        return xml_record(response, root_name)
    return response.json()


# --- The seed's sample, byte for byte ------------------------------------------------


def test_the_seed_sample_sent_byte_for_byte_answers_the_seed_fields_as_csv(
    live_server, company, api_key, stripe_emulator, settings
):
    """BokaMera's documented request, its placeholders replaced with real values: a JSON
    body sent as ``Content-Type: text/csv``, asking for CSV."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "api.bokamera.se"]
    body = (
        f'{{"CompanyId":"{company.id}","CountryCode":"SE","Articles":[{{"ArticleId":1,'
        '"ArticleTypeId":1,"Quantity":1}],"InternalReferenceId":"booking-1001",'
        '"ConfirmationUrl":"https://app.example.com/booking/1001/confirmed",'
        '"CancelUrl":"https://app.example.com/booking/1001","UiMode":"hosted"}'
    ).encode()
    connection = http.client.HTTPConnection(live_server.thread.host, live_server.thread.port)
    connection.putrequest("POST", CHECKOUT_URL, skip_host=True, skip_accept_encoding=True)
    for name, value in (
        ("Host", "api.bokamera.se"),
        ("Accept", "text/csv"),
        ("Content-Type", "text/csv"),
        ("Content-Length", str(len(body))),
        ("X-Api-Key", api_key),
    ):
        connection.putheader(name, value)
    connection.endheaders(body)

    response = connection.getresponse()
    text = response.read().decode()
    connection.close()

    assert response.status == 200, text
    assert response.getheader("Content-Type").startswith("text/csv")
    header, row = csv.reader(io.StringIO(text))
    assert header == SEED_RESPONSE_FIELDS
    values = dict(zip(header, row, strict=True))
    assert values["SessionId"].startswith("cs_test_")
    assert values["Status"] == "open"
    assert values["StripeAccount"] == "acct_1SalongLugn"
    (created,) = stripe_emulator.requests_to("POST", CREATE_SESSION)
    assert created.params["cancel_url"] == "https://app.example.com/booking/1001"


# --- Routes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/payment/stripe/v1/checkout",
        "/PAYMENT/STRIPE/V1/CHECKOUT",
        "/Payment/Stripe/v1/Checkout",
        "/payment/stripe/v1/checkout/",
        "/Payment/Stripe/V1/Checkout/",
        "/json/reply/StripeV1CreateCheckout",
        "/JSON/Reply/stripev1createcheckout/",
    ],
)
def test_the_create_path_matches_in_any_case_with_or_without_a_trailing_slash(
    api, company, stripe_emulator, path
):
    response = api.post(path, checkout_body(company), format="json")

    assert response.status_code == 200, response.content
    assert list(response.json()) == SEED_RESPONSE_FIELDS


@pytest.mark.parametrize(
    "path",
    [
        "/payment/stripe/v1/checkout/status",
        "/Payment/Stripe/V1/Checkout/Status/",
        "/json/reply/GetStripeCheckoutV1CheckoutStatus",
        "/json/reply/getstripecheckoutv1checkoutstatus/",
    ],
)
def test_the_status_path_matches_in_any_case_with_or_without_a_trailing_slash(
    api, company, create_checkout, path
):
    session_id = create_checkout().json()["SessionId"]

    response = api.post(path, {"CompanyId": str(company.id), "SessionId": session_id}, "json")

    assert response.status_code == 200, response.content
    assert list(response.json()) == STATUS_FIELDS


# Every way of asking for a format: the Accept header, a suffix, ?format= and the
# predefined routes, with names and values in any case.
FORMAT_WAYS = {
    "accept-json": ("json", "", {"HTTP_ACCEPT": "application/json"}),
    "accept-csv": ("csv", "", {"HTTP_ACCEPT": "text/csv"}),
    "accept-xml": ("xml", "", {"HTTP_ACCEPT": "application/xml"}),
    "accept-text-xml": ("xml", "", {"HTTP_ACCEPT": "text/xml"}),
    "accept-csv-among-others": ("csv", "", {"HTTP_ACCEPT": "text/html;q=0.9, text/csv"}),
    "suffix-json": ("json", ".json", {}),
    "suffix-csv": ("csv", ".csv", {}),
    "suffix-xml": ("xml", ".xml", {}),
    "suffix-upper-case": ("csv", ".CSV", {}),
    "suffix-and-slash": ("xml", ".Xml/", {}),
    "query-json": ("json", "?format=json", {}),
    "query-csv": ("csv", "?format=csv", {}),
    "query-xml": ("xml", "?format=xml", {}),
    "query-upper-case": ("csv", "?FORMAT=CSV", {}),
    "query-mixed-case": ("xml", "?Format=Xml", {}),
    "reply-route-json": ("json", "/json/reply/", {}),
    "reply-route-csv": ("csv", "/csv/reply/", {}),
    "reply-route-xml": ("xml", "/xml/reply/", {}),
    "reply-route-upper-case": ("csv", "/CSV/REPLY/", {}),
}


def asked(way: str, path: str, request_name: str) -> tuple[str, str, dict]:
    fmt, part, headers = FORMAT_WAYS[way]
    if part.lower().endswith("/reply/"):
        return fmt, f"{part}{request_name}", headers
    return fmt, f"{path}{part}", headers


@pytest.mark.parametrize("way", list(FORMAT_WAYS))
def test_create_answers_in_every_format_asked_for_in_every_way(api, company, stripe_emulator, way):
    fmt, path, headers = asked(way, CHECKOUT_URL, "StripeV1CreateCheckout")

    response = api.post(path, checkout_body(company), format="json", **headers)

    assert response.status_code == 200, response.content
    fields = record(response, fmt)
    assert list(fields) == SEED_RESPONSE_FIELDS
    assert fields["SessionId"].startswith("cs_test_")


@pytest.mark.parametrize("way", list(FORMAT_WAYS))
def test_status_answers_in_every_format_asked_for_in_every_way(api, company, create_checkout, way):
    session_id = create_checkout().json()["SessionId"]
    fmt, path, headers = asked(
        way, "/payment/stripe/v1/checkout/status", "GetStripeCheckoutV1CheckoutStatus"
    )

    response = api.post(
        path, {"CompanyId": str(company.id), "SessionId": session_id}, format="json", **headers
    )

    assert response.status_code == 200, response.content
    fields = record(response, fmt, "StripeCheckoutStatusQueryResponse")
    assert list(fields) == STATUS_FIELDS
    assert fields["Status"] == "open"


# --- Request bodies ------------------------------------------------------------------------


def created(response) -> Checkout:
    assert response.status_code == 200, response.content
    return Checkout.objects.get(stripe_session_id=response.json()["SessionId"])


@pytest.mark.parametrize("content_type", ["text/csv", "text/plain", "application/xml", None])
def test_a_json_object_is_read_as_json_whatever_the_content_type_says(
    api, company, stripe_emulator, content_type
):
    body = json.dumps(checkout_body(company, InternalReferenceId="booking-json"))
    extra = {"CONTENT_TYPE": content_type} if content_type else {}

    response = api.generic("POST", CHECKOUT_URL, body, **extra)

    assert created(response).payable.internal_reference_id == "booking-json"


def csv_body(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def test_a_csv_body_is_a_header_row_and_a_row_with_articles_in_jsv(api, company, stripe_emulator):
    body = csv_body(
        [
            ["CompanyId", "CountryCode", "Articles", "InternalReferenceId", "UiMode"],
            [
                str(company.id),
                "SE",
                "[{ArticleId:1,ArticleTypeId:1,Quantity:2},{ArticleId:7,ArticleTypeId:2}]",
                "booking-csv",
                "",
            ],
        ]
    )

    response = api.post(CHECKOUT_URL, body, content_type="text/csv")

    checkout = created(response)
    assert [(line.article_id, line.quantity) for line in checkout.line_items] == [(1, 2), (7, 1)]
    assert checkout.ui_mode == "hosted"


def test_a_csv_body_may_give_articles_as_json_or_as_indexed_columns(api, company, stripe_emulator):
    body = csv_body(
        [
            [
                "CompanyId",
                "CountryCode",
                "InternalReferenceId",
                "Articles[0].ArticleId",
                "Articles[0].ArticleTypeId",
            ],
            [str(company.id), "SE", "booking-csv-2", "7", "2"],
        ]
    )
    as_json = csv_body(
        [
            ["CompanyId", "CountryCode", "InternalReferenceId", "Articles"],
            [str(company.id), "SE", "booking-csv-3", '[{"ArticleId": 1, "ArticleTypeId": 1}]'],
        ]
    )

    indexed = api.post(CHECKOUT_URL, body, content_type="text/csv; charset=utf-8")
    json_cell = api.post(CHECKOUT_URL, "\ufeff" + as_json, content_type="text/csv")

    assert [line.article_id for line in created(indexed).line_items] == [7]
    assert [line.article_id for line in created(json_cell).line_items] == [1]


def test_a_csv_answer_sent_back_as_a_request_reads_the_same(api, company, create_checkout):
    """What the CSV renderer writes, the CSV parser reads: a JSV cell with quotes and commas."""
    reference = 'booking "A", 1'
    body = csv_body(
        [
            ["CompanyId", "CountryCode", "Articles", "InternalReferenceId"],
            [str(company.id), "se", '[{ArticleId:"1",ArticleTypeId:1}]', reference],
        ]
    )

    response = api.post(f"{CHECKOUT_URL}.csv", body, content_type="text/csv")

    assert response.status_code == 200
    assert (
        Checkout.objects.get(
            stripe_session_id=csv_record(response)["SessionId"]
        ).payable.internal_reference_id
        == reference
    )


XML_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<StripeV1CreateCheckout xmlns="{namespace}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <CompanyId>{company_id}</CompanyId>
  <CountryCode>SE</CountryCode>
  <Articles>
    <ArticleToCreate><ArticleId>1</ArticleId><ArticleTypeId>1</ArticleTypeId>
      <Quantity>2</Quantity></ArticleToCreate>
  </Articles>
  <InternalReferenceId>booking-xml</InternalReferenceId>
  <ConfirmationUrl i:nil="true" />
  <CancelUrl>https://app.example.com/back</CancelUrl>
  <UiMode>hosted</UiMode>
</StripeV1CreateCheckout>"""


@pytest.mark.parametrize(
    "namespace",
    [
        "http://schemas.servicestack.net/types",
        "http://schemas.datacontract.org/2004/07/BokaMera.API.ServiceModel.Dtos",
    ],
)
@pytest.mark.parametrize("content_type", ["application/xml", "text/xml"])
def test_an_xml_body_shaped_like_the_services_xml_is_read(
    api, company, stripe_emulator, namespace, content_type
):
    body = XML_REQUEST.format(namespace=namespace, company_id=company.id)

    response = api.post(f"{CHECKOUT_URL}.xml", body, content_type=content_type)

    assert response.status_code == 200, response.content
    fields = xml_record(response, "StripeCheckoutQueryResponse")
    checkout = Checkout.objects.get(stripe_session_id=fields["SessionId"])
    assert [(line.article_id, line.quantity) for line in checkout.line_items] == [(1, 2)]
    assert checkout.cancel_url == "https://app.example.com/back"


def test_an_xml_status_request_names_its_own_dto(api, company, create_checkout):
    session_id = create_checkout().json()["SessionId"]
    body = (
        '<GetStripeCheckoutV1CheckoutStatus xmlns="http://schemas.servicestack.net/types">'
        f"<CompanyId>{company.id}</CompanyId><SessionId>{session_id}</SessionId>"
        "</GetStripeCheckoutV1CheckoutStatus>"
    )

    response = api.post(
        "/xml/reply/GetStripeCheckoutV1CheckoutStatus", body, content_type="application/xml"
    )

    assert response.status_code == 200, response.content
    assert xml_record(response, "StripeCheckoutStatusQueryResponse")["Status"] == "open"


def test_a_form_may_give_articles_in_jsv(api, company, stripe_emulator):
    form = checkout_body(
        company,
        Articles="[{ArticleId:7,ArticleTypeId:2,Quantity:3}]",
        InternalReferenceId="[booking] 1",
    )

    response = api.post(
        CHECKOUT_URL, urlencode(form), content_type="application/x-www-form-urlencoded"
    )

    checkout = created(response)
    assert [(line.article_id, line.quantity) for line in checkout.line_items] == [(7, 3)]
    assert checkout.payable.internal_reference_id == "[booking] 1"


def test_any_other_body_is_unsupported(api, company):
    response = api.post(CHECKOUT_URL, "CompanyId;CountryCode", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["ResponseStatus"]["ErrorCode"] == "UnsupportedMediaType"


# --- Query-string binding ----------------------------------------------------------------


def test_every_field_may_come_in_the_query_string(api, company, stripe_emulator):
    query = urlencode(
        {
            "CompanyId": str(company.id),
            "countrycode": "se",
            "Articles": "[{ArticleId:1,ArticleTypeId:1}]",
            "InternalReferenceId": "booking-query",
            "UiMode": "embedded",
        }
    )

    response = api.post(f"{CHECKOUT_URL}?{query}")

    checkout = created(response)
    assert checkout.payable.internal_reference_id == "booking-query"
    assert (checkout.ui_mode, checkout.country_code) == ("embedded", "SE")


def test_a_query_string_field_binds_when_the_body_lacks_it_and_the_body_wins(
    api, company, stripe_emulator
):
    body = checkout_body(company, InternalReferenceId="from-the-body", CountryCode=None)
    query = urlencode(
        {
            "internalreferenceid": "from-the-query",
            "CountryCode": "NO",
            "Articles[0].ArticleId": "7",
            "Articles[0].ArticleTypeId": "2",
        }
    )

    response = api.post(f"{CHECKOUT_URL}.json?{query}", body, format="json")

    checkout = created(response)
    assert checkout.payable.internal_reference_id == "from-the-body"
    assert checkout.country_code == "NO"
    assert [line.article_id for line in checkout.line_items] == [1]


def test_the_format_parameter_is_never_a_field(api, company, stripe_emulator):
    body = checkout_body(company, UiMode=None)

    response = api.post(f"{CHECKOUT_URL}?format=csv&uimode=embedded", body, format="json")

    assert response.status_code == 200
    assert csv_record(response)["ClientSecret"]


@pytest.mark.parametrize(
    "path",
    [
        REFUND_URL,
        "/Payment/Stripe/V1/Checkout/Refund/",
        "/json/reply/StripeV1CheckoutRefund",
        "/JSON/REPLY/stripev1checkoutrefund",
    ],
)
def test_the_refund_path_matches_as_servicestack_matches_it(api, company, create_checkout, path):
    session_id = created(create_checkout()).stripe_session_id

    response = api.post(
        path, {"CompanyId": str(company.id), "SessionId": session_id}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["ResponseStatus"]["ErrorCode"] == "NotPaid"


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (f"{PAYMENTS_URL}.CSV", "csv"),
        ("/Payment/Stripe/V1/Payments/?format=XML", "xml"),
        ("/csv/reply/StripeCheckoutPayments", "csv"),
        ("/json/reply/StripeCheckoutPayments", "json"),
    ],
)
def test_the_payment_log_path_matches_as_servicestack_matches_it(
    api, company, create_checkout, path, fmt
):
    created(create_checkout())
    separator = "&" if "?" in path else "?"

    response = api.get(f"{path}{separator}CompanyId={company.id}")

    assert response.status_code == 200
    assert fmt in response["Content-Type"]
