"""The one module that talks to Stripe.

It knows the SDK (``StripeClient``) and turns its objects and errors into
plain values and the domain's exceptions. Every call names the connected
account it acts on.
"""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

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


class _RequestsClient(stripe.RequestsClient):
    """The SDK's requests client, reading the environment's proxy settings once.

    A requests session that trusts the environment reads every proxy variable (and
    ``.netrc``) again on each call, about a tenth of a create's CPU. Each thread's session
    here does not; the proxies the environment names for Stripe's address are read when
    the client is made, and passed on every call instead.
    """

    def __init__(self, *, timeout: float, api_base: str) -> None:
        proxies = requests.utils.get_environ_proxies(api_base)
        super().__init__(
            timeout=timeout,
            proxy={scheme: proxies[scheme] for scheme in ("http", "https") if scheme in proxies}
            or None,
        )

    def _request_internal(self, *args, **kwargs):
        if getattr(self._thread_local, "session", None) is None:
            session = requests.Session()
            session.trust_env = False
            self._thread_local.session = session
        return super()._request_internal(*args, **kwargs)


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str, max_retries: int, timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=max_retries,
        http_client=_RequestsClient(timeout=timeout, api_base=api_base or stripe.DEFAULT_API_BASE),
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
