"""The API's OpenAPI 3 description (drf-spectacular); ``checkouts/api/docs.py`` serves it.

The schema is generated from the code: the serializers give the fields (with the
descriptions of BokaMera's documentation as ``help_text``), and the ``extend_schema``
decorators here give each operation its summary, parameters, error responses and
examples.
"""

from types import SimpleNamespace
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.hooks import preprocess_exclude_path_format
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiRequest,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers

from checkouts.api.authentication import API_KEY_HEADER
from checkouts.api.errors import error_body, validation_error_body
from checkouts.api.renderers import (
    ERROR_RESPONSE_NAME,
    XML_NAMESPACE,
    ServiceStackCSVRenderer,
    ServiceStackXMLRenderer,
)
from checkouts.api.serializers import (
    CheckoutResponseSerializer,
    CheckoutStatusRequestSerializer,
    CheckoutStatusResponseSerializer,
    CreateCheckoutRequestSerializer,
    WebhookReceiptSerializer,
)
from checkouts.constants import MAX_ARTICLES_PER_CHECKOUT
from checkouts.exceptions import FieldError

API_PATH_PREFIX = "/payment/stripe/v1/"
CHECKOUT_TAG = "Stripe Checkout"
WEBHOOK_TAG = "Stripe webhooks"
JSON = "application/json"
CSV = "text/csv"
XML = "application/xml"
FORM = "application/x-www-form-urlencoded"
# The response DTOs, whose names are their XML root elements (the views' ``response_name``).
XML_ROOT_NAMES = (
    "StripeCheckoutQueryResponse",
    "StripeCheckoutStatusQueryResponse",
    ERROR_RESPONSE_NAME,
)

API_DESCRIPTION = f"""\
Takes payments for bookings through Stripe Checkout. This service re-implements
BokaMera's Stripe Checkout 1.0 API (`POST /payment/stripe/v1/checkout`) so that
BokaMera's clients can call it unchanged: same paths, PascalCase fields, ServiceStack's
error shape and its content negotiation.

**Authentication.** Every API call needs an `{API_KEY_HEADER}` header with a key of the
company named in `CompanyId` (the webhook excepted: Stripe signs it). No key, or an
unknown, revoked or expired one: 401. A key of another company: 403.

**Request bodies** are JSON or `application/x-www-form-urlencoded`. Field names match
case-insensitively (`CompanyId`, `companyId`, `companyid`), and unknown fields are
ignored. In a form body, `Articles` is sent either as indexed keys
(`Articles[0].ArticleId=1&Articles[0].ArticleTypeId=1`) or as one JSON value.

**Response formats.** JSON (the default), CSV or XML, chosen by the `Accept` header, a
suffix (`/payment/stripe/v1/checkout.csv`, `.xml`, `.json`) or `?format=csv|xml|json`.
CSV is a header row and one data row (CRLF line endings, nulls as empty cells; an
error's nested fields become dotted columns). XML has the DTO's name as its root element
(`StripeCheckoutQueryResponse`, `ErrorResponse`...) in ServiceStack's namespace, with
nulls as `i:nil="true"`. An unknown `?format=` gets 406, an unknown suffix 404.

**Errors.** Every error, in every format, has ServiceStack's shape (the `ErrorResponse`
schema): `{{"ResponseStatus": {{"ErrorCode", "Message", "Errors": [{{"ErrorCode",
"FieldName", "Message"}}]}}}}`. Validation errors list every failing field, the first
one also at the top. A method other than POST gets 405 and an unknown path 404, in the
same shape.

**Throttling.** Each API key is limited on its own (120 requests a minute unless the
service is configured otherwise); over the limit, 429 with `Retry-After`.
"""

# --- Security scheme ---------------------------------------------------------


class CompanyApiKeyScheme(OpenApiAuthenticationExtension):
    """``CompanyApiKeyAuthentication`` is an API key in the ``X-Api-Key`` header."""

    target_class = "checkouts.api.authentication.CompanyApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": API_KEY_HEADER,
            "description": "A company's API key (`prefix.secret`), as "
            "`manage.py create_api_key COMPANY_ID` prints it. Keys are stored only as hashes.",
        }


# --- Documentation-only DTOs -------------------------------------------------


@extend_schema_serializer(component_name="ResponseError")
class ResponseErrorSerializer(serializers.Serializer):
    """One failing field (ServiceStack's ``ResponseError``)."""

    ErrorCode = serializers.CharField(help_text="What is wrong (NotEmpty, InvalidCountryCode...).")
    FieldName = serializers.CharField(
        help_text="The failing field, with list positions: Articles[0].ArticleId."
    )
    Message = serializers.CharField(help_text="What is wrong, for people.")


