import pytest
import stripe

from tests.support.stripe_sdk import make_client


@pytest.fixture
def client(stripe_emulator) -> stripe.StripeClient:
    """The SDK, talking to the emulator."""
    return make_client(stripe_emulator)
