"""Hostile input never reaches a 500: each gets a precise error, no Stripe call and no row.

Each case is a request a careless or malicious client could send: too big, too deep, too
many fields, numbers no column holds, characters XML cannot carry, bodies that lie about
their type or length.
"""

import json
import socket
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from checkouts.models import Checkout, ClientIdempotencyKey, Payable
from tests.support.api import CHECKOUT_URL, CREATE_SESSION, checkout_body

pytestmark = pytest.mark.django_db(transaction=True)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MAX_BODY = 1024 * 1024
MAX_FIELDS = 1000


@dataclass(frozen=True)
class Hostile:
    """A request (its body built for the test's company) and the answer it must get."""

    body: object  # a dict (sent as JSON), bytes, or a function of the valid body
    status: int
    error_code: str
    field_name: str | None = None
    content_type: str = JSON
    path: str = CHECKOUT_URL
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self, valid: dict) -> bytes:
        body = self.body(valid) if callable(self.body) else self.body
        return body if isinstance(body, bytes) else json.dumps(body).encode()


def with_article(**fields):
    """The valid body, its one article with ``fields`` instead."""
    return lambda valid: {
        **valid,
        "Articles": [{"ArticleId": 1, "ArticleTypeId": 1, "Quantity": 1, **fields}],
    }


def with_fields(**fields):
    return lambda valid: {**valid, **fields}


def with_member(member: str):
    """The valid body's JSON with ``member`` (JSON text) added as its last member: what
    ``json.dumps`` cannot write, such as a key already given."""
    return lambda valid: (json.dumps(valid)[:-1] + f", {member}}}").encode()


def written_as(text: str, change):
    """The body ``change`` makes, its value ``"@"`` written as the JSON text ``text``
    (``1e400``, ``NaN``), which ``json.dumps`` cannot write."""
    return lambda valid: json.dumps(change(valid)).replace('"@"', text).encode()


def xml_body(inner: str, root: str = "StripeV1CreateCheckout") -> bytes:
    return (f'<{root} xmlns="http://schemas.servicestack.net/types">{inner}</{root}>').encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b'<StripeV1CreateCheckout xmlns="http://schemas.servicestack.net/types">'
    b"<InternalReferenceId>&lol2;</InternalReferenceId></StripeV1CreateCheckout>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<StripeV1CreateCheckout xmlns="http://schemas.servicestack.net/types">'
    b"<InternalReferenceId>&xxe;</InternalReferenceId></StripeV1CreateCheckout>"
)

