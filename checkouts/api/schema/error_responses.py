"""Error responses, built from the error handler's own table, and the errors that several
operations share.

An operation lists the errors it can raise, each an example exception. The table
(``ERROR_ANSWERS``) says which status each gets, and the handler's answer to the
exception is its example: what the schema documents is what the handler does.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import OperationalError
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.exceptions import (
    AuthenticationFailed,
    NotAcceptable,
    NotAuthenticated,
    NotFound,
    ParseError,
    PermissionDenied,
    Throttled,
    UnsupportedMediaType,
    ValidationError,
)
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from checkouts.api.errors import error_response
from checkouts.api.renderers import ERROR_RESPONSE_NAME
from checkouts.api.schema.components import ErrorResponseSerializer
from checkouts.api.schema.examples import COMPANY_ID, JSON, in_every_format
from checkouts.exceptions import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    StripeMisconfigured,
    StripeRefused,
    StripeUnavailable,
)


@dataclass(frozen=True)
class DocumentedError:
    """A way an operation can fail: when it happens, and an example of what it raises."""

    name: str
    exception: Exception
    when: str


def rejected(serializer: type[Serializer], data: dict[str, Any]) -> ValidationError:
    """The validation error that ``serializer`` raises for ``data``, its real messages."""
    request = serializer(data=data)
    request.is_valid()
    return ValidationError(request.errors)


def error_responses(*errors: DocumentedError) -> dict[int, OpenApiResponse]:
    """``responses`` for ``extend_schema``: each status the errors are answered with."""
    by_status: dict[int, list[tuple[DocumentedError, dict[str, Any]]]] = {}
    for error in errors:
        answer = _answer(error)
        by_status.setdefault(answer.status_code, []).append((error, answer.data))
    return {status: _error_response(by_status[status]) for status in sorted(by_status)}


def _answer(error: DocumentedError) -> Response:
    answer = error_response(error.exception)
    if answer is None:
        raise ValueError(f"{error.name}: the error handler answers it with a 500.")
    return answer


def _error_response(errors: list[tuple[DocumentedError, dict[str, Any]]]) -> OpenApiResponse:
    """One status: when each error happens, and each as an example (the first also as CSV
    and XML)."""
    (first, first_body), *others = errors
    return OpenApiResponse(
        ErrorResponseSerializer,
        description=" ".join(dict.fromkeys(error.when for error, _ in errors)),
        examples=[
            *in_every_format(
                first.name, first_body, summary=first.when, response_name=ERROR_RESPONSE_NAME
            ),
            *(
                OpenApiExample(error.name, body, summary=error.when, media_type=JSON)
                for error, body in others
            ),
        ],
    )


# --- Errors that several operations raise ---------------------------------------

MALFORMED_JSON = DocumentedError(
    "MalformedJson",
    ParseError("JSON parse error - Expecting value: line 1 column 15 (char 14)"),
    "A body that cannot be read: not valid JSON, CSV or XML, a key given twice, nested more "
    "than 8 levels deep, or more than 1000 fields, keys and items (form, JSON or query "
    "string).",
)
# What the request guard refuses before any view runs, whatever the path.
GUARD_ERRORS = [
    DocumentedError(
        "ForeignHost",
        DisallowedHost("This service does not serve the host in Host."),
        "A Host header that the service does not serve (DJANGO_ALLOWED_HOSTS).",
    ),
    DocumentedError(
        "TooLarge",
        RequestDataTooBig("The request body is over the limit of 1048576 bytes."),
        "A body over the limit (MAX_REQUEST_BODY_BYTES, 1 MiB unless set); it is not read.",
    ),
]
API_KEY_ERRORS = [
    DocumentedError(
        "MissingKey", NotAuthenticated("An X-Api-Key header is required."), "No X-Api-Key."
    ),
    DocumentedError(
        "UnknownKey",
        AuthenticationFailed("The X-Api-Key is not valid."),
        "An unknown, revoked or expired X-Api-Key.",
    ),
    DocumentedError(
        "KeyOfAnotherCompany",
        PermissionDenied("This X-Api-Key does not belong to the company in CompanyId."),
        "The X-Api-Key belongs to another company than CompanyId.",
    ),
]
UNKNOWN_COMPANY = DocumentedError(
    "UnknownCompany",
    NotFound(f"No company with CompanyId {COMPANY_ID}."),
    "No company with this CompanyId.",
)
REQUEST_ERRORS = [
    *GUARD_ERRORS,
    DocumentedError(
        "UnknownFormat",
        NotAcceptable("Unknown format 'yaml'; use one of: json, csv, xml."),
        "An unknown ?format=, or an Accept header that no format satisfies.",
    ),
    DocumentedError(
        "PlainText",
        UnsupportedMediaType("text/plain"),
        "A body that is not a JSON object and whose Content-Type is not JSON, a form, CSV or XML.",
    ),
    DocumentedError(
        "Throttled",
        Throttled(wait=42),
        "Too many requests with this API key, or without a valid one from this address; "
        "retry after Retry-After seconds.",
    ),
]
IDEMPOTENCY_ERRORS = [
    DocumentedError(
        "IdempotencyKeyInUse",
        IdempotencyKeyInUse(
            "A request with this Idempotency-Key is still being processed; retry shortly."
        ),
        "A request with this Idempotency-Key is still running.",
    ),
    DocumentedError(
        "IdempotencyKeyReused",
        IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body; "
            "use a new key for a new request."
        ),
        "The Idempotency-Key was used before with another body.",
    ),
]
DATABASE_BUSY = DocumentedError(
    "DatabaseBusy",
    OperationalError("database is locked"),
    "The database is busy; retry after Retry-After seconds.",
)
STRIPE_ERRORS = [
    DocumentedError(
        "StripeRefused",
        StripeRefused("The connected account is restricted."),
        "Stripe refused the request (its message is passed on); retrying will not help. "
        "Nothing was stored, and no earlier checkout was invalidated.",
    ),
    DocumentedError(
        "StripeUnavailable",
        StripeUnavailable("Stripe is unavailable: Request to Stripe timed out."),
        "Stripe is unreachable, timed out, rate-limited or failed; retry after Retry-After "
        "seconds. No earlier checkout was invalidated.",
    ),
    DocumentedError(
        "PaymentServiceMisconfigured",
        StripeMisconfigured(
            "The payment service is misconfigured; its operators have been alerted."
        ),
        "Stripe refused this service's own credentials or access to the company's account. "
        "The operators must act; retrying will not help until they do.",
    ),
    DATABASE_BUSY,
]
