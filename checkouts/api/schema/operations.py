"""Each operation's documentation, as an ``extend_schema`` decorator for its view: what
it takes, what it answers, and the errors it can raise (``*_ERRORS``)."""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiRequest,
    OpenApiResponse,
    extend_schema,
)
from rest_framework.exceptions import NotFound

from checkouts import exceptions
from checkouts.api.schema import examples
from checkouts.api.schema.components import WEBHOOK_RETRY_LATER, StripeEventSerializer
from checkouts.api.schema.error_responses import (
    API_KEY_ERRORS,
    DATABASE_BUSY,
    GUARD_ERRORS,
    IDEMPOTENCY_ERRORS,
    MALFORMED_JSON,
    REQUEST_ERRORS,
    STRIPE_ERRORS,
    UNKNOWN_COMPANY,
    DocumentedError,
    error_responses,
    rejected,
)
from checkouts.api.schema.examples import FORM, JSON, csv_and_xml_requests, in_every_format
from checkouts.api.schema.parameters import (
    FORMAT_PARAMETER,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_REPLAYED,
    RESPONSE_HEADERS,
)
from checkouts.api.serializers import (
    CheckoutResponseSerializer,
    CheckoutStatusRequestSerializer,
    CheckoutStatusResponseSerializer,
    CreateCheckoutRequestSerializer,
    WebhookReceiptSerializer,
)

CHECKOUT_TAG = "Stripe Checkout"
WEBHOOK_TAG = "Stripe webhooks"

# --- Errors of one operation each ------------------------------------------------------

CREATE_CHECKOUT_ERRORS = [
    DocumentedError(
        "ValidationErrors",
        rejected(
            CreateCheckoutRequestSerializer,
            {
                **examples.HOSTED_REQUEST,
                "CountryCode": "XX",
                "InternalReferenceId": "",
                "Articles": [{"ArticleId": 1, "ArticleTypeId": 1, "Quantity": 1000}],
            },
        ),
        "Invalid fields, every one listed.",
    ),
    DocumentedError(
        "UnknownArticle",
        exceptions.CheckoutValidationError(
            [
                exceptions.FieldError(
                    "Articles[0].ArticleId",
                    "ArticleNotFound",
                    "No article with ArticleTypeId 1 and ArticleId 404 in this company.",
                )
            ]
        ),
        "An article that is not in the company's catalogue, or a redirect URL to a host the "
        "company does not allow.",
    ),
    DocumentedError(
        "CancelUrlWithEmbedded",
        rejected(
            CreateCheckoutRequestSerializer,
            {**examples.EMBEDDED_REQUEST, "CancelUrl": "https://app.example.com/booking/1002"},
        ),
        "A CancelUrl with UiMode embedded.",
    ),
    DocumentedError(
        "StripeCheckoutNotEnabled",
        exceptions.StripeCheckoutNotEnabled(
            "Stripe Checkout 1.0 is not set up and enabled for this company."
        ),
        "A company without enabled Stripe Checkout settings.",
    ),
    DocumentedError(
        "PaymentMethodNotAvailable",
        exceptions.PaymentMethodNotAvailable(
            "Swish cannot take EUR (it takes SEK only). The company's Stripe Checkout settings "
            "must change before it can take payments."
        ),
        "The company allows a payment method that Stripe cannot take in its currency.",
    ),
    MALFORMED_JSON,
    *API_KEY_ERRORS,
    UNKNOWN_COMPANY,
    DocumentedError(
        "AlreadyPaid",
        exceptions.PayableAlreadyPaid(
            "InternalReferenceId 'booking-1001' is already paid; no new checkout was created."
        ),
        "The InternalReferenceId is already paid; no new checkout was created.",
    ),
    *IDEMPOTENCY_ERRORS,
    *REQUEST_ERRORS,
    *STRIPE_ERRORS,
]

CHECKOUT_STATUS_ERRORS = [
    DocumentedError(
        "MissingSessionId",
        rejected(CheckoutStatusRequestSerializer, {"CompanyId": examples.COMPANY_ID}),
        "Invalid fields, every one listed.",
    ),
    MALFORMED_JSON,
    *API_KEY_ERRORS,
    DocumentedError(
        "UnknownSession",
        NotFound(f"No checkout with SessionId {examples.SESSION_ID} in this company."),
        "No checkout with this SessionId in the company.",
    ),
    UNKNOWN_COMPANY,
    *REQUEST_ERRORS,
    *STRIPE_ERRORS,
]

