"""Writes after a checkout exists: superseding, ending sessions on Stripe, recording payments.

Every write that follows a Stripe call re-reads its rows under the payable's
lock, then the checkout's, and applies only what that call taught. A recorded
fact never goes back: a complete checkout stays complete, ``paid_at`` set means
paid, and a payment intent, customer or email once known is never blanked.
"""

import enum
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from articles.money import from_stripe_amount
from bokacheckout.connections import release_pooled_connection
from checkouts import stripe_gateway
from checkouts.exceptions import StripeGatewayError, StripeRefused
from checkouts.models import (
    PAID_PAYMENT_STATUSES,
    Checkout,
    CheckoutStatus,
    Payable,
    PaymentStatus,
    StripeExpiry,
)
from checkouts.stripe_gateway import CheckoutSessionSnapshot

logger = logging.getLogger(__name__)

# A session only moves forwards: open -> expired or complete, and expired -> complete
# (a payment is never dropped, whatever order Stripe's answers arrive in).
STATUS_PROGRESS = {CheckoutStatus.OPEN: 0, CheckoutStatus.EXPIRED: 1, CheckoutStatus.COMPLETE: 2}
# The fields a Stripe answer can change, and the ones expiry bookkeeping keeps.
SESSION_FIELDS = [
    "status",
    "payment_status",
    "url",
    "customer_id",
    "customer_email",
    "payment_intent_id",
    "amount_total",
    "paid_at",
]
EXPIRY_FIELDS = ["stripe_expiry", "stripe_expiry_attempts", "stripe_expiry_error"]


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
    """Copy what Stripe says onto ``checkout`` (unsaved), never moving a recorded fact back."""
    if STATUS_PROGRESS[CheckoutStatus(session.status)] > STATUS_PROGRESS[checkout.status]:
        checkout.status = session.status
    if checkout.payment_status not in PAID_PAYMENT_STATUSES:
        # An async payment settles after completion: unpaid -> paid, never back.
        checkout.payment_status = session.payment_status or PaymentStatus.UNPAID
    checkout.url = (session.url or "") if checkout.status == CheckoutStatus.OPEN else ""
    checkout.customer_id = session.customer_id or checkout.customer_id
    checkout.customer_email = session.customer_email or checkout.customer_email
    checkout.payment_intent_id = session.payment_intent_id or checkout.payment_intent_id
    if session.amount_total is not None and checkout.currency:
        checkout.amount_total = from_stripe_amount(session.amount_total, checkout.currency)


def make_current(checkout: Checkout) -> None:
    """Point ``checkout``'s payable at it (unless it already does) and supersede the
    payable's other open checkouts.

    ``IntegrityError`` if the payable is paid: the database keeps a paid
    payable on its paid checkout.
    """
    if checkout.payable.current_checkout_id != checkout.pk:
        Payable.objects.filter(pk=checkout.payable_id).update(current_checkout=checkout.pk)
    supersede_open_checkouts(payable_id=checkout.payable_id, superseded_by_id=checkout.pk)


def supersede_open_checkouts(*, payable_id: int, superseded_by_id) -> int:
    """Mark the payable's open checkouts (but ``superseded_by_id``) superseded by it.

    Runs inside the transaction that holds the payable's lock. Their sessions
    are ended on Stripe by a background task enqueued only once that
    transaction commits: a rolled-back checkout must not cost the customer
    their session.
    """
    now = timezone.now()
    superseded = (
        Checkout.objects.filter(
            payable_id=payable_id, status=CheckoutStatus.OPEN, superseded_by__isnull=True
        )
        .exclude(pk=superseded_by_id)
        .update(
            superseded_by_id=superseded_by_id,
            superseded_at=now,
            stripe_expiry=StripeExpiry.PENDING,
            updated_at=now,
        )
    )
    if superseded:
        enqueue_expiry_on_commit(superseded_by_id)
    return superseded


