"""The refund endpoint's documentation: what it takes, answers, and the errors it raises."""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiRequest,
    OpenApiResponse,
    extend_schema,
)
from rest_framework.exceptions import NotFound

from checkouts import exceptions
from checkouts.api.refunds.serializers import RefundRequestSerializer, RefundResponseSerializer
from checkouts.api.schema import error_responses as shared
from checkouts.api.schema import examples
from checkouts.api.schema.error_responses import DocumentedError
from checkouts.api.schema.examples import FORM, JSON, csv_and_xml_requests, in_every_format
from checkouts.api.schema.operations import CHECKOUT_TAG
from checkouts.api.schema.parameters import (
    FORMAT_PARAMETER,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_REPLAYED,
    RESPONSE_HEADERS,
)

RESPONSE_NAME = "StripeCheckoutRefundResponse"
REFUND_REQUEST = {
    "CompanyId": examples.COMPANY_ID,
    "SessionId": examples.SESSION_ID,
    "Amount": 15000,
    "Reason": "requested_by_customer",
    "Comments": "Cancelled within the free cancellation period.",
}
REFUND_REQUEST_CSV = (
    "CompanyId,SessionId,Amount,Reason\r\n"
    f"{examples.COMPANY_ID},{examples.SESSION_ID},15000,requested_by_customer\r\n"
)
FULL_REFUND_REQUEST = {"CompanyId": examples.COMPANY_ID, "InternalReferenceId": "booking-1001"}
PARTLY_REFUNDED = {
    "RefundId": "re_3QbKx2DemoSalonBokaMera0001",
    "Status": "succeeded",
    "Amount": 15000,
    "AmountRefunded": 15000,
    "Currency": "SEK",
    "SessionId": examples.SESSION_ID,
    "InternalReferenceId": "booking-1001",
}
PENDING = {
    **PARTLY_REFUNDED,
    "RefundId": "re_3QbKx2DemoSalonBokaMera0002",
    "Status": "pending",
    "Amount": 30000,
    "AmountRefunded": 45000,
}

REFUND_CHECKOUT_ERRORS = [
    DocumentedError(
        "ValidationErrors",
        shared.rejected(RefundRequestSerializer, {"CompanyId": examples.COMPANY_ID, "Amount": 0}),
        "Invalid fields, every one listed; SessionId or InternalReferenceId is required.",
    ),
    DocumentedError(
        "AmountExceedsRefundable",
        exceptions.AmountExceedsRefundable(
            "Amount 500.00 SEK is more than the 300.00 SEK left to refund."
        ),
        "More than is left to refund: the amount paid, less every refund made or being made.",
    ),
    shared.MALFORMED_JSON,
    *shared.API_KEY_ERRORS,
    DocumentedError(
        "UnknownCheckout",
        NotFound(f"No checkout with SessionId {examples.SESSION_ID} in this company."),
        "No checkout with this SessionId (or InternalReferenceId) in the company.",
    ),
    shared.UNKNOWN_COMPANY,
    DocumentedError(
        "NotPaid",
        exceptions.CheckoutNotPaid(
            f"Checkout {examples.SESSION_ID} is not paid; there is nothing to refund."
        ),
        "The checkout is not paid: there is nothing to refund.",
    ),
    *shared.IDEMPOTENCY_ERRORS,
    *shared.REQUEST_ERRORS,
    *shared.STRIPE_ERRORS,
]

REFUND_CHECKOUT = extend_schema(
    operation_id="refundStripeCheckout",
    summary="Refund a paid Stripe checkout, in part or in full",
    description="""\
Refunds a paid checkout on the company's connected Stripe account, through its payment.
Name the checkout by `SessionId` or by `InternalReferenceId` (the payable's paid
checkout). Without `Amount`, everything left is refunded. Refunds never add up to more
than was paid: what is left is the amount paid less every refund made or being made,
here or in the Stripe Dashboard; a refund that fails later is left again.

If the company takes a platform fee, its settings say whether the fee is refunded too
(in proportion).

**Idempotency-Key.** As when creating a checkout: the same key and body within 24 hours
answers the same refund again and refunds nothing more. If Stripe's answer to the first
request was lost (a 503), repeating it with the same key asks Stripe again without
refunding twice.
""",
    request={
        JSON: OpenApiRequest(
            RefundRequestSerializer,
            examples=[
                OpenApiExample(
                    "Partial", REFUND_REQUEST, summary="Part of a session", media_type=JSON
                ),
                OpenApiExample(
                    "Full",
                    FULL_REFUND_REQUEST,
                    summary="All that is left of a booking's payment",
                    media_type=JSON,
                ),
            ],
        ),
        FORM: RefundRequestSerializer,
        **csv_and_xml_requests(
            RefundRequestSerializer,
            "Partial",
            REFUND_REQUEST,
            summary="Part of a session",
            request_name="StripeV1CheckoutRefund",
            csv=REFUND_REQUEST_CSV,
        ),
    },
    responses={
        200: OpenApiResponse(
            RefundResponseSerializer,
            description="The refund Stripe made (or, for a repeated Idempotency-Key, the same "
            "refund again).",
            examples=[
                *in_every_format(
                    "Partial",
                    PARTLY_REFUNDED,
                    summary="Part of the payment is refunded",
                    response_name=RESPONSE_NAME,
                ),
                *in_every_format(
                    "Pending",
                    PENDING,
                    summary="The rest, still pending at the bank",
                    response_name=RESPONSE_NAME,
                ),
            ],
        ),
        **shared.error_responses(*REFUND_CHECKOUT_ERRORS),
    },
    parameters=[IDEMPOTENCY_KEY, FORMAT_PARAMETER, IDEMPOTENT_REPLAYED, *RESPONSE_HEADERS],
    tags=[CHECKOUT_TAG],
)
