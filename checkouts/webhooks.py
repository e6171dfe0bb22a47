"""Stripe webhooks: verify the delivery, keep it, dedupe, re-fetch, apply.

Each step is one short function; ``process_delivery`` is also what staff's
"Reprocess" runs. A delivery is kept with every ``*_secret`` value redacted:
a Checkout Session's ``client_secret`` must never be stored.
"""

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from checkouts import stripe_gateway
from checkouts.exceptions import InvalidWebhook, StripeGatewayError
from checkouts.lifecycle import record_session_state
from checkouts.models import Checkout, ProcessedStripeEvent, WebhookDelivery, WebhookOutcome
from checkouts.refunds import record_refunds

SESSION_EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
# About a refund (its object is the refund) or a payment's refunds (the charge).
REFUND_EVENT_TYPES = frozenset(
    {"charge.refunded", "refund.created", "refund.updated", "refund.failed"}
)
HANDLED_EVENT_TYPES = SESSION_EVENT_TYPES | REFUND_EVENT_TYPES
# The event's fields that are kept in their own columns, and their columns' lengths.
EVENT_FIELD_LENGTHS = {"id": 255, "type": 100, "account": 255}
REDACTED = "[redacted]"
# For a body that is not JSON, so can't be redacted field by field.
SECRET_IN_TEXT = re.compile(r'("[A-Za-z0-9_]*secret"\s*:\s*)"(?:[^"\\]|\\.)*"')


class MalformedEvent(ValueError):
    """A signed body that is not a Stripe event this service can read."""


def receive_webhook(*, payload: bytes, signature: str) -> WebhookDelivery:
    """Verify a delivery, keep it, and process it.

    ``InvalidWebhook`` when the signature does not check out (nothing is kept
    or changed), or when the signed body is not a readable event (it is kept,
    as rejected).
    """
    stripe_gateway.verify_webhook_signature(payload, signature)
    text = payload.decode("utf-8")
    try:
        event = parse_event(text)
    except MalformedEvent as error:
        WebhookDelivery.objects.create(
            payload=redact_secrets_in_text(text),
            outcome=WebhookOutcome.REJECTED,
            error=str(error),
            processed_at=timezone.now(),
        )
        raise InvalidWebhook(f"The signed body is not a Stripe event: {error}") from error
    delivery = WebhookDelivery.objects.create(
        event_id=event["id"],
        event_type=event["type"],
        account=event.get("account") or "",
        payload=json.dumps(redact_secrets(event), separators=(",", ":")),
    )
    return process_delivery(delivery)


def parse_event(text: str) -> dict[str, Any]:
    """The event in a delivery's body; ``MalformedEvent`` unless it has what is read here."""
    try:
        event = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise MalformedEvent(f"not JSON ({error})") from None
    if not isinstance(event, dict):
        raise MalformedEvent("not a JSON object")
    for field, longest in EVENT_FIELD_LENGTHS.items():
        value = event.get(field)
        if field != "account" and not value:
            raise MalformedEvent(f"no {field}")
        if value is not None and (not isinstance(value, str) or len(value) > longest):
            raise MalformedEvent(f"{field} is not a string of at most {longest} characters")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("no data.object")
    return event


def redact_secrets(value: Any) -> Any:
    """``value`` with every ``client_secret`` (and other ``*_secret``) value replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED if _is_secret(key, item) else redact_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value


def _is_secret(key: Any, value: Any) -> bool:
    return str(key).endswith("secret") and value is not None


def redact_secrets_in_text(text: str) -> str:
    try:
        return json.dumps(redact_secrets(json.loads(text)), separators=(",", ":"))
    except (ValueError, RecursionError):
        return SECRET_IN_TEXT.sub(rf'\1"{REDACTED}"', text)


def process_delivery(delivery: WebhookDelivery, *, reprocess: bool = False) -> WebhookDelivery:
    """Apply a kept delivery once, and record its outcome on it.

    A failure (Stripe unreachable, a lock held too long) leaves no dedupe row,
    so Stripe's next delivery of the same event is processed afresh.
    ``reprocess`` applies it even if the event was processed before; the
    effects are idempotent.
    """
    try:
        outcome, note = _apply(delivery, reprocess=reprocess)
    except MalformedEvent as error:
        outcome, note = WebhookOutcome.REJECTED, str(error)
    except (StripeGatewayError, DatabaseError) as error:
        outcome, note = WebhookOutcome.FAILED, str(error)
    delivery.outcome = outcome
    delivery.error = note
    delivery.processed_at = timezone.now()
    delivery.save(update_fields=["outcome", "error", "processed_at"])
    return delivery


@dataclass(frozen=True)
class EventSubject:
    """What an event is about here: how to fetch Stripe's copy of it now, and record it."""

    fetch: Callable[[], Any]
    record: Callable[[Any], Any]


