"""Ending due checkouts on Stripe in bulk: what ``manage.py expire_checkouts`` runs.

Several runs may go at once (cron on several hosts): each claims a batch by
writing a short lease on the rows, under ``SELECT ... FOR UPDATE SKIP LOCKED``
where the database has it (SQLite serialises writers instead). The Stripe calls
happen outside any transaction, and only one batch is in memory at a time.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from checkouts.lifecycle import (
    ExpiryOutcome,
    ExpiryResult,
    end_session_on_stripe,
    record_expiry_result,
)
from checkouts.models import Checkout, CheckoutStatus, StripeExpiry

# Stripe documents 25 requests per second per endpoint; stay under it.
DEFAULT_STRIPE_CALLS_PER_SECOND = 20.0
DEFAULT_BATCH_SIZE = 100
DEFAULT_CONCURRENCY = 4
DEFAULT_RATE_LIMIT_RETRIES = 5
# Long enough for a batch of Stripe calls; a crashed run's rows are free again after it.
CLAIM_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class ExpiryRun:
    """Which checkouts one run ends, and how hard it may push Stripe."""

    now: datetime
    older_than: timedelta | None = None
    company_id: UUID | None = None
    reference: str | None = None
    superseded_by: UUID | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    calls_per_second: float = DEFAULT_STRIPE_CALLS_PER_SECOND
    limit: int | None = None
    rate_limit_retries: int = DEFAULT_RATE_LIMIT_RETRIES


@dataclass
class ExpiryReport:
    counts: Counter = field(default_factory=Counter)

    def add(self, outcome: ExpiryOutcome) -> None:
        self.counts[outcome] += 1

    @property
    def failed(self) -> int:
        return self.counts[ExpiryOutcome.FAILED]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{outcome.value} {self.counts[outcome]}" for outcome in ExpiryOutcome)


def checkouts_due(run: ExpiryRun) -> QuerySet[Checkout]:
    """Checkouts that should end on Stripe now, and that no other run has claimed.

    Superseded ones whose expiry is pending; open ones past ``expires_at``;
    with ``older_than``, open ones created before ``now - older_than``.
    """
    due = Q(stripe_expiry=StripeExpiry.PENDING) | Q(
        status=CheckoutStatus.OPEN, expires_at__lte=run.now
    )
    if run.older_than is not None:
        due |= Q(status=CheckoutStatus.OPEN, created_at__lte=run.now - run.older_than)
    checkouts = Checkout.objects.filter(due).filter(
        Q(expiry_lease_until__isnull=True) | Q(expiry_lease_until__lt=run.now)
    )
    if run.company_id is not None:
        checkouts = checkouts.filter(company_id=run.company_id)
    if run.reference is not None:
        checkouts = checkouts.filter(payable__internal_reference_id=run.reference)
    if run.superseded_by is not None:
        checkouts = checkouts.filter(superseded_by_id=run.superseded_by)
    return checkouts.order_by("created_at", "pk")


def why_due(checkout: Checkout, run: ExpiryRun) -> str:
    if checkout.stripe_expiry == StripeExpiry.PENDING:
        return "superseded"
    if checkout.expires_at <= run.now:
        return "past its expires_at"
    return f"older than {run.older_than}"


def expire_due_checkouts(
    run: ExpiryRun, *, on_result: Callable[[Checkout, ExpiryResult], None] | None = None
) -> ExpiryReport:
    """End every due checkout on Stripe and record each outcome; see the module docstring."""
    report = ExpiryReport()
    limiter = AccountRateLimiter(run.calls_per_second)

    def end(checkout: Checkout) -> ExpiryResult:
        limiter.wait(checkout.connected_account_id)
        return end_session_on_stripe(
            account=checkout.connected_account_id,
            session_id=checkout.stripe_session_id,
            rate_limit_retries=run.rate_limit_retries,
        )

    with ThreadPoolExecutor(max_workers=run.concurrency) as pool:
        for batch in _claimed_batches(run):
            for checkout, result in zip(batch, pool.map(end, batch), strict=True):
                record_expiry_result(checkout, result)
                report.add(result.outcome)
                if on_result is not None:
                    on_result(checkout, result)
    return report


def _claimed_batches(run: ExpiryRun) -> Iterator[list[Checkout]]:
    """Batches in (created_at, pk) order; a run moves past what it handled, even a failure,
    so it ends, and a failure waits for the next run."""
    remaining = run.limit
    after: Checkout | None = None
    while remaining is None or remaining > 0:
        size = run.batch_size if remaining is None else min(run.batch_size, remaining)
        batch = claim_due_checkouts(run, size, after=after)
        if not batch:
            return
        if remaining is not None:
            remaining -= len(batch)
        after = batch[-1]
        yield batch


def claim_due_checkouts(
    run: ExpiryRun, size: int, *, after: Checkout | None = None
) -> list[Checkout]:
    """Lease up to ``size`` due checkouts (those past ``after``) to this run, skipping rows
    another run holds."""
    with transaction.atomic():
        due = checkouts_due(run)
        if after is not None:
            due = due.filter(
                Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, pk__gt=after.pk)
            )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        claimed = list(due.values_list("pk", flat=True)[:size])
        Checkout.objects.filter(pk__in=claimed).update(
            expiry_lease_until=timezone.now() + CLAIM_LEASE
        )
    return list(Checkout.objects.filter(pk__in=claimed).order_by("created_at", "pk"))


class AccountRateLimiter:
    """Spaces calls so that each connected account gets at most ``per_second`` of them.

    Safe to share between threads; a caller waits for its account's next free slot.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, account: str) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(account, now))
            self._next_slot[account] = slot + self._interval
        if slot > now:
            self._sleep(slot - now)