RECEIVE_WEBHOOK_ERRORS = [
    DocumentedError(
        "InvalidSignature",
        exceptions.InvalidWebhook(
            "Invalid Stripe-Signature: No signatures found matching the expected "
            "signature for payload"
        ),
        "Not a valid delivery: a missing, wrong or stale Stripe-Signature, or a body that "
        "is not a Stripe event. Nothing is recorded; never worth retrying.",
    ),
    DocumentedError(
        "WebhooksNotConfigured",
        exceptions.WebhooksNotConfigured("STRIPE_WEBHOOK_SECRET is not set."),
        "The service cannot verify deliveries: no signing secret is set.",
    ),
    *GUARD_ERRORS,
    DATABASE_BUSY,
]

# --- Operations --------------------------------------------------------------

CREATE_CHECKOUT = extend_schema(
    operation_id="createStripeCheckout",
    summary="Create Stripe checkout (requires settings for Stripe Checkout 1.0)",
    description="""\
Create a checkout for a payable entity. Note: if checkouts of it already exist, they are
invalidated (expired on Stripe).

Creates a Stripe Checkout Session on the company's connected Stripe account, priced from
the company's catalogue, and answers its id, and its `Url` (hosted mode) or its
`ClientSecret` (embedded mode, for Stripe.js). The company needs enabled settings for
Stripe Checkout 1.0.

**Idempotency-Key.** The same key with the same body, within 24 hours, answers the first
response again and creates no second session. The same key with another body: 422; a
key whose first request is still running: 409.
""",
    tags=[CHECKOUT_TAG],
    parameters=[IDEMPOTENCY_KEY, FORMAT_PARAMETER, IDEMPOTENT_REPLAYED, *RESPONSE_HEADERS],
    request={
        JSON: OpenApiRequest(
            CreateCheckoutRequestSerializer,
            examples=[
                OpenApiExample(
                    "Hosted",
                    examples.HOSTED_REQUEST,
                    summary="A hosted checkout of two articles",
                    media_type=JSON,
                ),
                OpenApiExample(
                    "Embedded",
                    examples.EMBEDDED_REQUEST,
                    summary="An embedded checkout (Quantity defaults to 1)",
                    media_type=JSON,
                ),
                examples.SEED_REQUEST,
            ],
        ),
        FORM: OpenApiRequest(
            CreateCheckoutRequestSerializer,
            encoding={"Articles": {"contentType": JSON}},
            examples=[
                OpenApiExample(
                    "Form",
                    examples.EMBEDDED_REQUEST,
                    summary="A form body; Articles as one JSON or JSV value "
                    "(or as indexed keys: Articles[0].ArticleId=1)",
                    media_type=FORM,
                )
            ],
        ),
        **csv_and_xml_requests(
            CreateCheckoutRequestSerializer,
            "Embedded",
            examples.EMBEDDED_REQUEST,
            summary="An embedded checkout; in CSV, Articles is one JSV cell",
            request_name="StripeV1CreateCheckout",
            csv=examples.EMBEDDED_REQUEST_CSV,
        ),
    },
    responses={
        200: OpenApiResponse(
            CheckoutResponseSerializer,
            description="The checkout was created (or, for a repeated Idempotency-Key, the "
            "first response again).",
            examples=[
                *in_every_format(
                    "Hosted",
                    examples.HOSTED_RESPONSE,
                    summary="A hosted checkout: send the customer to Url",
                    response_name="StripeCheckoutQueryResponse",
                ),
                *in_every_format(
                    "Embedded",
                    examples.EMBEDDED_RESPONSE,
                    summary="An embedded checkout: mount it with Stripe.js and ClientSecret",
                    response_name="StripeCheckoutQueryResponse",
                ),
                examples.SEED_RESPONSE,
            ],
        ),
        **error_responses(*CREATE_CHECKOUT_ERRORS),
    },
)

