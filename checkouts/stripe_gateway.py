"""The one module that talks to Stripe.

It knows the SDK (``StripeClient``) and turns its objects and errors into
plain values and the domain's exceptions. Every call names the connected
account it acts on.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from io import BytesIO
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import pycurl
import requests
import stripe
from django.conf import settings

from checkouts.exceptions import (
    InvalidWebhook,
    StripeMisconfigured,
    StripeRateLimited,
    StripeRefused,
    StripeUnavailable,
    WebhooksNotConfigured,
)

logger = logging.getLogger(__name__)

# Stripe refusing the platform itself: nothing a client could change.
OUR_MISCONFIGURATION = (stripe.AuthenticationError, stripe.PermissionError, stripe.IdempotencyError)


@dataclass(frozen=True)
class CheckoutSessionSnapshot:
    """What Stripe said a Checkout Session looked like at one moment.

    ``client_secret`` is carried only so it can be handed to the customer
    once; callers must not store or log it.
    """

    id: str
    status: str
    payment_status: str
    url: str | None
    client_secret: str | None
    customer_id: str | None
    customer_email: str | None
    payment_intent_id: str | None
    amount_total: int | None
    created: datetime
    expires_at: datetime
    metadata: dict[str, str]

    def __repr__(self) -> str:
        return f"CheckoutSessionSnapshot(id={self.id!r}, status={self.status!r})"

    @classmethod
    def from_session(cls, session: dict[str, Any]) -> "CheckoutSessionSnapshot":
        details = session.get("customer_details") or {}
        return cls(
            id=session["id"],
            status=session["status"],
            payment_status=session["payment_status"],
            url=session.get("url"),
            client_secret=session.get("client_secret"),
            customer_id=_id_of(session.get("customer")),
            customer_email=_storable(details.get("email") or session.get("customer_email")),
            payment_intent_id=_id_of(session.get("payment_intent")),
            amount_total=session.get("amount_total"),
            created=datetime.fromtimestamp(session["created"], tz=UTC),
            expires_at=datetime.fromtimestamp(session["expires_at"], tz=UTC),
            metadata=dict(session.get("metadata") or {}),
        )


def _storable(text: str | None) -> str | None:
    """Text a customer typed, without the NUL characters PostgreSQL cannot store."""
    return text.replace("\x00", "") if text else text


@dataclass(frozen=True)
class RefundSnapshot:
    """What Stripe said a refund looked like at one moment; ``amount`` in Stripe's unit."""

    id: str
    amount: int
    currency: str
    status: str
    reason: str | None
    failure_reason: str | None
    payment_intent_id: str | None
    metadata: dict[str, str]

    @classmethod
    def from_refund(cls, refund: dict[str, Any]) -> "RefundSnapshot":
        return cls(
            id=refund["id"],
            payment_intent_id=_id_of(refund.get("payment_intent")),
            amount=refund["amount"],
            reason=refund.get("reason"),
            currency=refund["currency"],
            failure_reason=refund.get("failure_reason"),
            status=refund["status"],
            metadata=dict(refund.get("metadata") or {}),
        )


def _id_of(value: Any) -> str | None:
    """An expandable field is an id, an expanded object, or nothing."""
    if value is None or isinstance(value, str):
        return value
    return value["id"]