@extend_schema_serializer(component_name="ResponseStatus")
class ResponseStatusSerializer(serializers.Serializer):
    """ServiceStack's ``ResponseStatus``: what went wrong."""

    ErrorCode = serializers.CharField(
        help_text="The error (Unauthorized, NotFound, AlreadyPaid, StripeUnavailable...); for "
        "validation errors, the first failing field's."
    )
    Message = serializers.CharField(help_text="What went wrong, for people.")
    StackTrace = serializers.CharField(
        required=False, help_text="Only from a server with DEBUG on, for unexpected errors."
    )
    Errors = ResponseErrorSerializer(
        many=True, help_text="Every failing field of a validation error; empty otherwise."
    )


@extend_schema_serializer(component_name=ERROR_RESPONSE_NAME)
class ErrorResponseSerializer(serializers.Serializer):
    """Every error the service answers, in every format (ServiceStack's ``ErrorResponse``)."""

    ResponseStatus = ResponseStatusSerializer()


@extend_schema_serializer(component_name="StripeEvent")
class StripeEventSerializer(serializers.Serializer):
    """A Stripe event, exactly as Stripe sends it (only the fields this service reads)."""

    id = serializers.CharField(help_text="The event id (evt_...); each is applied once.")
    object = serializers.CharField(help_text="Always event.")
    type = serializers.CharField(
        help_text="checkout.session.completed, checkout.session.async_payment_succeeded, "
        "checkout.session.async_payment_failed or checkout.session.expired; other types "
        "are acknowledged and ignored."
    )
    account = serializers.CharField(
        required=False, help_text="The connected account (acct_...) of a Connect event."
    )
    created = serializers.IntegerField(required=False, help_text="Unix time.")
    data = serializers.DictField(
        help_text="data.object is the Checkout Session. It is fetched again from Stripe "
        "before acting, since events arrive in any order."
    )


WEBHOOK_RETRY_LATER = PolymorphicProxySerializer(
    component_name="StripeWebhookRetryLater",
    serializers=[WebhookReceiptSerializer, ErrorResponseSerializer],
    resource_type_field_name=None,
)

# --- Examples ----------------------------------------------------------------

COMPANY_ID = "0d3e6a4c-5b1f-4d8e-9c2a-7f6b5e4d3c2b"
SESSION_ID = "cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ0123456789aBcDeFgH"
ACCOUNT = "acct_1DemoSalonBokaMera"
EVENT_ID = "evt_1QbKx2DemoSalonBokaMera"

SEED_REQUEST = {
    "CompanyId": "00000000-0000-0000-0000-000000000000",
    "CountryCode": "String",
    "Articles": [{"ArticleId": 0, "ArticleTypeId": 0, "Quantity": 0}],
    "InternalReferenceId": "String",
    "ConfirmationUrl": "String",
    "CancelUrl": "String",
    "UiMode": "String",
}
SEED_RESPONSE = {
    "SessionId": "String",
    "Url": "String",
    "Status": "String",
    "ClientSecret": "String",
    "CustomerId": "String",
    "PaymentIntentClientSecret": "String",
    "PaymentIntentId": "String",
    "StripeAccount": "String",
}
SEED_SUMMARY = "BokaMera's documented sample (placeholders)"
SEED_DESCRIPTION = (
    "The sample of BokaMera's documentation; the placeholders need to be replaced with "
    "actual values."
)

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


def _rendered(renderer: Any, data: Any, response_name: str) -> str:
    """``data`` as the API's own renderer writes it, so that the examples are the real thing."""
    context = {"view": SimpleNamespace(response_name=response_name)}
    body = renderer.render(data, renderer.media_type, context)
    return body.decode() if isinstance(body, bytes) else body


def success_examples(
    name: str, summary: str, data: dict[str, Any], response_name: str, **kwargs: Any
) -> list[OpenApiExample]:
    """One example of a response body in each of the three formats."""
    return [
        OpenApiExample(name, data, summary=summary, media_type=JSON, **kwargs),
        OpenApiExample(
            name,
            _rendered(ServiceStackCSVRenderer(), data, response_name),
            summary=summary,
            media_type=CSV,
            **kwargs,
        ),
        OpenApiExample(
            name,
            _rendered(ServiceStackXMLRenderer(), data, response_name),
            summary=summary,
            media_type=XML,
            **kwargs,
        ),
    ]


def error_example(name: str, error_code: str, message: str) -> OpenApiExample:
    return OpenApiExample(name, error_body(error_code, message), media_type=JSON)


