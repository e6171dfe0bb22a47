"""Example requests and answers: realistic ones, and the sample of BokaMera's documentation.

The requests are the demo company's (``articles/demo.py``: its id, articles and allowed
hosts), so that Swagger UI's "Try it out" succeeds against ``dev.py run`` with the API
key it prints. An answer's CSV and XML renderings are made by the API's own renderers,
so that they show what a client really gets.
"""

from types import SimpleNamespace
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiRequest
from rest_framework.renderers import BaseRenderer
from rest_framework.serializers import Serializer

from articles.demo import DEMO_COMPANY_ID, DEMO_CONNECTED_ACCOUNT
from checkouts.api.renderers import ServiceStackCSVRenderer, ServiceStackXMLRenderer
from checkouts.api.serializers import CheckoutResponseSerializer

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
CSV = ServiceStackCSVRenderer.media_type
XML = ServiceStackXMLRenderer.media_type

COMPANY_ID = str(DEMO_COMPANY_ID)
SESSION_ID = "cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ0123456789aBcDeFgH"
ACCOUNT = DEMO_CONNECTED_ACCOUNT
EVENT_ID = "evt_1QbKx2DemoSalonBokaMera"
# Where dev.py run serves the demo pages; the demo company allows its host.
DEMO_PAGES = "http://127.0.0.1:8000/demo"

HOSTED_REQUEST = {
    "CompanyId": COMPANY_ID,
    "CountryCode": "SE",
    "Articles": [
        {"ArticleId": 1, "ArticleTypeId": 1, "Quantity": 1},  # a haircut
        {"ArticleId": 1, "ArticleTypeId": 2},  # a ten-visit rebate code
    ],
    "InternalReferenceId": "booking-1001",
    "ConfirmationUrl": f"{DEMO_PAGES}/confirmation",
    "CancelUrl": f"{DEMO_PAGES}/cancel",
    "UiMode": "hosted",
}
EMBEDDED_REQUEST = {
    "CompanyId": COMPANY_ID,
    "CountryCode": "se",
    "Articles": [{"ArticleId": 1, "ArticleTypeId": 1}],
    "InternalReferenceId": "booking-1002",
    "UiMode": "embedded",
}
HOSTED_RESPONSE = {
    "SessionId": SESSION_ID,
    "Url": f"https://checkout.stripe.com/c/pay/{SESSION_ID}",
    "Status": "open",
    "ClientSecret": None,
    "CustomerId": None,
    "PaymentIntentClientSecret": None,
    "PaymentIntentId": None,
    "StripeAccount": ACCOUNT,
}
EMBEDDED_RESPONSE = {
    **HOSTED_RESPONSE,
    "Url": None,
    "ClientSecret": f"{SESSION_ID}_secret_fidwbEhqYWAnPCdOZWRXdmhkcWBnbWd",
}
STATUS_REQUEST = {"CompanyId": COMPANY_ID, "SessionId": SESSION_ID}
STATUS_PAID = {
    "Status": "complete",
    "CustomerEmail": "kund@example.se",
    "PaymentStatus": "paid",
    "InternalReferenceId": "booking-1001",
    "AmountTotal": 425000,
    "Currency": "SEK",
    "AmountRefunded": 0,
}
STATUS_OPEN = {**STATUS_PAID, "Status": "open", "CustomerEmail": None, "PaymentStatus": "unpaid"}
STRIPE_EVENT = {
    "id": EVENT_ID,
    "object": "event",
    "api_version": "2024-06-20",
    "type": "checkout.session.completed",
    "account": ACCOUNT,
    "created": 1735725600,
    "livemode": False,
    "data": {
        "object": {
            "id": SESSION_ID,
            "object": "checkout.session",
            "status": "complete",
            "payment_status": "paid",
            "client_reference_id": "booking-1001",
            "metadata": {"internal_reference_id": "booking-1001"},
        }
    },
}

# BokaMera's documented sample, placeholders and all.
SEED_SAMPLE = {
    "summary": "BokaMera's documented sample (placeholders)",
    "description": "The sample of BokaMera's documentation; the placeholders need to be "
    "replaced with actual values.",
}
SEED_REQUEST = OpenApiExample(
    "BokaMeraSample",
    {
        "CompanyId": "00000000-0000-0000-0000-000000000000",
        "CountryCode": "String",
        "Articles": [{"ArticleId": 0, "ArticleTypeId": 0, "Quantity": 0}],
        "InternalReferenceId": "String",
        "ConfirmationUrl": "String",
        "CancelUrl": "String",
        "UiMode": "String",
    },
    media_type=JSON,
    **SEED_SAMPLE,
)
SEED_RESPONSE = OpenApiExample(
    "BokaMeraSample",
    dict.fromkeys(CheckoutResponseSerializer().fields, "String"),
    media_type=JSON,
    **SEED_SAMPLE,
)


def rendered(renderer: BaseRenderer, data: Any, response_name: str) -> str:
    """``data`` as ``renderer`` writes it in an answer of the DTO ``response_name``."""
    context = {"view": SimpleNamespace(response_name=response_name)}
    body = renderer.render(data, renderer.media_type, context)
    return body.decode() if isinstance(body, bytes) else body


def in_every_format(
    name: str,
    data: dict[str, Any],
    *,
    summary: str,
    response_name: str,
    renderers: tuple[BaseRenderer, ...] = (ServiceStackCSVRenderer(), ServiceStackXMLRenderer()),
) -> list[OpenApiExample]:
    """One answer as JSON, and as CSV and XML (by the operation's ``renderers``)."""
    return [
        OpenApiExample(name, data, summary=summary, media_type=JSON),
        *(
            OpenApiExample(
                name,
                rendered(renderer, data, response_name),
                summary=summary,
                media_type=renderer.media_type,
            )
            for renderer in renderers
        ),
    ]


def csv_and_xml_requests(
    serializer: type[Serializer],
    name: str,
    data: dict[str, Any],
    *,
    summary: str,
    request_name: str,
    csv: str,
) -> dict[str, OpenApiRequest]:
    """``request`` entries for CSV and XML bodies of ``serializer``, each with one example:
    the XML as the XML renderer writes the DTO ``request_name``, the CSV (whose Articles
    cell is JSV) as given."""
    xml = rendered(ServiceStackXMLRenderer(), data, request_name)
    return {
        media_type: OpenApiRequest(
            serializer,
            examples=[OpenApiExample(name, body, summary=summary, media_type=media_type)],
        )
        for media_type, body in ((CSV, csv), (XML, xml))
    }


EMBEDDED_REQUEST_CSV = (
    "CompanyId,CountryCode,Articles,InternalReferenceId,UiMode\r\n"
    f'{COMPANY_ID},se,"[{{ArticleId:1,ArticleTypeId:1}}]",booking-1002,embedded\r\n'
)
STATUS_REQUEST_CSV = f"CompanyId,SessionId\r\n{COMPANY_ID},{SESSION_ID}\r\n"
