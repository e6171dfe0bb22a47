"""Delivering Stripe events to the service as Stripe does: signed, to the webhook path."""

from django.conf import settings
from django.test import Client

from stripe_emulator.webhooks import encode_event, sign_payload
from tests.support.api import WEBHOOK_URL


def deliver(
    client: Client,
    event: dict,
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
    path: str = WEBHOOK_URL,
):
    """POST ``event`` signed with ``secret`` (the service's own by default) at ``timestamp``."""
    payload = encode_event(event)
    if signature is None:
        signature = sign_payload(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)
    return client.post(
        path, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