def validation_example(name: str, *errors: FieldError) -> OpenApiExample:
    return OpenApiExample(name, validation_error_body(list(errors)), media_type=JSON)


def error_response(description: str, *examples: OpenApiExample) -> OpenApiResponse:
    """An error status; its first example is also shown as CSV and XML."""
    first = examples[0]
    in_other_formats = [
        OpenApiExample(
            first.name,
            _rendered(renderer, first.value, ERROR_RESPONSE_NAME),
            summary=first.summary,
            media_type=renderer.media_type,
        )
        for renderer in (ServiceStackCSVRenderer(), ServiceStackXMLRenderer())
    ]
    return OpenApiResponse(
        ErrorResponseSerializer,
        description=description,
        examples=[*examples, *in_other_formats],
    )


REQUIRED = "This field is required."
UNAUTHORIZED = error_response(
    "No X-Api-Key, or an unknown, revoked or expired one.",
    error_example("MissingKey", "Unauthorized", "An X-Api-Key header is required."),
    error_example("UnknownKey", "Unauthorized", "The X-Api-Key is not valid."),
)
FORBIDDEN = error_response(
    "The X-Api-Key belongs to another company than CompanyId.",
    error_example(
        "KeyOfAnotherCompany",
        "Forbidden",
        "This X-Api-Key does not belong to the company in CompanyId.",
    ),
)
NOT_ACCEPTABLE = error_response(
    "An unknown ?format=, or an Accept header that no format satisfies.",
    error_example(
        "UnknownFormat", "NotAcceptable", "Unknown format 'yaml'; use one of: json, csv, xml."
    ),
)
UNSUPPORTED_MEDIA_TYPE = error_response(
    "A body that is neither JSON nor form-encoded.",
    error_example(
        "PlainText", "UnsupportedMediaType", 'Unsupported media type "text/plain" in request.'
    ),
)
TOO_MANY_REQUESTS = error_response(
    "Too many requests with this API key; retry after Retry-After seconds.",
    error_example(
        "Throttled", "TooManyRequests", "Request was throttled. Expected available in 42 seconds."
    ),
)
STRIPE_REFUSED = error_response(
    "Stripe refused the request (its message is passed on); retrying will not help. "
    "Nothing was stored and no earlier checkout was invalidated.",
    error_example("StripeRefused", "StripeRequestRefused", "The connected account is restricted."),
)
DATABASE_BUSY = error_example("DatabaseBusy", "DatabaseBusy", "The service is busy; retry shortly.")
SERVICE_UNAVAILABLE = error_response(
    "Stripe is unreachable, timed out, rate-limited or failed, or the database is busy: "
    "retry later (after Retry-After seconds, when given). Nothing was stored and no earlier "
    "checkout was invalidated.",
    error_example(
        "StripeUnavailable",
        "StripeUnavailable",
        "Stripe is unavailable: Request to Stripe timed out.",
    ),
    DATABASE_BUSY,
)
FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    OpenApiParameter.QUERY,
    enum=["json", "csv", "xml"],
    description="The response format, instead of the Accept header or a .json/.csv/.xml "
    "suffix on the path. An unknown format gets 406.",
)

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

`UiMode` is optional and defaults to `hosted`; it accepts `hosted`, `embedded`,
`hosted_page` and `embedded_page` in any case. `CancelUrl` is not allowed with
`embedded`. `Quantity` defaults to 1.

