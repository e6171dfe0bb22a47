"""A Stripe API emulator (Checkout Sessions) for tests and local development.

from stripe_emulator import StripeEmulator

with StripeEmulator() as emulator:
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.url})
    session = client.v1.checkout.sessions.create(params=...)
    emulator.configure_webhook("http://127.0.0.1:8000/webhooks/stripe", "whsec_...")
    emulator.complete_session(session.id)      # or: the customer pays at session.url
    emulator.drain_webhooks()                  # checkout.session.completed was delivered

    refund = client.v1.refunds.create(params={"payment_intent": ...}, options=...)
    emulator.fail_refund(refund.id)            # Stripe says later that it failed

Modules: `server` (StripeEmulator, HTTP), `faults` (injected failures and hold
gates), `api`/`routes`/`checkout`/`event_api`/`webhook_endpoint_api`/
`payment_intent_api`/`refund_api` (the Stripe API), `rules`/`payment_methods`
(Checkout Session create rules), `lifecycle` (session state changes and their
events), `payments` (a paid session's intent, charge and fee), `refunds`
(refund rules, states and events), `payment_controls` (what tests do to
payments and refunds), `expiry` (sessions expiring by themselves), `events`
(event objects), `endpoints` (which webhook endpoints get which events),
`webhooks` (signing and delivery), `pages`/`templates`/`embedded_js` (the
customer's browser side), `control`/`control_payments` (the `/_emulator/`
control API), `state_file` (the state kept across restarts).
"""

from .errors import ApiError
from .faults import Fault
from .lifecycle import SessionStateError
from .refunds import RefundStateError
from .server import StripeEmulator
from .store import RecordedRequest
from .webhooks import DeliveryRecord, WebhookEndpoint, sign_payload

__all__ = [
    "ApiError",
    "DeliveryRecord",
    "Fault",
    "RecordedRequest",
    "RefundStateError",
    "SessionStateError",
    "StripeEmulator",
    "WebhookEndpoint",
    "sign_payload",
]
