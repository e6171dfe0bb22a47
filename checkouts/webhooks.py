"""Stripe webhooks: record the delivery, verify it, dedupe, re-fetch, apply.

Each step is one short function; ``process_delivery`` is also what staff's
"Reprocess" runs.
"""

import json
import uuid
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from checkouts import stripe_gateway
from checkouts.exceptions import StripeGatewayError
from checkouts.lifecycle import record_session_state
from checkouts.models import Checkout, ProcessedStripeEvent, WebhookDelivery, WebhookOutcome

HANDLED_EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)


def receive_webhook(*, payload: bytes, signature: str) -> WebhookDelivery:
    """Verify a delivery, keep it, and process it.

    ``InvalidWebhook`` (nothing is kept or changed) when the signature does not check out.
    """
    event = stripe_gateway.verify_webhook(payload, signature)
    delivery = WebhookDelivery.objects.create(
        event_id=event["id"],
        event_type=event["type"],
        account=event.get("account") or "",
        payload=payload.decode("utf-8"),
    )
    return process_delivery(delivery)


def process_delivery(delivery: WebhookDelivery, *, reprocess: bool = False) -> WebhookDelivery:
    """Apply a kept delivery once, and record its outcome on it.

    A failure (Stripe unreachable, a lock held too long) leaves no dedupe row,
    so Stripe's next delivery of the same event is processed afresh.
    ``reprocess`` applies it even if the event was processed before; the
    effects are idempotent.
    """
    try:
        outcome, note = _apply(delivery, reprocess=reprocess)
    except (StripeGatewayError, DatabaseError) as error:
        outcome, note = WebhookOutcome.FAILED, str(error)
    delivery.outcome = outcome
    delivery.error = note
    delivery.processed_at = timezone.now()
    delivery.save(update_fields=["outcome", "error", "processed_at"])
    return delivery


def _apply(delivery: WebhookDelivery, *, reprocess: bool) -> tuple[WebhookOutcome, str]:
    event = json.loads(delivery.payload)
    if event["type"] not in HANDLED_EVENT_TYPES:
        return WebhookOutcome.IGNORED, f"{event['type']} events are not handled."
    if not reprocess and ProcessedStripeEvent.objects.filter(event_id=event["id"]).exists():
        return WebhookOutcome.DUPLICATE, ""
    checkout = _checkout_created_here(event["data"]["object"], account=event.get("account"))
    if checkout is None:
        return WebhookOutcome.IGNORED, "Not a checkout session this service created."

    # Events arrive in any order: act on the session as Stripe has it now.
    session = stripe_gateway.retrieve_checkout_session(
        account=checkout.connected_account_id, session_id=checkout.stripe_session_id
    )
    try:
        with transaction.atomic():
            if reprocess:
                ProcessedStripeEvent.objects.get_or_create(
                    event_id=event["id"], defaults={"delivery": delivery}
                )
            else:
                ProcessedStripeEvent.objects.create(event_id=event["id"], delivery=delivery)
            record_session_state(checkout, session)
    except IntegrityError:
        return WebhookOutcome.DUPLICATE, ""
    return WebhookOutcome.PROCESSED, ""


def _checkout_created_here(session: dict[str, Any], *, account: str | None) -> Checkout | None:
    """The checkout behind ``session``, if this service made it: its metadata names it."""
    checkout_id = (session.get("metadata") or {}).get("checkout_id", "")
    try:
        uuid.UUID(checkout_id)
    except ValueError:
        return None
    return Checkout.objects.filter(
        pk=checkout_id, stripe_session_id=session.get("id"), connected_account_id=account
    ).first()
