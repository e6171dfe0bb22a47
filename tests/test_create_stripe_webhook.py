"""manage.py create_stripe_webhook: the Connect endpoint Stripe sends this service's events to."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from checkouts.models import Checkout, WebhookDelivery
from checkouts.webhooks import HANDLED_EVENT_TYPES
from tests.support.api import WEBHOOK_URL

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE_URL = "https://pay.example.com/payment/stripe/v1/webhook"


def create_stripe_webhook(url: str) -> str:
    out = io.StringIO()
    call_command("create_stripe_webhook", url, stdout=out)
    return out.getvalue()


def printed_secret(output: str) -> str:
    return re.search(r"Signing secret .*: (whsec_\S+)", output).group(1)


def test_the_endpoint_is_the_platforms_connect_endpoint_for_the_handled_events(stripe_emulator):
    output = create_stripe_webhook(SERVICE_URL)

    (registered,) = stripe_emulator.webhook_endpoints()
    assert registered["account"] is None
    assert registered["connect"] is True
    assert registered["endpoint"]["url"] == SERVICE_URL
    assert sorted(registered["endpoint"]["enabled_events"]) == sorted(HANDLED_EVENT_TYPES)
    assert registered["secret"] == printed_secret(output)
    assert "Set STRIPE_WEBHOOK_SECRET to it" in output


def test_a_payment_then_reaches_the_service_signed_with_the_printed_secret(
    create_checkout, stripe_emulator, live_server, settings
):
    settings.STRIPE_WEBHOOK_SECRET = printed_secret(
        create_stripe_webhook(f"{live_server.url}{WEBHOOK_URL}")
    )
    session_id = create_checkout().json()["SessionId"]

    stripe_emulator.complete_session(session_id)
    (delivery,) = stripe_emulator.drain_webhooks()

    assert delivery.status == 200
    assert WebhookDelivery.objects.get().event_type == "checkout.session.completed"
    checkout = Checkout.objects.get(stripe_session_id=session_id)
    assert (checkout.status, checkout.payment_status) == ("complete", "paid")


def test_a_url_stripe_refuses_fails_with_stripes_reason(stripe_emulator):
    with pytest.raises(CommandError, match="Stripe did not create the endpoint: Not a valid URL"):
        create_stripe_webhook("pay.example.com/webhook")

    assert stripe_emulator.webhook_endpoints() == []