def _apply(delivery: WebhookDelivery, *, reprocess: bool) -> tuple[WebhookOutcome, str]:
    event = parse_event(delivery.payload)
    if event["type"] not in HANDLED_EVENT_TYPES:
        return WebhookOutcome.IGNORED, f"{event['type']} events are not handled."
    if not reprocess and ProcessedStripeEvent.objects.filter(event_id=event["id"]).exists():
        return WebhookOutcome.DUPLICATE, ""
    if event["type"] in SESSION_EVENT_TYPES:
        subject = _session_subject(event)
        if subject is None:
            return WebhookOutcome.IGNORED, "Not a checkout session this service created."
    else:
        subject = _refunds_subject(event)
        if subject is None:
            return WebhookOutcome.IGNORED, "Not a payment of a checkout this service created."

    # Events arrive in any order: act on what Stripe has now.
    current = subject.fetch()
    try:
        with transaction.atomic():
            if reprocess:
                ProcessedStripeEvent.objects.get_or_create(
                    event_id=event["id"], defaults={"delivery": delivery}
                )
            else:
                ProcessedStripeEvent.objects.create(event_id=event["id"], delivery=delivery)
            subject.record(current)
    except IntegrityError:
        return WebhookOutcome.DUPLICATE, ""
    return WebhookOutcome.PROCESSED, ""


def _session_subject(event: dict[str, Any]) -> EventSubject | None:
    """A checkout session's event: its session is fetched again."""
    checkout = _checkout_created_here(event["data"]["object"], account=event.get("account"))
    if checkout is None:
        return None
    return EventSubject(
        fetch=partial(
            stripe_gateway.retrieve_checkout_session,
            account=checkout.connected_account_id,
            session_id=checkout.stripe_session_id,
        ),
        record=partial(record_session_state, checkout),
    )


def _refunds_subject(event: dict[str, Any]) -> EventSubject | None:
    """A refund's event, or a charge's: every refund of the payment is fetched again."""
    checkout = _checkout_paid_by(event["data"]["object"], account=event.get("account"))
    if checkout is None:
        return None

    def fetch() -> list[stripe_gateway.RefundSnapshot]:
        return list(
            stripe_gateway.list_refunds(
                account=checkout.connected_account_id,
                payment_intent_id=checkout.payment_intent_id,
            )
        )

    return EventSubject(fetch=fetch, record=partial(record_refunds, checkout))


def _checkout_paid_by(payment: dict[str, Any], *, account: str | None) -> Checkout | None:
    """The checkout whose payment intent a refund or charge names, on the event's account."""
    intent = payment.get("payment_intent")
    if not isinstance(intent, str) or not intent:
        return None
    return Checkout.objects.filter(payment_intent_id=intent, connected_account_id=account).first()


def _checkout_created_here(session: dict[str, Any], *, account: str | None) -> Checkout | None:
    """The checkout behind ``session``, if this service made it: its metadata names it."""
    metadata = session.get("metadata")
    checkout_id = metadata.get("checkout_id") if isinstance(metadata, dict) else None
    try:
        uuid.UUID(str(checkout_id))
    except ValueError:
        return None
    return Checkout.objects.filter(
        pk=checkout_id, stripe_session_id=str(session.get("id")), connected_account_id=account
    ).first()