def enqueue_expiry_on_commit(superseded_by_id) -> None:
    """Once the transaction commits, have a worker end what ``superseded_by_id`` replaced."""
    from checkouts.tasks import expire_superseded_checkouts

    transaction.on_commit(
        partial(expire_superseded_checkouts.enqueue, superseded_by=str(superseded_by_id)),
        robust=True,
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


def record_expiry_result(checkout: Checkout, result: ExpiryResult) -> None:
    """Store what ending ``checkout``'s session on Stripe taught, and nothing else."""
    record_expiry_results([(checkout, result)])


def record_expiry_results(results: Sequence[tuple[Checkout, ExpiryResult]]) -> None:
    """Store what ending each checkout's session on Stripe taught, and nothing else.

    A failure touches only the expiry bookkeeping, whatever ``checkout`` (a
    copy read before the Stripe call) says: a payment recorded meanwhile
    stays. A session the customer paid first is recorded as paid, through
    the same path as a webhook, and never dropped.
    """
    unpaid = []
    for checkout, result in results:
        if result.outcome == ExpiryOutcome.FAILED:
            logger.warning(
                "Could not expire %s on Stripe: %s", checkout.stripe_session_id, result.error
            )
        # A payment needs a complete session; an expired one records none.
        if (
            result.outcome == ExpiryOutcome.FAILED
            or result.session.status == CheckoutStatus.EXPIRED
        ):
            unpaid.append((checkout, result))
            continue
        if result.outcome == ExpiryOutcome.ALREADY_COMPLETE:
            logger.warning(
                "Checkout %s was paid before it could be expired (superseded by %s).",
                checkout.stripe_session_id,
                checkout.superseded_by_id,
            )
        expiry = (
            StripeExpiry.ALREADY_COMPLETE
            if result.outcome == ExpiryOutcome.ALREADY_COMPLETE
            else StripeExpiry.EXPIRED
        )
        record_session_state(checkout, result.session, stripe_expiry=expiry)
    if unpaid:
        _record_unpaid_expiries(unpaid)


def _record_unpaid_expiries(results: Sequence[tuple[Checkout, ExpiryResult]]) -> None:
    """Record failures and sessions Stripe ended unpaid, many in one transaction.

    ``expire_checkouts`` ends hundreds of sessions a second, so recording them one
    at a time (five statements each) would cost more than the Stripe calls. Here
    the rows are re-read under their payables' locks, which every write of a
    checkout takes first, and what each outcome changes is written with one UPDATE
    per distinct change: usually one for the whole batch. None of these outcomes
    is a payment, so none needs ``_record_payment``.
    """
    with transaction.atomic():
        _wait_for_locks_at_most(settings.ROW_LOCK_TIMEOUT_MS)
        payable_ids = sorted({checkout.payable_id for checkout, _ in results})
        list(
            Payable.objects.select_for_update()
            .filter(pk__in=payable_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        rows = Checkout.objects.filter(pk__in=[checkout.pk for checkout, _ in results])
        fresh = rows.only(*SESSION_FIELDS, "currency").in_bulk()
        changed_together = defaultdict(list)
        for checkout, result in results:
            changed_together[_expiry_changes(fresh[checkout.pk], result)].append(checkout.pk)
        now = timezone.now()
        for changes, checkout_ids in changed_together.items():
            Checkout.objects.filter(pk__in=checkout_ids).update(
                **dict(changes),
                stripe_expiry_attempts=F("stripe_expiry_attempts") + 1,
                expiry_lease_until=None,
                updated_at=now,
            )


def _expiry_changes(checkout: Checkout, result: ExpiryResult) -> tuple[tuple[str, Any], ...]:
    """The fields ``result`` changes on ``checkout`` (read under its payable's lock), and
    their values."""
    if result.outcome == ExpiryOutcome.FAILED:
        return (("stripe_expiry_error", result.error),)
    before = [getattr(checkout, name) for name in SESSION_FIELDS]
    apply_session_snapshot(checkout, result.session)
    changed = tuple(
        (name, getattr(checkout, name))
        for name, value in zip(SESSION_FIELDS, before, strict=True)
        if getattr(checkout, name) != value
    )
    return (*changed, ("stripe_expiry", StripeExpiry.EXPIRED), ("stripe_expiry_error", ""))


def record_session_state(
    checkout: Checkout,
    session: CheckoutSessionSnapshot,
    *,
    stripe_expiry: StripeExpiry | None = None,
) -> Checkout:
    """Fulfil: record Stripe's view of ``checkout``'s session. Safe to call twice at once.

    Both calls wait on the payable's row lock, re-read the checkout, and
    apply the same facts; only the first to see the payment sets
    ``paid_at``. The payable's first payment becomes its paid and current
    checkout, and closes every other open checkout of it, so the customer
    cannot pay twice. ``stripe_expiry`` also records the outcome of an
    expire call that taught this.
    """
    with transaction.atomic():
        payable, checkout = lock_payable_and_checkout(checkout)
        apply_session_snapshot(checkout, session)
        newly_paid = checkout.is_paid and checkout.paid_at is None
        if newly_paid:
            checkout.paid_at = timezone.now()
        update_fields = [*SESSION_FIELDS, "updated_at"]
        if stripe_expiry is not None:
            checkout.stripe_expiry = stripe_expiry
            checkout.stripe_expiry_attempts += 1
            checkout.stripe_expiry_error = ""
            checkout.expiry_lease_until = None
            update_fields += [*EXPIRY_FIELDS, "expiry_lease_until"]
        checkout.save(update_fields=update_fields)
        if newly_paid:
            _record_payment(payable, checkout)
    return checkout


def lock_payable_and_checkout(checkout: Checkout) -> tuple[Payable, Checkout]:
    """Inside a transaction: take the payable's row lock, then the checkout's (the order
    every write keeps), and read both afresh. On PostgreSQL a lock held elsewhere is waited
    for at most ``ROW_LOCK_TIMEOUT_MS``, then ``OperationalError``: "try again later"."""
    _wait_for_locks_at_most(settings.ROW_LOCK_TIMEOUT_MS)
    payable = Payable.objects.select_for_update().get(pk=checkout.payable_id)
    return payable, Checkout.objects.select_for_update().get(pk=checkout.pk)


def _record_payment(payable: Payable, checkout: Checkout) -> None:
    if checkout.superseded_by_id:
        logger.warning(
            "Checkout %s was paid after %s superseded it; it is recorded as paid.",
            checkout.stripe_session_id,
            checkout.superseded_by_id,
        )
    if payable.paid_checkout_id is not None:
        # The customer paid twice; both payments are kept, and staff see the second.
        logger.error(
            "Payable %s was paid again by %s; its first payment was %s.",
            payable.internal_reference_id,
            checkout.stripe_session_id,
            payable.paid_checkout_id,
        )
        return
    payable.paid_checkout = checkout
    payable.current_checkout = checkout
    payable.save(update_fields=["paid_checkout", "current_checkout"])
    supersede_open_checkouts(payable_id=payable.pk, superseded_by_id=checkout.pk)


def refresh_checkout_from_stripe(checkout: Checkout) -> Checkout:
    """Fetch ``checkout``'s session from Stripe and record it (the webhook may not have come)."""
    release_pooled_connection()
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
