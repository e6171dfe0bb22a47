"""What a test can see of payments and refunds, and what it can make happen to refunds.

`PaymentControls` is mixed into `StripeEmulator`: copies of the payment
intents, charges, application fees and refunds the emulator holds, whichever
account owns them, and the things Stripe does without an API call from the
product: a refund made in the Dashboard, refunds that stay `pending` for a
while, and a refund that fails later (see `refunds` for the events).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import refunds
from .metadata import check_metadata
from .store import Store

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


class PaymentControls:
    store: Store
    now: Callable[[], float]

    # --- inspection -----------------------------------------------------------------

    def payment_intent(self, intent_id: str) -> dict[str, Any]:
        """A copy of a payment intent, whichever account owns it (KeyError if none)."""
        return self.store.object_snapshot("payment_intent", intent_id).object

    def charge(self, charge_id: str) -> dict[str, Any]:
        """A copy of a charge, whichever account owns it (KeyError if none)."""
        return self.store.object_snapshot("charge", charge_id).object

    def application_fee(self, fee_id: str) -> dict[str, Any]:
        """A copy of one of the platform's application fees (KeyError if none)."""
        return self.store.object_snapshot("application_fee", fee_id).object

    def refund(self, refund_id: str) -> dict[str, Any]:
        """A copy of a refund, whichever account owns it (KeyError if none)."""
        return self.store.object_snapshot("refund", refund_id).object

    def refunds(self, payment_intent: str | None = None) -> list[dict[str, Any]]:
        """Copies of every refund (of `payment_intent`, if given), oldest first."""
        return [
            stored.object
            for stored in self.store.all_objects("refund")
            if payment_intent in (None, stored.object["payment_intent"])
        ]

    # --- what Stripe does without the product asking ------------------------------------

    def refund_from_dashboard(
        self,
        payment_intent: str,
        amount: int | None = None,
        *,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Someone refunds `amount` (default: all that is left) of the intent in the Dashboard.

        Stripe's rules and events as for `POST /v1/refunds`, but no API request
        is recorded and the events name none. Returns a copy of the refund.
        KeyError if the intent is unknown; `ApiError` where Stripe would refuse.
        """
        if reason is not None and reason not in REFUND_REASONS:
            raise ValueError(f"reason must be one of {', '.join(REFUND_REASONS)}")
        if amount is not None and amount < 1:
            raise ValueError("amount must be a positive integer")
        check_metadata(metadata, "metadata")
        with self.store.lock:
            intent = self.store.any_object("payment_intent", payment_intent)
            if intent is None:
                raise KeyError(payment_intent)
            charge = refunds.charge_to_refund(
                self.store, intent.account, payment_intent=payment_intent
            )
            refund = refunds.create(
                self.store,
                charge,
                now=int(self.now()),
                amount=amount,
                reason=reason,
                metadata=metadata,
            )
            return self.refund(refund["id"])

    def refunds_start_pending(self, times: int | None = 1) -> None:
        """The next `times` refunds (None: every one until reset; 0: none) start `pending`,
        until `settle_refund` or `fail_refund`."""
        self.store.start_refunds_pending(times)

    def settle_refund(self, refund_id: str) -> dict[str, Any]:
        """A pending refund succeeds (`refund.updated`); a copy. KeyError if unknown,
        `refunds.RefundStateError` (a ValueError) if it is not pending."""
        refunds.settle(self.store, refund_id, now=int(self.now()))
        return self.refund(refund_id)

    def fail_refund(self, refund_id: str, failure_reason: str = "unknown") -> dict[str, Any]:
        """A pending or succeeded refund fails: `failure_reason`, the charge's
        `amount_refunded` back down, `refund.failed` and `refund.updated`; a copy.
        KeyError if unknown, ValueError if it cannot fail (or an unknown reason)."""
        refunds.fail(self.store, refund_id, now=int(self.now()), failure_reason=failure_reason)
        return self.refund(refund_id)
