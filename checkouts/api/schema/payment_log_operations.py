"""The payment log's documentation: its query, its answer, and the errors it raises."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotAcceptable, Throttled

from checkouts.api.payment_log.renderers import QueryResponseCSVRenderer, QueryResponseXMLRenderer
from checkouts.api.payment_log.serializers import (
    PaymentLogQuerySerializer,
    PaymentLogResponseSerializer,
)
from checkouts.api.schema import examples
from checkouts.api.schema.error_responses import (
    API_KEY_ERRORS,
    DATABASE_BUSY,
    UNKNOWN_COMPANY,
    DocumentedError,
    error_responses,
    rejected,
)
from checkouts.api.schema.examples import in_every_format
from checkouts.api.schema.operations import CHECKOUT_TAG
from checkouts.api.schema.parameters import FORMAT_PARAMETER, RESPONSE_HEADERS
from checkouts.selectors import PAYMENT_LOG_COUNT_CAP, PAYMENT_LOG_MAX_TAKE

RESPONSE_NAME = "StripeCheckoutPaymentsQueryResponse"
A_PAGE = {
    "Offset": 0,
    "Total": 1,
    "Results": [
        {
            "SessionId": examples.SESSION_ID,
            "InternalReferenceId": "booking-1001",
            "Status": "complete",
            "PaymentStatus": "paid",
            "AmountTotal": 45000,
            "AmountRefunded": 15000,
            "ApplicationFeeAmount": 1125,
            "Currency": "SEK",
            "CustomerEmail": "kund@example.se",
            "PaymentIntentId": "pi_3QbKx2DemoSalonBokaMera",
            "Created": "2026-01-31T09:12:44.120000Z",
            "PaidAt": "2026-01-31T09:14:02.503000Z",
        }
    ],
    "Meta": None,
    "ResponseStatus": None,
}

PAYMENT_LOG_ERRORS = [
    DocumentedError(
        "ValidationErrors",
        rejected(
            PaymentLogQuerySerializer,
            {"CreatedFrom": "yesterday", "Take": PAYMENT_LOG_MAX_TAKE + 1},
        ),
        "Invalid parameters, every one listed.",
    ),
    *API_KEY_ERRORS,
    UNKNOWN_COMPANY,
    DocumentedError(
        "UnknownFormat",
        NotAcceptable("Unknown format 'yaml'; use one of: json, csv, xml."),
        "An unknown ?format=, or an Accept header that no format satisfies.",
    ),
    DocumentedError(
        "Throttled",
        Throttled(wait=42),
        "Too many requests with this API key, or without a valid one from this address; "
        "retry after Retry-After seconds.",
    ),
    DATABASE_BUSY,
]

PAYMENT_LOG = extend_schema(
    operation_id="getStripeCheckoutPayments",
    summary="List the company's checkouts and payments (the payment log)",
    description=f"""\
The company's checkouts, oldest first, a page at a time, in the shape of ServiceStack's
`QueryResponse`: `Offset` (`Skip` echoed), `Total` and `Results`. Page with `Skip` and
`Take` (at most {PAYMENT_LOG_MAX_TAKE}); filter by creation time (`CreatedFrom` inclusive,
`CreatedTo` exclusive, RFC 3339), `InternalReferenceId` and `PaymentStatus`.

`Total` is exact while fewer than `Skip` + {PAYMENT_LOG_COUNT_CAP} checkouts match; past
that it is `Skip` + {PAYMENT_LOG_COUNT_CAP}, a lower bound, and `Meta` says
`TotalIsLowerBound`, so that no page costs a count of every match. Page on until a page
has fewer than `Take` results.

As CSV, the answer is its `Results`: a header row, then one row per checkout.
""",
    tags=[CHECKOUT_TAG],
    parameters=[PaymentLogQuerySerializer, FORMAT_PARAMETER, *RESPONSE_HEADERS],
    responses={
        200: OpenApiResponse(
            PaymentLogResponseSerializer,
            description="A page of the payment log.",
            examples=in_every_format(
                "Page",
                A_PAGE,
                summary="A paid booking, part refunded, with the platform's fee",
                response_name=RESPONSE_NAME,
                renderers=(QueryResponseCSVRenderer(), QueryResponseXMLRenderer()),
            ),
        ),
        **error_responses(*PAYMENT_LOG_ERRORS),
    },
)
