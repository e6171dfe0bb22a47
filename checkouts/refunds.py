"""Refunds of paid checkouts: asking Stripe for one, and recording what Stripe says.

A refund asked for here is recorded before Stripe is asked, as ``requested``, in a
transaction that holds the payable's row lock and then the checkout's. There, what is
left to refund is worked out: the amount paid, less every refund that holds money
(requested, pending, requires_action, succeeded). Two refunds at once queue on the
lock, so together they never exceed what was paid.

Stripe is asked once that transaction has committed, on the company's connected
account, through the payment intent, with an idempotency key derived from the
refund's id. If the answer is lost, the refund stays ``requested``, still holding its
amount, until it is asked again (``ask_again``): by the client repeating its
Idempotency-Key, or by ``reconcile_checkouts``. That first looks for it among the
payment's refunds on Stripe, then repeats the request with the same key, so it is
made once.

What Stripe says of a refund, whoever made it (this service, the Dashboard), is
recorded by ``record_refunds`` under the same locks, and never goes back: requested,
then pending or requires_action, then succeeded, then failed or canceled. A failed
refund lets its amount go, so it can be refunded again.
"""

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from articles.money import format_money, from_stripe_amount, to_stripe_amount
from bokacheckout.connections import release_pooled_connection
from checkouts import lifecycle, stripe_gateway
from checkouts.exceptions import (
    AmountExceedsRefundable,
    CheckoutNotPaid,
    IdempotencyKeyInUse,
    StripeRefused,
)
from checkouts.idempotency import (
    claim_idempotency_key,
    forget_idempotency_key,
    release_idempotency_key,
    request_fingerprint,
)
from checkouts.models import (
    HOLDING_REFUND_STATUSES,
    MADE_REFUND_STATUSES,
    Checkout,
    ClientIdempotencyKey,
    CompanyApiKey,
    Refund,
    RefundSource,
    RefundStatus,
)
from checkouts.stripe_gateway import RefundSnapshot

logger = logging.getLogger(__name__)

# A refund's status only moves forwards through these steps (equal steps do not replace
# each other). A refused request is at the first step: if Stripe ever shows the refund
# after all, what Stripe says wins.
REFUND_PROGRESS = {
    RefundStatus.REQUESTED: 0,
    RefundStatus.REFUSED: 0,
    RefundStatus.PENDING: 1,
    RefundStatus.REQUIRES_ACTION: 1,
    RefundStatus.SUCCEEDED: 2,
    RefundStatus.FAILED: 3,
    RefundStatus.CANCELED: 3,
}


@dataclass(frozen=True)
class RefundRequester:
    """Who asks for a refund: a company's API key, or a staff user in the admin."""

    source: RefundSource
    api_key: CompanyApiKey | None = None
    user: AbstractBaseUser | None = None

    @classmethod
    def with_api_key(cls, api_key: CompanyApiKey) -> "RefundRequester":
        return cls(RefundSource.API, api_key=api_key)

    @classmethod
    def staff(cls, user: AbstractBaseUser) -> "RefundRequester":
        return cls(RefundSource.ADMIN, user=user)


@dataclass(frozen=True)
class RefundResult:
    """A refund and its checkout as they stand after the request."""

    refund: Refund
    checkout: Checkout
    replayed: bool = False


def refund_checkout(
    *,
    checkout: Checkout,
    requester: RefundRequester,
    amount: int | None = None,
    reason: str = "",
    comments: str = "",
    idempotency_key: str | None = None,
) -> RefundResult:
    """Refund ``amount`` (minor units; None: all that is left) of ``checkout``'s payment.

    ``CheckoutNotPaid`` if it has no payment; ``AmountExceedsRefundable`` past what is
    left. With an ``idempotency_key``, a repeat of the same request gives the first
    refund again (asking Stripe again if its answer was lost) instead of another one.
    """
    request = {"amount": amount, "reason": reason, "comments": comments}
    if idempotency_key is None:
        return _ask_stripe(_hold(checkout, requester, **request))
    claim = claim_idempotency_key(
        company=checkout.company,
        key=idempotency_key,
        fingerprint=request_fingerprint({"refund_of": str(checkout.pk), **request}),
    )
    try:
        if claim.answered:
            return _replay(claim.refund)
        try:
            refund = _hold(checkout, requester, idempotency_claim=claim, **request)
        except BaseException:
            release_idempotency_key(claim)
            raise
        return _ask_stripe(refund)
    except StripeRefused:
        # Stripe made nothing: the client may try again with the same key.
        forget_idempotency_key(claim)
        raise


