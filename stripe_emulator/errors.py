"""Stripe-shaped API errors.

An `ApiError` carries everything needed to render Stripe's error body
(`{"error": {...}}`) and the HTTP status; the server adds the request id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DOC_URL = "https://stripe.com/docs/error-codes/{slug}"
SUPPORT_HINT = "Please see https://stripe.com/docs or we can help at https://support.stripe.com/."


@dataclass
class ApiError(Exception):
    """An error answered as Stripe would: status, type, message and optional code/param."""

    status: int
    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.type}: {self.message}"

    def body(self, request_log_url: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = DOC_URL.format(slug=self.code.replace("_", "-"))
        if self.param is not None:
            error["param"] = self.param
        if request_log_url is not None:
            error["request_log_url"] = request_log_url
        return {"error": error}


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def parameter_unknown(*params: str) -> ApiError:
    plural = "s" if len(params) > 1 else ""
    message = f"Received unknown parameter{plural}: {', '.join(params)}"
    return invalid(message, params[0], "parameter_unknown")


def parameter_missing(param: str) -> ApiError:
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def parameter_empty(param: str) -> ApiError:
    return invalid(
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
        "from your request or supply a non-empty value.",
        param,
        "parameter_invalid_empty",
    )


def parameters_exclusive(*params: str) -> ApiError:
    return invalid(
        f"You may only specify one of these parameters: {', '.join(params)}.",
        params[-1],
        "parameters_exclusive",
    )


def not_allowed(param: str, reason: str) -> ApiError:
    return invalid(f"You cannot pass `{param}` {reason}.", param)


def value_at_least(param: str, minimum: int) -> ApiError:
    return invalid(f"This value must be greater than or equal to {minimum}.", param)


def value_at_most(param: str, maximum: int) -> ApiError:
    return invalid(f"This value must be less than or equal to {maximum}.", param)


def resource_missing(object_name: str, object_id: str, param: str, status: int = 404) -> ApiError:
    """A missing object: 404 when it is the URL's object, 400 when a param refers to it."""
    return ApiError(
        status, f"No such {object_name}: '{object_id}'", code="resource_missing", param=param
    )


def unrecognized_url(method: str, path: str) -> ApiError:
    return ApiError(404, f"Unrecognized request URL ({method}: {path}). {SUPPORT_HINT}")


def missing_api_key() -> ApiError:
    return ApiError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization "
        "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). "
        "See https://stripe.com/docs/api#authentication for details, or we can help at "
        "https://support.stripe.com/.",
    )


def invalid_api_key(key: str) -> ApiError:
    return ApiError(401, f"Invalid API Key provided: {mask_key(key)}")


def mask_key(key: str) -> str:
    """Mask a key like Stripe does: keep the `xx_mode_` prefix and the last four characters."""
    prefix_end = key.find("_", key.find("_") + 1) + 1
    if prefix_end <= 0 or len(key) <= prefix_end + 4:
        return "*" * len(key)
    return key[:prefix_end] + "*" * (len(key) - prefix_end - 4) + key[-4:]