**Idempotency-Key.** The same key with the same body, within 24 hours, answers the first
response again and creates no second session. The same key with another body: 422; a
key whose first request is still running: 409.
""",
    tags=[CHECKOUT_TAG],
    parameters=[
        OpenApiParameter(
            "Idempotency-Key",
            {"type": "string", "minLength": 1, "maxLength": 255},
            OpenApiParameter.HEADER,
            description="Optional: makes a retried request safe. 1 to 255 characters.",
        ),
        FORMAT_PARAMETER,
    ],
    request={
        JSON: OpenApiRequest(
            CreateCheckoutRequestSerializer,
            examples=[
                OpenApiExample(
                    "Hosted",
                    HOSTED_REQUEST,
                    summary="A hosted checkout of two articles",
                    media_type=JSON,
                ),
                OpenApiExample(
                    "Embedded",
                    EMBEDDED_REQUEST,
                    summary="An embedded checkout (Quantity defaults to 1)",
                    media_type=JSON,
                ),
                OpenApiExample(
                    "BokaMeraSample",
                    SEED_REQUEST,
                    summary=SEED_SUMMARY,
                    description=SEED_DESCRIPTION,
                    media_type=JSON,
                ),
            ],
        ),
        FORM: OpenApiRequest(
            CreateCheckoutRequestSerializer,
            encoding={"Articles": {"contentType": JSON}},
            examples=[
                OpenApiExample(
                    "Form",
                    EMBEDDED_REQUEST,
                    summary="A form body; Articles as one JSON value "
                    "(or as indexed keys: Articles[0].ArticleId=1)",
                    media_type=FORM,
                )
            ],
        ),
    },
    responses={
        200: OpenApiResponse(
            CheckoutResponseSerializer,
            description="The checkout was created (or, for a repeated Idempotency-Key, the "
            "first response again).",
            examples=[
                *success_examples(
                    "Hosted",
                    "A hosted checkout: send the customer to Url",
                    HOSTED_RESPONSE,
                    "StripeCheckoutQueryResponse",
                ),
                *success_examples(
                    "Embedded",
                    "An embedded checkout: mount it with Stripe.js and ClientSecret",
                    EMBEDDED_RESPONSE,
                    "StripeCheckoutQueryResponse",
                ),
                OpenApiExample(
                    "BokaMeraSample",
                    SEED_RESPONSE,
                    summary=SEED_SUMMARY,
                    description=SEED_DESCRIPTION,
                    media_type=JSON,
                ),
            ],
        ),
        400: error_response(
            "Invalid request (every failing field is listed), a body that is not valid JSON, "
            "or a company without enabled Stripe Checkout settings.",
            validation_example(
                "ValidationErrors",
                FieldError(
                    "CountryCode",
                    "InvalidCountryCode",
                    "Must be an ISO 3166-1 alpha-2 country code, such as SE.",
                ),
                FieldError("InternalReferenceId", "NotEmpty", REQUIRED),
                FieldError(
                    "Articles[0].Quantity",
                    "InclusiveBetween",
                    "Ensure this value is less than or equal to 999.",
                ),
            ),
            validation_example(
                "UnknownArticle",
                FieldError(
                    "Articles[0].ArticleId",
                    "ArticleNotFound",
                    "No article with ArticleTypeId 1 and ArticleId 404 in this company.",
                ),
            ),
            validation_example(
                "CancelUrlWithEmbedded",
                FieldError(
                    "CancelUrl", "NotAllowed", "CancelUrl is not allowed if UiMode is embedded."
                ),
            ),
            error_example(
                "StripeCheckoutNotEnabled",
                "StripeCheckoutNotEnabled",
                "Stripe Checkout 1.0 is not set up and enabled for this company.",
            ),
            error_example(
                "MalformedJson",
                "SerializationException",
                "JSON parse error - Expecting value: line 1 column 15 (char 14)",
            ),
        ),
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: error_response(
            "No company with this CompanyId.",
            error_example("UnknownCompany", "NotFound", f"No company with CompanyId {COMPANY_ID}."),
        ),
        406: NOT_ACCEPTABLE,
        409: error_response(
            "The InternalReferenceId is already paid (no new checkout was created), or a "
            "request with this Idempotency-Key is still running.",
            error_example(
                "AlreadyPaid",
                "AlreadyPaid",
                "InternalReferenceId 'booking-1001' is already paid; no new checkout was created.",
            ),
            error_example(
                "IdempotencyKeyInUse",
                "IdempotencyKeyInUse",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            ),
        ),
        415: UNSUPPORTED_MEDIA_TYPE,
        422: error_response(
            "The Idempotency-Key was used before with another body.",
            error_example(
                "IdempotencyKeyReused",
                "IdempotencyKeyReused",
                "This Idempotency-Key was already used with a different request body; "
                "use a new key for a new request.",
            ),
        ),
        429: TOO_MANY_REQUESTS,
        502: STRIPE_REFUSED,
        503: SERVICE_UNAVAILABLE,
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
    parameters=[FORMAT_PARAMETER],
    request={
        JSON: OpenApiRequest(
            CheckoutStatusRequestSerializer,
            examples=[OpenApiExample("Status", STATUS_REQUEST, media_type=JSON)],
        ),
        FORM: CheckoutStatusRequestSerializer,
    },
    responses={
        200: OpenApiResponse(
            CheckoutStatusResponseSerializer,
            description="The checkout's status.",
            examples=[
                *success_examples(
                    "Paid",
                    "Paid",
                    STATUS_PAID,
                    "StripeCheckoutStatusQueryResponse",
                ),
                *success_examples(
                    "Open",
                    "Not paid yet",
                    STATUS_OPEN,
                    "StripeCheckoutStatusQueryResponse",
                ),
            ],
        ),
        400: error_response(
            "Invalid request (every failing field is listed), or a body that is not valid JSON.",
            validation_example("MissingSessionId", FieldError("SessionId", "NotEmpty", REQUIRED)),
        ),
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: error_response(
            "No company with this CompanyId, or no checkout with this SessionId in it.",
            error_example(
                "UnknownSession",
                "NotFound",
                f"No checkout with SessionId {SESSION_ID} in this company.",
            ),
        ),
        406: NOT_ACCEPTABLE,
        415: UNSUPPORTED_MEDIA_TYPE,
        429: TOO_MANY_REQUESTS,
        502: STRIPE_REFUSED,
        503: SERVICE_UNAVAILABLE,
    },
)

RECEIVE_WEBHOOK = extend_schema(
    operation_id="receiveStripeWebhook",
    summary="Receive a Stripe event (Stripe Connect webhook)",
    description="""\
