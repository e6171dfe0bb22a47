"""ServiceStack's error shape, for every error the service returns.

``{"ResponseStatus": {"ErrorCode", "Message", "Errors": [{"ErrorCode", "FieldName", "Message"}]}}``

``ERROR_ANSWERS`` gives each exception its status and ``ErrorCode``; the OpenAPI schema
documents each operation's errors from the same table. What no API view answers (an
unknown path, a refused Host or body, Django's error handlers) is answered through
``ErrorAnswerView``, in the same shape and the format the request asks for.
"""

import logging
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.urls import Resolver404, resolve
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from checkouts.api.negotiation import LenientFormatNegotiation
from checkouts.exceptions import (
    AmountExceedsRefundable,
    CheckoutError,
    CheckoutNotPaid,
    CheckoutValidationError,
    FieldError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidWebhook,
    PayableAlreadyPaid,
    PaymentMethodNotAvailable,
    StripeCheckoutNotEnabled,
    StripeMisconfigured,
    StripeRateLimited,
    StripeRefused,
    StripeUnavailable,
    WebhooksNotConfigured,
)

logger = logging.getLogger(__name__)

DATABASE_BUSY_RETRY_AFTER_SECONDS = 5
STRIPE_UNAVAILABLE_RETRY_AFTER_SECONDS = 10


@dataclass(frozen=True)
class ErrorAnswer:
    """How the API answers an exception: its HTTP status and ServiceStack's ``ErrorCode``.

    A validation error's code is ``None``: its first failing field's code is reported at
    the top instead, as ServiceStack does.
    """

    status: int
    error_code: str | None


# Every exception the API answers on purpose, for the error handler and the OpenAPI
# schema alike. DRF's exceptions go under the names ServiceStack gives the same HTTP
# errors, the domain's refusals under their own (checkouts.exceptions).
ERROR_ANSWERS: dict[type[Exception], ErrorAnswer] = {
    exceptions.ValidationError: ErrorAnswer(400, None),
    exceptions.ParseError: ErrorAnswer(400, "SerializationException"),
    exceptions.NotAuthenticated: ErrorAnswer(401, "Unauthorized"),
    exceptions.AuthenticationFailed: ErrorAnswer(401, "Unauthorized"),
    exceptions.PermissionDenied: ErrorAnswer(403, "Forbidden"),
    exceptions.NotFound: ErrorAnswer(404, "NotFound"),
    exceptions.MethodNotAllowed: ErrorAnswer(405, "MethodNotAllowed"),
    exceptions.NotAcceptable: ErrorAnswer(406, "NotAcceptable"),
    exceptions.UnsupportedMediaType: ErrorAnswer(415, "UnsupportedMediaType"),
    exceptions.Throttled: ErrorAnswer(429, "TooManyRequests"),
    # Django refusing what a request sends (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, more
    # fields than DATA_UPLOAD_MAX_NUMBER_FIELDS, a Host not in ALLOWED_HOSTS...).
    RequestDataTooBig: ErrorAnswer(413, "RequestEntityTooLarge"),
    TooManyFieldsSent: ErrorAnswer(400, "SerializationException"),
    UnreadablePostError: ErrorAnswer(400, "SerializationException"),
    DisallowedHost: ErrorAnswer(400, "DisallowedHost"),
    SuspiciousOperation: ErrorAnswer(400, "BadRequest"),
    CheckoutValidationError: ErrorAnswer(400, None),
    StripeCheckoutNotEnabled: ErrorAnswer(400, StripeCheckoutNotEnabled.error_code),
    InvalidWebhook: ErrorAnswer(400, InvalidWebhook.error_code),
    PayableAlreadyPaid: ErrorAnswer(409, PayableAlreadyPaid.error_code),
    PaymentMethodNotAvailable: ErrorAnswer(400, PaymentMethodNotAvailable.error_code),
    CheckoutNotPaid: ErrorAnswer(409, CheckoutNotPaid.error_code),
    AmountExceedsRefundable: ErrorAnswer(400, AmountExceedsRefundable.error_code),
    IdempotencyKeyInUse: ErrorAnswer(409, IdempotencyKeyInUse.error_code),
    IdempotencyKeyReused: ErrorAnswer(422, IdempotencyKeyReused.error_code),
    StripeRefused: ErrorAnswer(502, StripeRefused.error_code),
    StripeUnavailable: ErrorAnswer(503, StripeUnavailable.error_code),
    StripeRateLimited: ErrorAnswer(503, StripeRateLimited.error_code),
    StripeMisconfigured: ErrorAnswer(500, StripeMisconfigured.error_code),
    WebhooksNotConfigured: ErrorAnswer(503, WebhooksNotConfigured.error_code),
    # The database is locked or unreachable for now: worth a retry, not a 500.
    OperationalError: ErrorAnswer(503, "DatabaseBusy"),
}


def answer_to(error_type: type[BaseException]) -> ErrorAnswer | None:
    """The answer ``ERROR_ANSWERS`` gives ``error_type``, or the class nearest it there."""
    for cls in error_type.__mro__:
        if cls in ERROR_ANSWERS:
            return ERROR_ANSWERS[cls]
    return None


# DRF's validation codes under FluentValidation's names, which ServiceStack reports.
FIELD_ERROR_CODES = {
    "required": "NotEmpty",
    "blank": "NotEmpty",
    "empty": "NotEmpty",
    "null": "NotNull",
    "max_length": "Length",
    "min_length": "Length",
    "max_value": "InclusiveBetween",
    "min_value": "InclusiveBetween",
    "max_string_length": "Length",
}