CASES = {
    # Size and shape of the body.
    "json-100000-deep": Hostile(
        b'{"Articles":' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "SerializationException"
    ),
    "json-array-100000-deep": Hostile(
        b"[" * 100_000 + b"]" * 100_000, 400, "SerializationException"
    ),
    "json-nine-levels": Hostile(
        with_fields(Extra=[[[[[[[[["deep"]]]]]]]]]), 400, "SerializationException"
    ),
    "json-too-many-keys": Hostile(
        with_fields(**{f"Extra{i}": i for i in range(MAX_FIELDS)}), 400, "SerializationException"
    ),
    "json-too-many-items": Hostile(
        with_fields(Articles=[{"ArticleId": 1, "ArticleTypeId": 1}] * 600),
        400,
        "SerializationException",
    ),
    "form-too-many-fields": Hostile(
        urlencode({f"Extra{i}": i for i in range(MAX_FIELDS + 1)}).encode(),
        400,
        "SerializationException",
        content_type=FORM,
    ),
    "query-too-many-fields": Hostile(
        lambda valid: valid,
        400,
        "SerializationException",
        path=f"{CHECKOUT_URL}?{urlencode({f'x{i}': i for i in range(MAX_FIELDS + 1)})}",
    ),
    "body-over-the-limit": Hostile(
        lambda valid: json.dumps({**valid, "Extra": "x" * MAX_BODY}).encode(),
        413,
        "RequestEntityTooLarge",
    ),
    "content-length-over-the-limit": Hostile(
        lambda valid: valid, 413, "RequestEntityTooLarge", headers={"CONTENT_LENGTH": "99999999"}
    ),
    "content-length-shorter-than-the-body": Hostile(
        lambda valid: valid, 400, "SerializationException", headers={"CONTENT_LENGTH": "20"}
    ),
    "content-length-not-a-number": Hostile(
        lambda valid: valid, 400, "BadRequest", headers={"CONTENT_LENGTH": "twelve"}
    ),
    "content-length-negative": Hostile(
        lambda valid: valid, 400, "BadRequest", headers={"CONTENT_LENGTH": "-1"}
    ),
    "empty-body": Hostile(b"", 400, "NotEmpty", field_name="CompanyId"),
    "empty-object": Hostile({}, 400, "NotEmpty", field_name="CompanyId"),
    "json-null": Hostile(b"null", 400, "NotNull"),
    "json-string": Hostile(b'"StripeV1CreateCheckout"', 400, "Invalid"),
    "duplicate-keys": Hostile(with_member('"CountryCode": "NO"'), 400, "SerializationException"),
    "the-same-field-in-two-cases": Hostile(
        with_member('"countrycode": "NO"'), 400, "Repeated", field_name="CountryCode"
    ),
    # Numbers no column holds, and numbers that are not numbers.
    "article-id-2-to-the-63": Hostile(
        with_article(ArticleId=2**63), 400, "InclusiveBetween", "Articles[0].ArticleId"
    ),
    "article-id-over-postgresql-integer": Hostile(
        with_article(ArticleId=2**31), 400, "InclusiveBetween", "Articles[0].ArticleId"
    ),
    "article-id-2-to-the-63-as-a-string": Hostile(
        with_article(ArticleId=str(2**63)), 400, "InclusiveBetween", "Articles[0].ArticleId"
    ),
    "article-type-id-over-smallint": Hostile(
        with_article(ArticleTypeId=2**15), 400, "InclusiveBetween", "Articles[0].ArticleTypeId"
    ),
    "quantity-2-to-the-64": Hostile(
        with_article(Quantity=2**64), 400, "InclusiveBetween", "Articles[0].Quantity"
    ),
    "article-id-of-5000-digits": Hostile(
        with_article(ArticleId="9" * 5000), 400, "Length", "Articles[0].ArticleId"
    ),
    "article-id-float-beyond-range": Hostile(
        written_as("1e400", with_article(ArticleId="@")), 400, "Invalid", "Articles[0].ArticleId"
    ),
    "article-id-nan": Hostile(
        written_as("NaN", with_article(ArticleId="@")), 400, "SerializationException"
    ),
    "article-id-fraction": Hostile(
        with_article(ArticleId=1.5), 400, "Invalid", "Articles[0].ArticleId"
    ),
    "article-id-true": Hostile(
        with_article(ArticleId=True), 400, "Invalid", "Articles[0].ArticleId"
    ),
    # Wrong types and shapes.
    "articles-nested-in-an-article": Hostile(
        with_article(ArticleId={"Articles": [{"ArticleId": 1}]}),
        400,
        "Invalid",
        "Articles[0].ArticleId",
    ),
    "articles-in-a-list-in-a-list": Hostile(
        with_fields(Articles=[[{"ArticleId": 1, "ArticleTypeId": 1}]]),
        400,
        "Invalid",
        "Articles[0]",
    ),
    "articles-as-an-object": Hostile(
        with_fields(Articles={"ArticleId": 1}), 400, "NotAList", "Articles"
    ),
    "articles-as-text-that-is-no-list": Hostile(
        with_fields(Articles="[{ArticleId:1"), 400, "Invalid", "Articles"
    ),
    "company-id-as-a-number": Hostile(with_fields(CompanyId=123), 400, "Invalid", "CompanyId"),
    "company-id-true": Hostile(with_fields(CompanyId=True), 400, "Invalid", "CompanyId"),
    "reference-as-an-object": Hostile(
        with_fields(InternalReferenceId={"a": 1}), 400, "Invalid", "InternalReferenceId"
    ),
    "ui-mode-as-a-list": Hostile(with_fields(UiMode=["hosted"]), 400, "Invalid", "UiMode"),
    "country-code-as-a-number": Hostile(
        with_fields(CountryCode=46), 400, "InvalidCountryCode", "CountryCode"
    ),
    # Characters.
    "nul-in-the-reference": Hostile(
        with_fields(InternalReferenceId="booking\x001"),
        400,
        "InvalidCharacters",
        "InternalReferenceId",
    ),
    "escape-in-the-reference": Hostile(
        with_fields(InternalReferenceId="booking\x1b[31m"),
        400,
        "InvalidCharacters",
        "InternalReferenceId",
    ),
    "lone-surrogate-in-the-reference": Hostile(
        with_fields(InternalReferenceId="booking\ud800"),
        400,
        "InvalidCharacters",
        "InternalReferenceId",
    ),
    "invalid-utf-8": Hostile(b'{"CompanyId": "\xff\xfe"}', 400, "SerializationException"),
    "nul-in-the-idempotency-key": Hostile(
        lambda valid: valid,
        400,
        "InvalidCharacters",
        "Idempotency-Key",
        headers={"HTTP_IDEMPOTENCY_KEY": "key\x00"},
    ),
    "nul-in-the-api-key": Hostile(
        lambda valid: valid, 401, "Unauthorized", headers={"HTTP_X_API_KEY": "abc\x00.def"}
    ),
    "backslash-in-a-redirect-url": Hostile(
        with_fields(ConfirmationUrl="https://evil.example\\@app.example.com/x"),
        400,
        "Invalid",
        "ConfirmationUrl",
    ),
    # Bodies of other types.
    "xml-billion-laughs": Hostile(
        BILLION_LAUGHS, 400, "SerializationException", content_type="application/xml"
    ),
    "xml-external-entity": Hostile(
        EXTERNAL_ENTITY, 400, "SerializationException", content_type="application/xml"
    ),
    "xml-10000-deep": Hostile(
        xml_body("<a>" * 10_000 + "</a>" * 10_000),
        400,
        "SerializationException",
        content_type="application/xml",
    ),
    "xml-of-another-dto": Hostile(
        xml_body("", root="CreateStripeWebhook"),
        400,
        "SerializationException",
        content_type="application/xml",
    ),
    "xml-not-well-formed": Hostile(
        b"<StripeV1CreateCheckout>", 400, "SerializationException", content_type="text/xml"
    ),
    "csv-two-rows-of-values": Hostile(
        b"CountryCode\r\nSE\r\nNO\r\n", 400, "SerializationException", content_type="text/csv"
    ),
    "csv-row-longer-than-its-header": Hostile(
        b"CountryCode\r\nSE,NO\r\n", 400, "SerializationException", content_type="text/csv"
    ),
    "csv-invalid-utf-8": Hostile(
        b"CountryCode\r\n\xff\r\n", 400, "SerializationException", content_type="text/csv"
    ),
    "csv-articles-500-deep": Hostile(
        b"Articles\r\n" + b"[" * 500 + b"]" * 500 + b"\r\n",
        400,
        "Invalid",
        "Articles",
        content_type="text/csv",
    ),
    "charset-that-is-no-text-encoding": Hostile(
        lambda valid: valid,
        415,
        "UnsupportedMediaType",
        content_type="application/json; charset=base64",
    ),
    "form-in-a-charset-that-is-no-text-encoding": Hostile(
        b"CountryCode=SE",
        415,
        "UnsupportedMediaType",
        content_type="application/x-www-form-urlencoded; charset=rot13",
    ),
    "plain-text": Hostile(b"CompanyId=1", 415, "UnsupportedMediaType", content_type="text/plain"),
    "multipart": Hostile(
        b"--x\r\n\r\n--x--",
        415,
        "UnsupportedMediaType",
        content_type="multipart/form-data; boundary=x",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_gets_a_precise_error_and_changes_nothing(
    name, api_key, company, stripe_emulator
):
    case = CASES[name]
    extra = {"HTTP_X_API_KEY": api_key, **case.headers}

    response = APIClient().generic(
        "POST",
        case.path,
        case.payload(checkout_body(company)),
        content_type=case.content_type,
        **extra,
    )

    assert response.status_code == case.status, response.content[:500]
    status = response.json()["ResponseStatus"]
    if case.field_name:
        errors = {error["FieldName"]: error["ErrorCode"] for error in status["Errors"]}
        assert errors.get(case.field_name) == case.error_code, status
    else:
        assert status["ErrorCode"] == case.error_code, status
    assert stripe_emulator.requests_to("POST", CREATE_SESSION) == []
    assert not Checkout.objects.exists()
    assert not Payable.objects.exists()
    assert not ClientIdempotencyKey.objects.exists()


def send_raw(live_server, request: bytes) -> bytes:
    """``request`` sent as is to the live service, which then sees the end of the input."""
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_body_that_ends_before_its_content_length_is_read_as_far_as_it_goes(
    live_server, api_key, company, stripe_emulator
):
    body = json.dumps(checkout_body(company)).encode()[:40]
    request = (
        f"POST {CHECKOUT_URL} HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body) + 100}\r\n\r\n"
    ).encode() + body

    answer = send_raw(live_server, request)

    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert json.loads(payload)["ResponseStatus"]["ErrorCode"] == "SerializationException"
    assert not Checkout.objects.exists()