def _hold(
    checkout: Checkout,
    requester: RefundRequester,
    *,
    amount: int | None,
    reason: str,
    comments: str,
    idempotency_claim: ClientIdempotencyKey | None = None,
) -> Refund:
    """Record the refund as requested, holding its amount, if that much is left to refund."""
    with transaction.atomic():
        _, checkout = lifecycle.lock_payable_and_checkout(checkout)
        if not checkout.is_paid or not checkout.payment_intent_id:
            raise CheckoutNotPaid(
                f"Checkout {checkout.stripe_session_id} is not paid; there is nothing to refund."
            )
        refundable = checkout.amount_total - amount_held_by_refunds(checkout)
        amount = refundable if amount is None else amount
        if refundable <= 0 or amount > refundable:
            raise AmountExceedsRefundable(_exceeds(checkout, amount, refundable))
        refund = Refund.objects.create(
            checkout=checkout,
            currency=checkout.currency,
            amount=amount,
            status=RefundStatus.REQUESTED,
            reason=reason,
            comments=comments,
            source=requester.source,
            requested_by_api_key=requester.api_key,
            requested_by_user=requester.user,
            refund_application_fee=_refunds_the_fee(checkout),
            stripe_asked_at=timezone.now(),
        )
        if idempotency_claim is not None:
            ClientIdempotencyKey.objects.filter(pk=idempotency_claim.pk).update(refund=refund)
    return refund


def amount_held_by_refunds(checkout: Checkout) -> int:
    """What ``checkout``'s refunds take, or may take, off its payment."""
    return _sum_of_refunds(checkout, HOLDING_REFUND_STATUSES)


def _sum_of_refunds(checkout: Checkout, statuses: Iterable[str]) -> int:
    refunds = Refund.objects.filter(checkout=checkout, status__in=statuses)
    return refunds.aggregate(total=Sum("amount"))["total"] or 0


def _exceeds(checkout: Checkout, amount: int, refundable: int) -> str:
    if refundable <= 0:
        paid = format_money(checkout.amount_total, checkout.currency)
        return f"Nothing is left to refund: all {paid} is refunded or being refunded."
    return (
        f"Amount {format_money(amount, checkout.currency)} is more than the "
        f"{format_money(refundable, checkout.currency)} left to refund."
    )


def _refunds_the_fee(checkout: Checkout) -> bool:
    """Whether a refund also gives back the platform's fee: only if one was taken, and the
    company says so."""
    stripe_settings = getattr(checkout.company, "stripe_settings", None)
    return bool(checkout.application_fee_amount) and bool(
        stripe_settings and stripe_settings.refund_application_fee
    )


def _ask_stripe(refund: Refund) -> RefundResult:
    """Send the refund to Stripe and record the answer; a refusal is recorded too. When
    Stripe cannot be reached, the refund stays requested and the error goes up."""
    checkout = refund.checkout
    release_pooled_connection()
    try:
        made = stripe_gateway.create_refund(
            account=checkout.connected_account_id,
            params=_stripe_params(refund, checkout),
            idempotency_key=refund.stripe_idempotency_key,
        )
    except StripeRefused as refusal:
        _record_refusal(refund, str(refusal))
        raise
    checkout = record_refunds(checkout, [made])
    return RefundResult(Refund.objects.get(pk=refund.pk), checkout)


def _stripe_params(refund: Refund, checkout: Checkout) -> dict[str, Any]:
    """The request, from the stored refund alone: asked again, it is the same request."""
    params: dict[str, Any] = {
        "payment_intent": checkout.payment_intent_id,
        "amount": to_stripe_amount(refund.amount, refund.currency),
        "metadata": {
            "refund_id": str(refund.pk),
            "checkout_id": str(checkout.pk),
            "company_id": str(checkout.company_id),
        },
    }
    if refund.reason:
        params["reason"] = refund.reason
    if checkout.application_fee_amount:
        params["refund_application_fee"] = refund.refund_application_fee
    return params


def _record_refusal(refund: Refund, message: str) -> None:
    with transaction.atomic():
        lifecycle.lock_payable_and_checkout(refund.checkout)
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
            status=RefundStatus.REFUSED, error=message, updated_at=timezone.now()
        )


def _replay(refund: Refund) -> RefundResult:
    """The first request's refund again; if its answer was lost, Stripe is asked again."""
    if refund.status == RefundStatus.REFUSED:
        raise StripeRefused(refund.error)
    if refund.status == RefundStatus.REQUESTED:
        refund = ask_again(refund)
        if refund is None:
            raise IdempotencyKeyInUse(
                "A request with this Idempotency-Key is still being processed; retry shortly."
            )
    return RefundResult(refund, Checkout.objects.get(pk=refund.checkout_id), replayed=True)


def ask_again(refund: Refund) -> Refund | None:
    """Ask Stripe again for a refund whose answer was lost, and record what it says.

    It is first looked for on Stripe (by the ``refund_id`` in its metadata), then asked
    for with the same idempotency key (``StripeRefused`` if Stripe refuses it, which is
    recorded). None while the first request may still be in flight (for
    ``REFUND_IN_FLIGHT_GRACE``); a refund no longer requested is returned as it is.
    """
    refund, in_flight = _take_for_asking_again(refund)
    if refund.status != RefundStatus.REQUESTED:
        return refund
    if in_flight:
        return None
    made = _find_on_stripe(refund)
    if made is not None:
        record_refunds(refund.checkout, [made])
        return Refund.objects.get(pk=refund.pk)
    return _ask_stripe(refund).refund