class CurlClient(stripe.PycurlClient):
    """The SDK's pycurl client, with a curl handle per thread and this service's timeout.

    Through requests, a Stripe call cost about 1.5 ms of CPU, a tenth of a create's and
    a third of an expiry's; through curl it costs about 0.6 ms. The SDK's own pycurl client
    shares one handle between threads (curl's handles are not thread-safe) and fixes its
    timeouts at 30 and 80 seconds, so its request is redone here; the SDK keeps its
    retries, idempotency keys and errors.

    The proxy the environment names for Stripe's address is read once, when the client
    is made, and curl is told to use exactly that, or none: curl itself would read the
    environment again on every call. Each thread's handle keeps its connections open
    between calls; when a kept connection turns out closed before any answer, curl sends
    the request again once on a new one. Every POST here carries an idempotency key, so
    Stripe acts on it once.
    """

    # Failures in which Stripe may not have acted, or acted under an idempotency key the
    # retry repeats: the ones requests, the SDK's default client, retries.
    RETRYABLE = {
        pycurl.E_COULDNT_RESOLVE_PROXY,
        pycurl.E_COULDNT_RESOLVE_HOST,
        pycurl.E_COULDNT_CONNECT,
        pycurl.E_OPERATION_TIMEDOUT,
        pycurl.E_GOT_NOTHING,
        pycurl.E_SEND_ERROR,
        pycurl.E_RECV_ERROR,
    }

    def __init__(self, *, timeout: float, api_base: str) -> None:
        super().__init__()
        proxies = requests.utils.get_environ_proxies(api_base)
        self._proxy_url = proxies.get(urlsplit(api_base).scheme) or proxies.get("all", "")
        self._timeout_ms = round(timeout * 1000)
        self._handles = threading.local()

    def _request_internal(self, method, url, headers, post_data, is_streaming):
        curl = getattr(self._handles, "curl", None)
        if curl is None:
            curl = self._handles.curl = pycurl.Curl()
        body, response_headers = BytesIO(), BytesIO()
        curl.reset()  # keeps the handle's open connections
        curl.setopt(pycurl.PROXY, self._proxy_url)
        if method == "get":
            curl.setopt(pycurl.HTTPGET, 1)
        elif method == "post":
            curl.setopt(pycurl.POST, 1)
            curl.setopt(pycurl.POSTFIELDS, post_data)
        else:
            curl.setopt(pycurl.CUSTOMREQUEST, method.upper())
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.WRITEFUNCTION, body.write)
        curl.setopt(pycurl.HEADERFUNCTION, response_headers.write)
        curl.setopt(pycurl.NOSIGNAL, 1)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, self._timeout_ms)
        curl.setopt(pycurl.TIMEOUT_MS, self._timeout_ms)
        curl.setopt(pycurl.HTTPHEADER, [f"{name}: {value}" for name, value in headers.items()])
        curl.setopt(pycurl.CAINFO, stripe.ca_bundle_path)
        try:
            curl.perform()
        except pycurl.error as error:
            self._handle_request_error(error)
        if is_streaming:
            body.seek(0)
            content = body
        else:
            content = body.getvalue().decode()
        # A proxy's answer to CONNECT comes first; the last block is Stripe's.
        *_, stripes_headers = (
            response_headers.getvalue().decode("iso-8859-1").rstrip().split("\r\n\r\n")
        )
        return content, curl.getinfo(pycurl.RESPONSE_CODE), self.parse_headers(stripes_headers)

    def _handle_request_error(self, error: pycurl.error) -> NoReturn:
        if error.args[0] in self.RETRYABLE:
            raise stripe.APIConnectionError(
                f"Could not reach Stripe: {error.args[1]}", should_retry=True
            ) from error
        super()._handle_request_error(error)


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str, max_retries: int, timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=max_retries,
        http_client=CurlClient(timeout=timeout, api_base=api_base or stripe.DEFAULT_API_BASE),
    )


def _stripe() -> stripe.StripeClient:
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_TIMEOUT_SECONDS,
    )


def _session_call(
    method: str,
    path: str,
    *,
    account: str,
    params: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    rate_limit_retries: int = 0,
) -> CheckoutSessionSnapshot:
    """One call about a Checkout Session on ``account``, backing off and retrying up to
    ``rate_limit_retries`` times on a 429.

    Made with the SDK's ``raw_request`` (its retries, idempotency keys and errors as any
    call's), whose answer is the parsed JSON: building a ``StripeObject`` of a session
    and turning it back into a dict cost a tenth of a create's CPU.
    """
    options = {"stripe_account": account}
    if idempotency_key is not None:
        options["idempotency_key"] = idempotency_key
    response = _with_rate_limit_retries(
        _stripe().raw_request, method, path, retries=rate_limit_retries, **options, **(params or {})
    )
    return CheckoutSessionSnapshot.from_session(response.data)


