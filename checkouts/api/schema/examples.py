"""Example requests and answers: realistic ones, and the sample of BokaMera's documentation.

An answer's CSV and XML renderings are made by the API's own renderers, so that they
show what a client really gets.
"""

from types import SimpleNamespace
from typing import Any

from drf_spectacular.utils import OpenApiExample
from rest_framework.renderers import BaseRenderer

from checkouts.api.renderers import ServiceStackCSVRenderer, ServiceStackXMLRenderer
from checkouts.api.serializers import CheckoutResponseSerializer

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

COMPANY_ID = "0d3e6a4c-5b1f-4d8e-9c2a-7f6b5e4d3c2b"
SESSION_ID = "cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ0123456789aBcDeFgH"
ACCOUNT = "acct_1DemoSalonBokaMera"
EVENT_ID = "evt_1QbKx2DemoSalonBokaMera"

HOSTED_REQUEST = {
    "CompanyId": COMPANY_ID,
    "CountryCode": "SE",
    "Articles": [
        {"ArticleId": 1, "ArticleTypeId": 1, "Quantity": 1},
        {"ArticleId": 7, "ArticleTypeId": 2},
    ],
    "InternalReferenceId": "booking-1001",
    "ConfirmationUrl": "https://app.example.com/booking/1001/confirmed",
    "CancelUrl": "https://app.example.com/booking/1001",
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
    "AmountTotal": 45000,
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
