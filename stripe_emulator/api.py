"""Stripe's request semantics: routing, auth, Connect scoping, idempotency, validation.

`handle(request, ...)` turns one decoded API request into a `Response` the
way Stripe would, in this order: unknown URL (404), malformed form (400),
API key (401), `Stripe-Account` / `Stripe-Version` / `Idempotency-Key` headers,
idempotent replay or mismatch, params against the SDK's TypedDict, the
route's business rules, then the handler. It holds the store's lock for the
whole request, so requests are applied one at a time.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import stripe

from . import errors, validation
from .routes import find_route
from .routing import ApiContext
from .store import IdempotentResult, Store

DEFAULT_API_VERSION: str = stripe.api_version
MAX_IDEMPOTENCY_KEY = 255
_ACCOUNT = re.compile(r"^acct_[A-Za-z0-9]+$")
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z_]+)?$")


@dataclass
class ApiRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: Mapping[str, str]  # case-insensitive, as http.server gives them
    received_at: float
    request_id: str
    decode_error: errors.ApiError | None = None  # the body or query could not be decoded


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        return json.dumps(self.body, indent=2, default=_json_default).encode()


def error_response(
    error: errors.ApiError, request_id: str, received_at: float, headers: Mapping[str, str]
) -> Response:
    log_url = f"https://dashboard.stripe.com/test/logs/{request_id}?t={int(received_at)}"
    return Response(error.status, error.body(log_url), {**headers, **error.headers})


def handle(request: ApiRequest, *, store: Store, base_url: str, api_key_prefix: str) -> Response:
    headers = response_headers(request)
    try:
        return _handle(request, store, base_url, api_key_prefix, headers)
    except errors.ApiError as error:
        return error_response(error, request.request_id, request.received_at, headers)


def _handle(
    request: ApiRequest,
    store: Store,
    base_url: str,
    api_key_prefix: str,
    headers: dict[str, str],
) -> Response:
    found = find_route(request.method, request.path)
    if found is None:
        raise errors.unrecognized_url(request.method, request.path)
    route, path_args = found
    if request.decode_error is not None:
        raise request.decode_error
    api_key = authenticate(request.headers, api_key_prefix)
    account = _stripe_account(request.headers)
    _check_api_version(request.headers)
    idempotency_key = _idempotency_key(request)

    with store.lock:
        scope = (api_key, account, idempotency_key) if idempotency_key else None
        fingerprint = (request.method, request.path, _canonical(request.params))
        if scope is not None:
            previous = store.idempotent_result(scope, request.received_at)
            if previous is not None:
                return _replay(previous, fingerprint, idempotency_key, headers)

        if route.precheck is not None:
            route.precheck(request.params)
        ctx = ApiContext(
            params=validation.validate(validation.schema_for(route.params_class), request.params),
            path_args=path_args,
            api_key=api_key,
            account=account,
            received_at=request.received_at,
            request_id=request.request_id,
            base_url=base_url,
            store=store,
            idempotency_key=idempotency_key,
            raw_params=request.params,
        )
        if route.check is not None:
            route.check(ctx)
        # From here on the endpoint "ran": Stripe stores its result, error or not.
        try:
            status, body = route.handler(ctx)
            response = Response(status, body, headers)
        except errors.ApiError as error:
            response = error_response(error, request.request_id, request.received_at, headers)
        if scope is not None:
            result = IdempotentResult(
                fingerprint,
                response.status,
                copy.deepcopy(response.body),
                request.request_id,
                request.received_at,
            )
            store.save_idempotent(scope, result)
        return response


def authenticate(headers: Mapping[str, str], prefix: str) -> str:
    """The secret key from `Authorization: Bearer` (or Basic, as curl -u sends it)."""
    authorization = headers.get("Authorization", "").strip()
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic":
        try:
            credentials = base64.b64decode(credentials).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            credentials = ""
    elif scheme.lower() != "bearer":
        credentials = ""
    if not credentials:
        raise errors.missing_api_key()
    if not credentials.startswith(prefix) or len(credentials) == len(prefix):
        raise errors.invalid_api_key(credentials)
    return credentials


def _stripe_account(headers: Mapping[str, str]) -> str | None:
    account = headers.get("Stripe-Account")
    if account is None:
        return None
    if not _ACCOUNT.match(account):
        raise errors.ApiError(
            403,
            f"The provided key does not have access to account '{account}' (or that account "
            "does not exist). Application access may have been revoked.",
            code="account_invalid",
        )
    return account


def _check_api_version(headers: Mapping[str, str]) -> None:
    version = headers.get("Stripe-Version")
    if version is not None and not _API_VERSION.match(version):
        raise errors.invalid(f"Invalid Stripe API version: {version}")


def _idempotency_key(request: ApiRequest) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise errors.invalid(
            f"Invalid Idempotency-Key: keys can be at most {MAX_IDEMPOTENCY_KEY} characters long."
        )
    return key


def _replay(
    previous: IdempotentResult,
    fingerprint: tuple[str, str, str],
    key: str,
    headers: dict[str, str],
) -> Response:
    if previous.fingerprint != fingerprint:
        raise errors.ApiError(
            400,
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.",
            type="idempotency_error",
        )
    replay_headers = {
        **headers,
        "Idempotent-Replayed": "true",
        "Original-Request": previous.request_id,
    }
    return Response(previous.status, copy.deepcopy(previous.body), replay_headers)


def response_headers(request: ApiRequest) -> dict[str, str]:
    """Headers on every API answer: `Request-Id`, `Stripe-Version` and echoed request headers."""
    headers = {
        "Request-Id": request.request_id,
        "Stripe-Version": request.headers.get("Stripe-Version") or DEFAULT_API_VERSION,
    }
    for name in ("Stripe-Account", "Idempotency-Key"):
        value = request.headers.get(name)
        if value and (name != "Idempotency-Key" or request.method == "POST"):
            headers[name] = value
    return headers


def _canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