def _session_path(session_id: str, action: str = "") -> str:
    return f"/v1/checkout/sessions/{quote(session_id, safe='')}{action}"


def _every_page(
    list_operation,
    *,
    account: str,
    params: dict[str, Any],
    before_each_page: Callable[[], None],
    rate_limit_retries: int,
) -> Iterator[dict[str, Any]]:
    """Every object a Stripe list call gives, a page at a time (only one page is held);
    ``before_each_page`` runs before each call to Stripe."""
    while True:
        before_each_page()
        page = _with_rate_limit_retries(
            list_operation,
            params=params,
            options={"stripe_account": account},
            retries=rate_limit_retries,
        )
        objects = [stripe_object.to_dict() for stripe_object in page.data]
        yield from objects
        if not page.has_more or not objects:
            return
        params = {**params, "starting_after": objects[-1]["id"]}


def _with_rate_limit_retries(operation, *args: Any, retries: int, **kwargs: Any) -> Any:
    for attempt in range(retries + 1):
        try:
            return _call_once(operation, *args, **kwargs)
        except StripeRateLimited:
            if attempt == retries:
                raise
            time.sleep(settings.STRIPE_RATE_LIMIT_BACKOFF_SECONDS * 2**attempt)
    raise AssertionError("unreachable")


def _call_once(operation, *args: Any, **kwargs: Any) -> Any:
    """The SDK's answer to one call, its errors turned into the domain's."""
    try:
        return operation(*args, **kwargs)
    except OUR_MISCONFIGURATION as error:
        # Stripe's message may quote the key, masked or not: it goes to the log only.
        logger.critical(
            "Stripe refused this service's own request (%s, request %s): %s",
            type(error).__name__,
            error.request_id,
            error.user_message or error,
        )
        raise StripeMisconfigured(
            "The payment service is misconfigured; its operators have been alerted."
        ) from error
    except stripe.RateLimitError as error:
        raise StripeRateLimited(
            f"Stripe is rate limiting: {error.user_message or error}"
        ) from error
    except stripe.APIConnectionError as error:
        raise StripeUnavailable(f"Stripe is unavailable: {error.user_message or error}") from error
    except stripe.APIError as error:
        raise StripeUnavailable(f"Stripe failed: {error.user_message or error}") from error
    except stripe.StripeError as error:
        raise StripeRefused(
            error.user_message or str(error), stripe_code=getattr(error, "code", None)
        ) from error


def create_checkout_session(
    *, account: str, params: dict[str, Any], idempotency_key: str
) -> CheckoutSessionSnapshot:
    """Create a Checkout Session on ``account``.

    The idempotency key makes the SDK's network retries, and any retry of the
    same attempt, return the one session Stripe already made.
    """
    return _session_call(
        "post",
        "/v1/checkout/sessions",
        account=account,
        params=params,
        idempotency_key=idempotency_key,
    )


def retrieve_checkout_session(
    *, account: str, session_id: str, rate_limit_retries: int = 0
) -> CheckoutSessionSnapshot:
    return _session_call(
        "get",
        _session_path(session_id),
        account=account,
        rate_limit_retries=rate_limit_retries,
    )


def expire_checkout_session(
    *, account: str, session_id: str, rate_limit_retries: int = 0
) -> CheckoutSessionSnapshot:
    """Expire an open session; Stripe refuses (``StripeRefused``) one that is not open."""
    # No fixed idempotency key: Stripe would replay a failed first attempt to
    # every later one. The SDK still gives its own retries one key.
    return _session_call(
        "post",
        _session_path(session_id, "/expire"),
        account=account,
        rate_limit_retries=rate_limit_retries,
    )