CHECKOUT_STATUS = extend_schema(
    operation_id="getStripeCheckoutStatus",
    summary="Get the status of a Stripe checkout",
    description="""\
BokaMera's `GetStripeCheckoutV1CheckoutStatus`, for the confirmation page: the status of
one checkout session of the company. A checkout still open here is refreshed from Stripe
first, so that a payment shows even when its webhook has not arrived.
""",
    tags=[CHECKOUT_TAG],
    parameters=[FORMAT_PARAMETER, *RESPONSE_HEADERS],
    request={
        JSON: OpenApiRequest(
            CheckoutStatusRequestSerializer,
            examples=[OpenApiExample("Status", examples.STATUS_REQUEST, media_type=JSON)],
        ),
        FORM: CheckoutStatusRequestSerializer,
        **csv_and_xml_requests(
            CheckoutStatusRequestSerializer,
            "Status",
            examples.STATUS_REQUEST,
            summary="A status request",
            request_name="GetStripeCheckoutV1CheckoutStatus",
            csv=examples.STATUS_REQUEST_CSV,
        ),
    },
    responses={
        200: OpenApiResponse(
            CheckoutStatusResponseSerializer,
            description="The checkout's status.",
            examples=[
                *in_every_format(
                    "Paid",
                    examples.STATUS_PAID,
                    summary="Paid",
                    response_name="StripeCheckoutStatusQueryResponse",
                ),
                *in_every_format(
                    "Open",
                    examples.STATUS_OPEN,
                    summary="Not paid yet",
                    response_name="StripeCheckoutStatusQueryResponse",
                ),
            ],
        ),
        **error_responses(*CHECKOUT_STATUS_ERRORS),
    },
)

WEBHOOK_ERROR_RESPONSES = error_responses(*RECEIVE_WEBHOOK_ERRORS)
FAILED_DELIVERY = (
    "Worth retrying: the delivery was kept but failed (Stripe unreachable, a row lock held "
    "too long)."
)

RECEIVE_WEBHOOK = extend_schema(
    operation_id="receiveStripeWebhook",
    summary="Receive a Stripe event (Stripe Connect webhook)",
    description="""\
Point a Stripe Connect webhook endpoint here with the events `checkout.session.completed`,
`checkout.session.async_payment_succeeded`, `checkout.session.async_payment_failed` and
`checkout.session.expired`. No API key: each delivery is authenticated by its
`Stripe-Signature`, verified on the raw body with the endpoint's signing secret.

Every verified delivery is kept, and each event is applied once. A 503 makes Stripe
deliver it again; a 400 is never worth retrying.
""",
    tags=[WEBHOOK_TAG],
    auth=[],
    parameters=[
        OpenApiParameter(
            "Stripe-Signature",
            str,
            OpenApiParameter.HEADER,
            required=True,
            description="Stripe's signature of the raw body (t=TIMESTAMP,v1=HMAC-SHA256), "
            "checked with a 5-minute tolerance.",
        ),
        *RESPONSE_HEADERS,
    ],
    request={
        JSON: OpenApiRequest(
            StripeEventSerializer,
            examples=[
                OpenApiExample(
                    "CheckoutSessionCompleted",
                    examples.STRIPE_EVENT,
                    summary="checkout.session.completed",
                    media_type=JSON,
                )
            ],
        )
    },
    responses={
        200: OpenApiResponse(
            WebhookReceiptSerializer,
            description="Done (processed), already done (duplicate) or not for this service "
            "(ignored).",
            examples=[
                OpenApiExample(
                    "Processed",
                    {"EventId": examples.EVENT_ID, "Outcome": "processed"},
                    media_type=JSON,
                ),
                OpenApiExample(
                    "Ignored", {"EventId": examples.EVENT_ID, "Outcome": "ignored"}, media_type=JSON
                ),
            ],
        ),
        **WEBHOOK_ERROR_RESPONSES,
        # A failed delivery is answered with its receipt, not an error.
        503: OpenApiResponse(
            WEBHOOK_RETRY_LATER,
            description=f"{FAILED_DELIVERY} {WEBHOOK_ERROR_RESPONSES[503].description}",
            examples=[
                OpenApiExample(
                    "Failed",
                    {"EventId": examples.EVENT_ID, "Outcome": "failed"},
                    summary=FAILED_DELIVERY,
                    media_type=JSON,
                ),
                *WEBHOOK_ERROR_RESPONSES[503].examples,
            ],
        ),
    },
)

# BokaMera's StripeCheckoutIpnCallBackRequest has a second path; on top of RECEIVE_WEBHOOK.
RECEIVE_IPN_CALLBACK = extend_schema(
    operation_id="receiveStripeIpnCallback",
    summary="Receive a Stripe event (BokaMera's IPN callback path)",
    description="""\
The same endpoint as `POST /payment/stripe/v1/webhook`, at the other path BokaMera gives it
(`StripeCheckoutIpnCallBackRequest`): the same signed Stripe events, verification, dedupe
and answers. Point a Stripe Connect webhook endpoint at either path, not both.
""",
)