def error_body(
    error_code: str, message: str, errors: list[FieldError] = (), stack_trace: str | None = None
) -> dict[str, Any]:
    response_status: dict[str, Any] = {
        "ErrorCode": error_code,
        "Message": message,
        "Errors": [
            {"ErrorCode": error.error_code, "FieldName": error.field_name, "Message": error.message}
            for error in errors
        ],
    }
    if stack_trace:
        response_status["StackTrace"] = stack_trace
    return {"ResponseStatus": response_status}


def validation_error_body(errors: list[FieldError]) -> dict[str, Any]:
    """ServiceStack reports the first failure at the top and every failure in ``Errors``:
    one entry per field and rule (two validators refusing a field for one reason are one
    entry)."""
    unique: dict[tuple[str, str], FieldError] = {}
    for error in errors:
        unique.setdefault((error.field_name, error.error_code), error)
    first, *_ = unique.values()
    return error_body(first.error_code, first.message, list(unique.values()))


def field_errors(detail: Any, prefix: str = "") -> Iterator[FieldError]:
    """Flatten DRF's nested error detail into ServiceStack's ``Articles[0].ArticleId`` names."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            elif key == "non_field_errors":
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            yield from field_errors(value, name)
    elif isinstance(detail, list) and any(isinstance(item, dict) for item in detail):
        # A nested list serializer reports one dict per item, valid ones empty.
        for index, item in enumerate(detail):
            yield from field_errors(item, f"{prefix}[{index}]")
    elif isinstance(detail, list):
        for item in detail:
            yield from field_errors(item, prefix)
    else:
        code = getattr(detail, "code", None) or "invalid"
        yield FieldError(prefix, _field_error_code(code), str(detail))


def _field_error_code(code: str) -> str:
    if code in FIELD_ERROR_CODES:
        return FIELD_ERROR_CODES[code]
    if "_" in code or code.islower():
        return "".join(part.capitalize() for part in code.split("_"))
    return code


def servicestack_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every exception becomes a response in ServiceStack's shape."""
    set_rollback()
    if isinstance(exc, OperationalError):
        logger.warning("Database unavailable in %s: %s", context.get("view"), exc)
    response = error_response(exc)
    if response is None:
        logger.error("Unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(internal_error_body(exc), status=500)
    return response


def error_response(exc: Exception) -> Response | None:
    """The answer to ``exc``, its status from ``ERROR_ANSWERS``; ``None`` for an exception
    that nothing expects, which is a 500."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    answer = answer_to(type(exc))
    if answer is None and isinstance(exc, exceptions.APIException):
        answer = ErrorAnswer(exc.status_code, _field_error_code(exc.default_code))
    if answer is None:
        return None

    headers = {}
    if isinstance(exc, exceptions.ValidationError):
        body = validation_error_body(list(field_errors(exc.detail)))
    elif isinstance(exc, CheckoutValidationError):
        body = validation_error_body(exc.errors)
    elif isinstance(exc, CheckoutError):
        body = error_body(answer.error_code, exc.message)
        if isinstance(exc, StripeUnavailable):
            headers["Retry-After"] = str(STRIPE_UNAVAILABLE_RETRY_AFTER_SECONDS)
    elif isinstance(exc, OperationalError):
        # Not the database's own message: that is for the log, not for callers.
        body = error_body(answer.error_code, "The service is busy; retry shortly.")
        headers["Retry-After"] = str(DATABASE_BUSY_RETRY_AFTER_SECONDS)
    elif isinstance(exc, SuspiciousOperation | UnreadablePostError):
        body = error_body(answer.error_code, str(exc))
    else:
        body = error_body(answer.error_code, str(exc.detail))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    return Response(body, status=answer.status, headers=headers)


def internal_error_body(exc: BaseException | None = None) -> dict[str, Any]:
    stack_trace = None
    if settings.DEBUG and exc is not None:
        stack_trace = "".join(traceback.format_exception(exc))
    return error_body(
        "InternalServerError", "An unexpected error occurred.", stack_trace=stack_trace
    )


class ServerError(exceptions.APIException):
    """An error outside the API's views, already logged by Django: a 500 in the API's shape."""

    status_code = 500
    default_detail = "An unexpected error occurred."
    default_code = "InternalServerError"


class ErrorAnswerView(APIView):
    """Answers the exception it is given (``error``) as the API's views answer theirs:
    ServiceStack's shape, in the format the request asks for, JSON when it asks for one
    the API does not serve. Needs no API key."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    content_negotiation_class = LenientFormatNegotiation

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise self.error(request)

    def error(self, request) -> Exception:
        return self.kwargs["error"]


class UnknownPathView(ErrorAnswerView):
    """The last route: a path no other route matches is a 404, in any method."""

    def error(self, request) -> Exception:
        return exceptions.NotFound(f"No resource at {request.path}.")


def error_answer(request: HttpRequest, error: Exception) -> HttpResponse:
    """``error`` answered as the API answers it, for a request that no API view serves, in
    the format its route names (``.csv``), if it has one, or that it asks for otherwise."""
    try:
        route = request.resolver_match or resolve(request.path_info)
    except Resolver404:
        route = None
    route_format = route.kwargs.get("format") if route else None
    return ErrorAnswerView.as_view()(request, error=error, format=route_format).render()


def bad_request(request, exception=None) -> HttpResponse:
    """``handler400``: a request Django refused outside the API views (too many fields...)."""
    return error_answer(request, exception or SuspiciousOperation("Bad request."))


def page_not_found(request, exception=None) -> HttpResponse:
    """``handler404``: a 404 outside the API views answers in the same shape as the API."""
    return error_answer(request, exceptions.NotFound(f"No resource at {request.path}."))


def server_error(request) -> HttpResponse:
    """``handler500`` for errors outside the API views."""
    return error_answer(request, ServerError())
