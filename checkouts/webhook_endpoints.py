"""Telling Stripe where to send this service's webhooks (``manage.py create_stripe_webhook``).

BokaMera's ``CreateStripeWebhook``: one Connect endpoint on the platform's account,
for the events of every connected account that ``webhooks`` acts on.
"""

from checkouts import stripe_gateway
from checkouts.webhooks import HANDLED_EVENT_TYPES

ENDPOINT_DESCRIPTION = "bokacheckout: Checkout Sessions of the companies' connected accounts"


def create_webhook_endpoint(*, url: str) -> stripe_gateway.WebhookEndpointSnapshot:
    """Create a Connect webhook endpoint on Stripe that sends ``url`` every event type in
    ``HANDLED_EVENT_TYPES``, from every connected account.

    The answer carries the endpoint's signing secret, which Stripe never shows again;
    the service verifies deliveries with it as ``STRIPE_WEBHOOK_SECRET``.
    ``StripeGatewayError`` if Stripe refuses (a URL that is not http(s)) or fails.
    """
    return stripe_gateway.create_connect_webhook_endpoint(
        url=url, events=sorted(HANDLED_EVENT_TYPES), description=ENDPOINT_DESCRIPTION
    )
