"""The official SDK pointed at the emulator, and the session parameters its tests send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import stripe

from stripe_emulator import StripeEmulator

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
STRIPE_FIXTURES = REPO_ROOT.parent / "shared" / "stripe" / "fixtures3.json"
SESSIONS = "/v1/checkout/sessions"
NOW = 1_800_000_000
SHOP = "acct_1Shop"


class _ImmediateRetryClient(stripe.RequestsClient):
    """The SDK's own HTTP client, minus its >= 0.5 s retry backoff (not under test here)."""

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0.0


def make_client(
    emulator: StripeEmulator, *, retries: int = 0, timeout: float = 5.0, key: str | None = None
) -> stripe.StripeClient:
    return stripe.StripeClient(
        key or "sk_test_emulator",
        base_addresses={"api": emulator.url},
        max_network_retries=retries,
        http_client=_ImmediateRetryClient(timeout=timeout),
    )


def line_item(**price_data: Any) -> dict[str, Any]:
    return {
        "quantity": 1,
        "price_data": {
            "currency": "sek",
            "unit_amount": 10000,
            "product_data": {"name": "Haircut"},
            **price_data,
        },
    }


def hosted_params(**overrides: Any) -> dict[str, Any]:
    return {
        "mode": "payment",
        "line_items": [line_item()],
        "success_url": "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancel",
        **overrides,
    }


def embedded_params(**overrides: Any) -> dict[str, Any]:
    return {
        "mode": "payment",
        "ui_mode": "embedded_page",
        "line_items": [line_item()],
        "return_url": "https://shop.example/return?session_id={CHECKOUT_SESSION_ID}",
        **overrides,
    }


def create_hosted(client: stripe.StripeClient, account: str | None = SHOP, **params: Any):
    """A hosted session on ``account`` (None: the platform), with ``hosted_params``."""
    options = {"stripe_account": account} if account else None
    return client.v1.checkout.sessions.create(params=hosted_params(**params), options=options)


def paid_session(
    emulator: StripeEmulator, client: stripe.StripeClient, account: str | None = SHOP, **params: Any
) -> dict[str, Any]:
    """A hosted session on ``account``, paid by the customer; the completed session."""
    return emulator.complete_session(create_hosted(client, account, **params).id)


def with_fee(fee: int, **intent_data: Any) -> dict[str, Any]:
    """`payment_intent_data` taking an application fee of ``fee``."""
    return {"application_fee_amount": fee, **intent_data}
