"""Writes after a checkout exists: superseding, ending sessions on Stripe, recording payments."""

import enum
import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from articles.money import from_stripe_amount
from checkouts import stripe_gateway
from checkouts.exceptions import StripeGatewayError, StripeRefused
from checkouts.models import Checkout, CheckoutStatus, Payable, StripeExpiry
from checkouts.stripe_gateway import CheckoutSessionSnapshot

logger = logging.getLogger(__name__)


class ExpiryOutcome(enum.StrEnum):
    EXPIRED = "expired"
    ALREADY_COMPLETE = "already complete"
    ALREADY_EXPIRED = "already expired"
    FAILED = "failed"


@dataclass(frozen=True)
class ExpiryResult:
    """What became of one attempt to end a session on Stripe."""

    outcome: ExpiryOutcome
    session: CheckoutSessionSnapshot | None = None
    error: str = ""


def apply_session_snapshot(checkout: Checkout, session: CheckoutSessionSnapshot) -> None:
    """Copy what Stripe says onto ``checkout`` (unsaved), never moving a completed one backwards."""
    if checkout.status != CheckoutStatus.COMPLETE:
        checkout.status = session.status
        checkout.payment_status = session.payment_status
    elif session.status == CheckoutStatus.COMPLETE:
        # An async payment settles after completion: unpaid -> paid.
        checkout.payment_status = session.payment_status
    checkout.url = session.url or ""
    checkout.customer_id = session.customer_id or checkout.customer_id
    checkout.customer_email = session.customer_email or checkout.customer_email
    checkout.payment_intent_id = session.payment_intent_id or checkout.payment_intent_id
    if session.amount_total is not None and checkout.currency:
        checkout.amount_total = from_stripe_amount(session.amount_total, checkout.currency)


def supersede_other_open_checkouts(checkout: Checkout) -> None:
    """Make ``checkout`` its payable's current one; every other open one is superseded by it.

    Runs inside a transaction that holds the payable's row lock. The
    superseded sessions are expired on Stripe only once that transaction
    commits: a rolled-back checkout must not cost the customer their session.
    """
    now = timezone.now()
    Checkout.objects.filter(
        payable_id=checkout.payable_id, status=CheckoutStatus.OPEN, superseded_by__isnull=True
    ).exclude(pk=checkout.pk).update(
        superseded_by=checkout,
        superseded_at=now,
        stripe_expiry=StripeExpiry.PENDING,
        updated_at=now,
    )
    Payable.objects.filter(pk=checkout.payable_id).update(current_checkout=checkout)
    transaction.on_commit(partial(expire_superseded_checkouts, superseded_by=checkout), robust=True)


def expire_superseded_checkouts(*, superseded_by: Checkout) -> None:
    """End on Stripe the sessions ``superseded_by`` replaced; failures stay pending for a retry."""
    for checkout in Checkout.objects.filter(
        superseded_by=superseded_by, stripe_expiry=StripeExpiry.PENDING
    ):
        record_expiry_result(
            checkout,
            end_session_on_stripe(
                account=checkout.connected_account_id, session_id=checkout.stripe_session_id
            ),
        )


def end_session_on_stripe(
    *, account: str, session_id: str, rate_limit_retries: int = 0
) -> ExpiryResult:
    """Expire a session on Stripe and say what became of it. Touches no database row.

    Stripe refuses to expire a session that is no longer open; then the
    session is fetched to learn whether the customer paid or it ran out.
    """
    try:
        session = stripe_gateway.expire_checkout_session(
            account=account, session_id=session_id, rate_limit_retries=rate_limit_retries
        )
        return ExpiryResult(ExpiryOutcome.EXPIRED, session)
    except StripeRefused as refusal:
        try:
            session = stripe_gateway.retrieve_checkout_session(
                account=account, session_id=session_id, rate_limit_retries=rate_limit_retries
            )
        except StripeGatewayError as error:
            return ExpiryResult(ExpiryOutcome.FAILED, error=str(error))
        if session.status == CheckoutStatus.COMPLETE:
            return ExpiryResult(ExpiryOutcome.ALREADY_COMPLETE, session)
        if session.status == CheckoutStatus.EXPIRED:
            return ExpiryResult(ExpiryOutcome.ALREADY_EXPIRED, session)
        return ExpiryResult(ExpiryOutcome.FAILED, session, error=str(refusal))
    except StripeGatewayError as error:
        return ExpiryResult(ExpiryOutcome.FAILED, error=str(error))


