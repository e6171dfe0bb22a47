"""ServiceStack's error shape, for every error the service returns.

``{"ResponseStatus": {"ErrorCode", "Message", "Errors": [{"ErrorCode", "FieldName", "Message"}]}}``
"""

import logging
import traceback
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from checkouts.exceptions import (
    CheckoutError,
    CheckoutValidationError,
    FieldError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidWebhook,
    PayableAlreadyPaid,
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

# DRF's exceptions under the names ServiceStack gives the same HTTP errors.
API_EXCEPTION_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.NotAuthenticated: "Unauthorized",
    exceptions.AuthenticationFailed: "Unauthorized",
    exceptions.PermissionDenied: "Forbidden",
    exceptions.NotFound: "NotFound",
    exceptions.MethodNotAllowed: "MethodNotAllowed",
    exceptions.NotAcceptable: "NotAcceptable",
    exceptions.UnsupportedMediaType: "UnsupportedMediaType",
    exceptions.Throttled: "TooManyRequests",
    exceptions.ParseError: "SerializationException",
}

CHECKOUT_ERROR_STATUSES: dict[type[CheckoutError], int] = {
    CheckoutValidationError: status.HTTP_400_BAD_REQUEST,
    StripeCheckoutNotEnabled: status.HTTP_400_BAD_REQUEST,
    PayableAlreadyPaid: status.HTTP_409_CONFLICT,
    IdempotencyKeyInUse: status.HTTP_409_CONFLICT,
    IdempotencyKeyReused: status.HTTP_422_UNPROCESSABLE_ENTITY,
    StripeRefused: status.HTTP_502_BAD_GATEWAY,
    StripeUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    StripeRateLimited: status.HTTP_503_SERVICE_UNAVAILABLE,
    StripeMisconfigured: status.HTTP_500_INTERNAL_SERVER_ERROR,
    InvalidWebhook: status.HTTP_400_BAD_REQUEST,
    WebhooksNotConfigured: status.HTTP_503_SERVICE_UNAVAILABLE,
}

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
    """ServiceStack reports the first failure at the top and every failure in ``Errors``."""
    return error_body(errors[0].error_code, errors[0].message, errors)


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
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    if isinstance(exc, exceptions.ValidationError):
        return Response(validation_error_body(list(field_errors(exc.detail))), status=400)
    if isinstance(exc, CheckoutValidationError):
        return Response(validation_error_body(exc.errors), status=400)
    if isinstance(exc, CheckoutError):
        headers = None
        if isinstance(exc, StripeUnavailable):
            headers = {"Retry-After": str(STRIPE_UNAVAILABLE_RETRY_AFTER_SECONDS)}
        return Response(
            error_body(exc.error_code, exc.message),
            status=CHECKOUT_ERROR_STATUSES[type(exc)],
            headers=headers,
        )
    if isinstance(exc, OperationalError):
        # The database is locked or unreachable for now: worth a retry, not a 500.
        logger.warning("Database unavailable in %s: %s", context.get("view"), exc)
        return Response(
            error_body("DatabaseBusy", "The service is busy; retry shortly."),
            status=503,
            headers={"Retry-After": str(DATABASE_BUSY_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        code = API_EXCEPTION_CODES.get(type(exc), _field_error_code(exc.default_code))
        return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)

    logger.error("Unhandled error in %s", context.get("view"), exc_info=exc)
    return Response(internal_error_body(exc), status=500)


def internal_error_body(exc: BaseException | None = None) -> dict[str, Any]:
    stack_trace = None
    if settings.DEBUG and exc is not None:
        stack_trace = "".join(traceback.format_exception(exc))
    return error_body(
        "InternalServerError", "An unexpected error occurred.", stack_trace=stack_trace
    )


def page_not_found(request, exception=None) -> JsonResponse:
    """``handler404``: unknown paths answer in the same shape as the API."""
    return JsonResponse(error_body("NotFound", f"No resource at {request.path}."), status=404)


def server_error(request) -> JsonResponse:
    """``handler500`` for errors outside the API views."""
    return JsonResponse(internal_error_body(), status=500)