def _take_for_asking_again(refund: Refund) -> tuple[Refund, bool]:
    """The refund afresh, and whether it may still be in flight; if not, it is marked as
    asked now, so that two callers never ask at once."""
    with transaction.atomic():
        lifecycle.lock_payable_and_checkout(refund.checkout)
        refund = Refund.objects.select_related("checkout").get(pk=refund.pk)
        now = timezone.now()
        asked = refund.stripe_asked_at
        if refund.status != RefundStatus.REQUESTED:
            return refund, False
        if asked is not None and asked > now - settings.REFUND_IN_FLIGHT_GRACE:
            return refund, True
        refund.stripe_asked_at = now
        refund.save(update_fields=["stripe_asked_at", "updated_at"])
        return refund, False


def _find_on_stripe(refund: Refund) -> RefundSnapshot | None:
    checkout = refund.checkout
    made_on_stripe = stripe_gateway.list_refunds(
        account=checkout.connected_account_id, payment_intent_id=checkout.payment_intent_id
    )
    return next(
        (made for made in made_on_stripe if made.metadata.get("refund_id") == str(refund.pk)),
        None,
    )


def requested_refunds_to_ask_again(account: str) -> Iterable[Refund]:
    """``account``'s refunds still waiting for an answer from Stripe that can no longer be
    in flight."""
    return Refund.objects.filter(
        checkout__connected_account_id=account,
        status=RefundStatus.REQUESTED,
        stripe_asked_at__lte=timezone.now() - settings.REFUND_IN_FLIGHT_GRACE,
    ).select_related("checkout")


# --- what Stripe says -----------------------------------------------------------------


def record_refunds(checkout: Checkout, refunds: list[RefundSnapshot]) -> Checkout:
    """Record what Stripe says of ``checkout``'s refunds (fetched beforehand: no Stripe call
    happens here). Safe to call twice at once: both wait on the payable's lock, then the
    checkout's, re-read the refunds, and apply only what moves them forwards."""
    with transaction.atomic():
        _, checkout = lifecycle.lock_payable_and_checkout(checkout)
        for made in refunds:
            _apply_refund_snapshot(checkout, made)
        checkout.amount_refunded = _sum_of_refunds(checkout, MADE_REFUND_STATUSES)
        checkout.save(update_fields=["amount_refunded", "updated_at"])
    return checkout


def _apply_refund_snapshot(checkout: Checkout, made: RefundSnapshot) -> None:
    if made.payment_intent_id != checkout.payment_intent_id:
        logger.error("Refund %s is not of %s's payment; ignored.", made.id, checkout)
        return
    refund = _stored_refund(checkout, made)
    if refund is None:
        # Made on Stripe, not asked for here (the Dashboard).
        refund = Refund(
            checkout=checkout,
            amount=from_stripe_amount(made.amount, checkout.currency),
            currency=checkout.currency,
            status=RefundStatus.REQUESTED,
            reason=made.reason or "",
            source=RefundSource.STRIPE,
        )
    status = RefundStatus(made.status) if made.status in RefundStatus.values else None
    if status is None:
        logger.warning("Refund %s has a status unknown here: %s", made.id, made.status)
    elif REFUND_PROGRESS[status] > REFUND_PROGRESS[RefundStatus(refund.status)]:
        refund.status = status
    refund.stripe_refund_id = made.id
    refund.failure_reason = made.failure_reason or refund.failure_reason
    refund.save()


def _stored_refund(checkout: Checkout, made: RefundSnapshot) -> Refund | None:
    """The refund row ``made`` is: by its Stripe id, or, for a request whose answer was
    lost, by the ``refund_id`` this service put in its metadata."""
    by_stripe_id = Refund.objects.filter(checkout=checkout, stripe_refund_id=made.id).first()
    if by_stripe_id is not None:
        return by_stripe_id
    try:
        asked_here = uuid.UUID(made.metadata.get("refund_id", ""))
    except ValueError:
        return None
    return Refund.objects.filter(
        pk=asked_here, checkout=checkout, stripe_refund_id__isnull=True
    ).first()


def refresh_refunds_from_stripe(checkout: Checkout) -> Checkout:
    """Fetch every refund of ``checkout``'s payment from Stripe and record them."""
    if not checkout.payment_intent_id:
        return checkout
    made = list(
        stripe_gateway.list_refunds(
            account=checkout.connected_account_id, payment_intent_id=checkout.payment_intent_id
        )
    )
    return record_refunds(checkout, made)
