"""A Stripe API emulator (Checkout Sessions) for tests and local development.

from checkouts.emulator import StripeEmulator

with StripeEmulator() as emulator:
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.url})
"""

from .errors import ApiError
from .faults import Fault
from .server import StripeEmulator
from .store import RecordedRequest

__all__ = ["ApiError", "Fault", "RecordedRequest", "StripeEmulator"]
