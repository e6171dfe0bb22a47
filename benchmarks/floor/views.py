"""The floor's one view: parse, one Stripe call, one INSERT, answer."""

import time
import uuid

import stripe
from django.conf import settings
from rest_framework.response import Response
from rest_framework.views import APIView

from benchmarks.floor.models import FloorCheckout
from checkouts.stripe_gateway import CurlClient

# What the project would read from its catalogue, fixed here.
UNIT_AMOUNT = 45000
CHECKOUT_LIFETIME_SECONDS = 60 * 60

# Configured as checkouts/stripe_gateway.py configures the project's client, with the same
# HTTP client: the floor's Stripe call costs what the project's does.
client = stripe.StripeClient(
    settings.STRIPE_SECRET_KEY,
    base_addresses={"api": settings.STRIPE_API_BASE},
    max_network_retries=1,
    http_client=CurlClient(timeout=8.0, api_base=settings.STRIPE_API_BASE),
)


class FloorCreateView(APIView):
    def post(self, request, format=None):
        body = request.data
        checkout_id = uuid.uuid4()
        reference = body["InternalReferenceId"]
        metadata = {
            "company_id": body["CompanyId"],
            "internal_reference_id": reference,
            "checkout_id": str(checkout_id),
        }
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "ui_mode": "hosted_page",
                "line_items": [
                    {
                        "quantity": article.get("Quantity", 1),
                        "price_data": {
                            "currency": "sek",
                            "unit_amount": UNIT_AMOUNT,
                            "product_data": {
                                "name": "Haircut, 45 minutes",
                                "metadata": {
                                    "article_type_id": str(article["ArticleTypeId"]),
                                    "article_id": str(article["ArticleId"]),
                                },
                            },
                        },
                    }
                    for article in body["Articles"]
                ],
                "client_reference_id": reference,
                "metadata": metadata,
                "payment_intent_data": {"metadata": metadata},
                "expires_at": int(time.time()) + CHECKOUT_LIFETIME_SECONDS,
                "locale": "sv",
                "success_url": "http://127.0.0.1/done?session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": "http://127.0.0.1/cancel",
            },
            options={
                "stripe_account": settings.STRIPE_CONNECTED_ACCOUNT,
                "idempotency_key": f"floor-{checkout_id}",
            },
        )
        FloorCheckout.objects.create(
            id=checkout_id,
            stripe_session_id=session.id,
            internal_reference_id=reference,
            amount_total=session.amount_total,
        )
        return Response(
            {
                "SessionId": session.id,
                "Url": session.url,
                "Status": session.status,
                "StripeAccount": settings.STRIPE_CONNECTED_ACCOUNT,
            }
        )