def record_expiry_result(checkout: Checkout, result: ExpiryResult) -> Checkout:
    """Store what ending ``checkout``'s session on Stripe achieved.

    A session the customer paid first is recorded as paid, through the same
    path as a webhook, and never dropped.
    """
    if result.outcome == ExpiryOutcome.ALREADY_COMPLETE:
        checkout = record_session_state(checkout, result.session)
        logger.warning(
            "Checkout %s was paid before it could be expired (superseded by %s).",
            checkout.stripe_session_id,
            checkout.superseded_by_id,
        )
        stripe_expiry = StripeExpiry.ALREADY_COMPLETE
    elif result.outcome == ExpiryOutcome.FAILED:
        logger.warning(
            "Could not expire %s on Stripe: %s", checkout.stripe_session_id, result.error
        )
        stripe_expiry = StripeExpiry.PENDING if checkout.stripe_expiry else ""
    else:
        apply_session_snapshot(checkout, result.session)
        stripe_expiry = StripeExpiry.EXPIRED
    checkout.stripe_expiry = stripe_expiry
    checkout.stripe_expiry_attempts += 1
    checkout.stripe_expiry_error = result.error
    checkout.expiry_lease_until = None
    checkout.save(
        update_fields=[
            "status",
            "payment_status",
            "url",
            "customer_id",
            "customer_email",
            "payment_intent_id",
            "amount_total",
            "stripe_expiry",
            "stripe_expiry_attempts",
            "stripe_expiry_error",
            "expiry_lease_until",
            "updated_at",
        ]
    )
    return checkout


def record_session_state(checkout: Checkout, session: CheckoutSessionSnapshot) -> Checkout:
    """Fulfil: record Stripe's view of ``checkout``'s session. Safe to call twice at once.

    Both calls wait on the payable's row lock and apply the same facts; only
    the first to see the payment sets ``paid_at``. A payment closes every
    other open checkout of the payable, so the customer cannot pay twice.
    """
    with transaction.atomic():
        _wait_for_locks_at_most(settings.ROW_LOCK_TIMEOUT_MS)
        Payable.objects.select_for_update().filter(pk=checkout.payable_id).get()
        checkout = Checkout.objects.select_for_update().get(pk=checkout.pk)
        apply_session_snapshot(checkout, session)
        newly_paid = checkout.is_paid and checkout.paid_at is None
        if newly_paid:
            checkout.paid_at = timezone.now()
        checkout.save()
        if newly_paid:
            if checkout.superseded_by_id:
                logger.warning(
                    "Checkout %s was paid after %s superseded it; it is recorded as paid.",
                    checkout.stripe_session_id,
                    checkout.superseded_by_id,
                )
            supersede_other_open_checkouts(checkout)
    return checkout


def refresh_checkout_from_stripe(checkout: Checkout) -> Checkout:
    """Fetch ``checkout``'s session from Stripe and record it (the webhook may not have come)."""
    session = stripe_gateway.retrieve_checkout_session(
        account=checkout.connected_account_id, session_id=checkout.stripe_session_id
    )
    return record_session_state(checkout, session)


def expire_checkout_now(checkout: Checkout) -> ExpiryOutcome:
    """End one open checkout on Stripe at once (staff action), recording what happened."""
    result = end_session_on_stripe(
        account=checkout.connected_account_id, session_id=checkout.stripe_session_id
    )
    record_expiry_result(checkout, result)
    return result.outcome


def _wait_for_locks_at_most(milliseconds: int) -> None:
    """Make a lock wait fail fast (PostgreSQL), so callers can answer "try again" instead of hang.

    SQLite has its own busy timeout, set in the settings.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])
