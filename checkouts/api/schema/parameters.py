"""Parameters and response headers that several operations share."""

from drf_spectacular.utils import OpenApiParameter

from checkouts.api.authentication import API_KEY_HEADER

FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    OpenApiParameter.QUERY,
    enum=["json", "csv", "xml"],
    description="The response format, instead of the Accept header or a .json/.csv/.xml "
    "suffix on the path. An unknown format gets 406.",
)

RETRY_AFTER_SECONDS = {"type": "integer", "minimum": 0}

# For ``extend_schema(parameters=...)``: each applies to the statuses in its ``response``
# that an operation documents.
RESPONSE_HEADERS = [
    OpenApiParameter(
        "WWW-Authenticate",
        str,
        OpenApiParameter.HEADER,
        enum=[API_KEY_HEADER],
        description=f"Always {API_KEY_HEADER}: the header to authenticate with.",
        response=[401],
    ),
    OpenApiParameter(
        "Retry-After",
        RETRY_AFTER_SECONDS,
        OpenApiParameter.HEADER,
        required=True,
        description="Seconds to wait before retrying.",
        response=[429],
    ),
    OpenApiParameter(
        "Retry-After",
        RETRY_AFTER_SECONDS,
        OpenApiParameter.HEADER,
        description="Seconds to wait before retrying; sent when Stripe or the database is "
        "unavailable.",
        response=[503],
    ),
]
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    description="Optional: makes a retried request safe. 1 to 255 characters.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    str,
    OpenApiParameter.HEADER,
    enum=["true"],
    description="Sent when this is the first response again, for a repeated Idempotency-Key.",
    response=[200],
)