Point a Stripe Connect webhook endpoint here with the events `checkout.session.completed`,
`checkout.session.async_payment_succeeded`, `checkout.session.async_payment_failed` and
`checkout.session.expired`. No API key: each delivery is authenticated by its
`Stripe-Signature`, verified on the raw body with the endpoint's signing secret.

Every verified delivery is kept, and each event is applied once. Answers: 200 when done
or ignored; 400 when never worth retrying (a missing, wrong or stale signature: nothing
is recorded); 503 when worth retrying, so that Stripe delivers it again.
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
        )
    ],
    request={
        JSON: OpenApiRequest(
            StripeEventSerializer,
            examples=[
                OpenApiExample(
                    "CheckoutSessionCompleted",
                    STRIPE_EVENT,
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
                    "Processed", {"EventId": EVENT_ID, "Outcome": "processed"}, media_type=JSON
                ),
                OpenApiExample(
                    "Ignored", {"EventId": EVENT_ID, "Outcome": "ignored"}, media_type=JSON
                ),
            ],
        ),
        400: error_response(
            "Not a valid delivery: a missing, wrong or stale Stripe-Signature, or a body that "
            "is not a Stripe event. Nothing is recorded; never worth retrying.",
            error_example(
                "InvalidSignature",
                "InvalidWebhook",
                "Invalid Stripe-Signature: No signatures found matching the expected "
                "signature for payload",
            ),
        ),
        503: OpenApiResponse(
            WEBHOOK_RETRY_LATER,
            description="Worth retrying: the delivery was kept but failed (Stripe unreachable, "
            "a row lock held too long), or the service cannot verify or keep deliveries now.",
            examples=[
                OpenApiExample(
                    "Failed", {"EventId": EVENT_ID, "Outcome": "failed"}, media_type=JSON
                ),
                error_example(
                    "WebhooksNotConfigured",
                    "WebhooksNotConfigured",
                    "STRIPE_WEBHOOK_SECRET is not set.",
                ),
                DATABASE_BUSY,
            ],
        ),
    },
)

# --- Hooks (SPECTACULAR_SETTINGS) ------------------------------------------------


def only_api_endpoints(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Document the API's paths, once each: not their ``.json/.csv/.xml`` twins (the
    ``format`` parameter and the description cover those), nor other pages."""
    return [
        endpoint
        for endpoint in preprocess_exclude_path_format(endpoints)
        if endpoint[0].startswith(API_PATH_PREFIX)
    ]


RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 0},
}
WWW_AUTHENTICATE = {
    "description": f"Always {API_KEY_HEADER}: the header to authenticate with.",
    "schema": {"type": "string", "enum": [API_KEY_HEADER]},
}


def complete_schema(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """What drf-spectacular cannot say by decoration: the description, response headers
    and the XML names of the DTOs."""
    result["info"]["description"] = API_DESCRIPTION
    schemas = result.get("components", {}).get("schemas", {})
    # drf-spectacular does not carry a list serializer's allow_empty and max_length over.
    if "StripeV1CreateCheckout" in schemas:
        articles = schemas["StripeV1CreateCheckout"]["properties"]["Articles"]
        articles.update(minItems=1, maxItems=MAX_ARTICLES_PER_CHECKOUT)
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "401" in responses:
                responses["401"].setdefault("headers", {})["WWW-Authenticate"] = WWW_AUTHENTICATE
            if "429" in responses:
                responses["429"].setdefault("headers", {})["Retry-After"] = {
                    **RETRY_AFTER,
                    "required": True,
                }
            if "503" in responses and operation.get("operationId") != "receiveStripeWebhook":
                responses["503"].setdefault("headers", {})["Retry-After"] = RETRY_AFTER
    for name in XML_ROOT_NAMES:
        if name in schemas:
            schemas[name]["xml"] = {"name": name, "namespace": XML_NAMESPACE}
    return result
