"""A Stripe API emulator (Checkout Sessions) for tests and local development.

from stripe_emulator import StripeEmulator

with StripeEmulator() as emulator:
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.url})
    session = client.v1.checkout.sessions.create(params=...)
    emulator.configure_webhook("http://127.0.0.1:8000/webhooks/stripe", "whsec_...")
    emulator.complete_session(session.id)      # or: the customer pays at session.url
    emulator.drain_webhooks()                  # checkout.session.completed was delivered

Modules: `server` (StripeEmulator, HTTP), `faults` (injected failures and hold
gates), `api`/`routes`/`checkout`/`event_api`/`webhook_endpoint_api` (the
Stripe API), `lifecycle` (session state changes and their events), `expiry`
(sessions expiring by themselves), `events` (event objects), `endpoints`
(which webhook endpoints get which events), `webhooks` (signing and
delivery), `pages`/`templates`/`embedded_js` (the customer's browser side),
`control` (the `/_emulator/` control API).
"""

from .errors import ApiError
from .faults import Fault
from .lifecycle import SessionStateError
from .server import StripeEmulator
from .store import RecordedRequest
from .webhooks import DeliveryRecord, WebhookEndpoint, sign_payload

__all__ = [
    "ApiError",
    "DeliveryRecord",
    "Fault",
    "RecordedRequest",
    "SessionStateError",
    "StripeEmulator",
    "WebhookEndpoint",
    "sign_payload",
]