def list_checkout_sessions(
    *,
    account: str,
    created_since: datetime,
    before_each_page: Callable[[], None] = lambda: None,
    page_size: int = 100,
    rate_limit_retries: int = 0,
) -> Iterator[CheckoutSessionSnapshot]:
    """Every session created on ``account`` since ``created_since``, newest first, a page at
    a time (only one page is held); ``before_each_page`` runs before each call to Stripe."""
    sessions = _every_page(
        _stripe().v1.checkout.sessions.list,
        account=account,
        params={"created": {"gte": int(created_since.timestamp())}, "limit": page_size},
        before_each_page=before_each_page,
        rate_limit_retries=rate_limit_retries,
    )
    return (CheckoutSessionSnapshot.from_session(session) for session in sessions)


def create_refund(*, account: str, params: dict[str, Any], idempotency_key: str) -> RefundSnapshot:
    """Refund (part of) a payment on ``account``.

    The idempotency key makes a repeat of the same request, by the SDK's retries or
    after a lost answer, return the one refund Stripe made instead of making another.
    """
    refund = _with_rate_limit_retries(
        _stripe().v1.refunds.create,
        params=params,
        options={"stripe_account": account, "idempotency_key": idempotency_key},
        retries=0,
    )
    return RefundSnapshot.from_refund(refund.to_dict())


def list_refunds(
    *,
    account: str,
    payment_intent_id: str | None = None,
    created_since: datetime | None = None,
    before_each_page: Callable[[], None] = lambda: None,
    page_size: int = 100,
    rate_limit_retries: int = 0,
) -> Iterator[RefundSnapshot]:
    """Every refund on ``account`` (of one payment intent, or created since a time),
    newest first, a page at a time."""
    params: dict[str, Any] = {"limit": page_size}
    if payment_intent_id is not None:
        params["payment_intent"] = payment_intent_id
    if created_since is not None:
        params["created"] = {"gte": int(created_since.timestamp())}
    refunds = _every_page(
        _stripe().v1.refunds.list,
        account=account,
        params=params,
        before_each_page=before_each_page,
        rate_limit_retries=rate_limit_retries,
    )
    return (RefundSnapshot.from_refund(refund) for refund in refunds)


def verify_webhook_signature(payload: bytes, signature: str) -> None:
    """Check a webhook delivery's ``Stripe-Signature`` on its raw body.

    Uses the SDK's check with its default tolerance, so a replay of an old
    delivery fails like a forged one. ``InvalidWebhook`` if it does not check out.
    """
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhooksNotConfigured("STRIPE_WEBHOOK_SECRET is not set.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, stripe.Webhook.DEFAULT_TOLERANCE
        )
    except stripe.SignatureVerificationError as error:
        raise InvalidWebhook(f"Invalid Stripe-Signature: {error.user_message or error}") from error
    except ValueError as error:
        raise InvalidWebhook(f"The body is not UTF-8 text: {error}") from error


@dataclass(frozen=True)
class WebhookEndpointSnapshot:
    """A webhook endpoint as Stripe created it. Stripe shows ``secret`` (``whsec_...``) in
    that one answer only."""

    id: str
    url: str
    enabled_events: tuple[str, ...]
    secret: str

    def __repr__(self) -> str:
        return f"WebhookEndpointSnapshot(id={self.id!r}, url={self.url!r})"


def create_connect_webhook_endpoint(
    *, url: str, events: list[str], description: str
) -> WebhookEndpointSnapshot:
    """Create, on the platform's account, an endpoint that Stripe sends ``events`` of every
    connected account to (``connect=true``), rendered in the API version this SDK speaks."""
    endpoint = _call_once(
        _stripe().v1.webhook_endpoints.create,
        params={
            "url": url,
            "enabled_events": events,
            "connect": True,
            "api_version": stripe.api_version,
            "description": description,
        },
    )
    return WebhookEndpointSnapshot(
        id=endpoint["id"],
        url=endpoint["url"],
        enabled_events=tuple(endpoint["enabled_events"]),
        secret=endpoint["secret"],
    )
