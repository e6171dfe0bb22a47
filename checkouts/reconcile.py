"""Finding on Stripe what the service missed: what ``manage.py reconcile_checkouts`` runs.

Webhooks can all be lost, and a create's answer from Stripe can be lost after
Stripe made the session. So a run lists, for each connected account, the
Checkout Sessions created in a window, and for each session this service made
(its metadata names a ``checkout_id`` and the account's company):
- a known checkout whose state differs is recorded, through the same function
  as a webhook, so a missed payment is recorded;
- an open session the service never stored is ended on Stripe: its create
  failed after Stripe did the work, so nobody was ever handed it. Sessions
  younger than ``grace`` are left alone, since their create may still be storing
  them.
Sessions the company made some other way are not touched.

Then it lists the account's refunds created in the window and records those of this
service's payments whose webhooks were lost (refunds made in the Dashboard too), and
asks Stripe again for the refunds asked here whose answer was lost
(``refunds.ask_again``).

Each account is listed a page at a time, its Stripe calls spaced by the
per-account rate limiter, and only one page is in memory per thread. Several
runs may go at once (cron on several hosts): an account is leased through the
cache while a run lists it; without a shared cache, two runs only repeat
idempotent work.
"""

import enum
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.db import close_old_connections

from articles.models import StripeCheckoutSettings
from bokacheckout.connections import release_pooled_connection
from checkouts import stripe_gateway
from checkouts.exceptions import StripeGatewayError, StripeRefused
from checkouts.expiry import DEFAULT_RATE_LIMIT_RETRIES, DEFAULT_STRIPE_CALLS_PER_SECOND
from checkouts.lifecycle import ExpiryOutcome, end_session_on_stripe, record_session_state
from checkouts.models import Checkout, CheckoutStatus, Refund
from checkouts.rate_limit import AccountRateLimiter
from checkouts.refunds import ask_again, record_refunds, requested_refunds_to_ask_again
from checkouts.stripe_gateway import CheckoutSessionSnapshot, RefundSnapshot

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 4
DEFAULT_PAGE_SIZE = 100  # Stripe's largest page
ACCOUNT_LEASE = timedelta(minutes=15)


class ReconcileOutcome(enum.StrEnum):
    RECORDED = "recorded"
    IN_STEP = "in step"
    ENDED_UNKNOWN = "ended unknown"
    UNKNOWN_PAID = "unknown paid"
    REFUND_RECORDED = "refunds recorded"
    REFUND_ASKED_AGAIN = "refunds asked again"
    FAILED = "failed"


@dataclass(frozen=True)
class ReconcileRun:
    """Which sessions one run looks at, and how hard it may push Stripe."""

    now: datetime
    since: datetime
    grace: timedelta
    company_id: UUID | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    calls_per_second: float = DEFAULT_STRIPE_CALLS_PER_SECOND
    rate_limit_retries: int = DEFAULT_RATE_LIMIT_RETRIES
    page_size: int = DEFAULT_PAGE_SIZE
    dry_run: bool = False


@dataclass
class ReconcileReport:
    """What a run did; threads of the run add to it."""

    counts: Counter = field(default_factory=Counter)
    accounts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: ReconcileOutcome) -> None:
        with self._lock:
            self.counts[outcome] += 1

    def add_account(self) -> None:
        with self._lock:
            self.accounts += 1

    @property
    def needs_attention(self) -> int:
        return self.counts[ReconcileOutcome.FAILED] + self.counts[ReconcileOutcome.UNKNOWN_PAID]

    def summary(self) -> str:
        outcomes = ", ".join(f"{outcome} {self.counts[outcome]}" for outcome in ReconcileOutcome)
        return f"{self.accounts} account(s): {outcomes}"


def reconcile_checkouts(
    run: ReconcileRun,
    *,
    on_result: Callable[[CheckoutSessionSnapshot, ReconcileOutcome], None] | None = None,
) -> ReconcileReport:
    """Reconcile every account's sessions of the window; see the module docstring."""
    report = ReconcileReport()
    limiter = AccountRateLimiter(run.calls_per_second)

    def reconcile_account(account: str) -> None:
        try:
            if not _lease(account, run):
                return
            report.add_account()
            try:
                for session, outcome in _reconcile_sessions_of(account, run, limiter):
                    report.add(outcome)
                    if on_result is not None:
                        on_result(session, outcome)
                for outcome in _reconcile_refunds_of(account, run, limiter):
                    report.add(outcome)
            except StripeGatewayError as error:
                logger.warning("Could not list the sessions of %s: %s", account, error)
                report.add(ReconcileOutcome.FAILED)
            finally:
                cache.delete(_lease_key(account))
        finally:
            close_old_connections()

    accounts = list(accounts_to_reconcile(run))
    release_pooled_connection()  # for the threads, while this one waits on them
    with ThreadPoolExecutor(max_workers=run.concurrency) as pool:
        list(pool.map(reconcile_account, accounts))
    return report


def _before_a_stripe_call(account: str, limiter: AccountRateLimiter) -> None:
    """Give the thread's pooled connection back, and wait for the account's rate: the
    threads (4 by default) then share a pool smaller than they are (3 by default)."""
    release_pooled_connection()
    limiter.wait(account)


def accounts_to_reconcile(run: ReconcileRun) -> Iterator[str]:
    """Connected accounts of enabled companies, and of every checkout made in the window."""
    enabled = StripeCheckoutSettings.objects.filter(enabled=True)
    recent = Checkout.objects.filter(created_at__gte=run.since)
    if run.company_id is not None:
        enabled = enabled.filter(company_id=run.company_id)
        recent = recent.filter(company_id=run.company_id)
    accounts = set(enabled.values_list("connected_account_id", flat=True))
    accounts.update(recent.values_list("connected_account_id", flat=True).distinct())
    return iter(sorted(accounts))


def _reconcile_sessions_of(
    account: str, run: ReconcileRun, limiter: AccountRateLimiter
) -> Iterator[tuple[CheckoutSessionSnapshot, ReconcileOutcome]]:
    companies = {
        str(company_id)
        for company_id in StripeCheckoutSettings.objects.filter(
            connected_account_id=account
        ).values_list("company_id", flat=True)
    }
    for session in stripe_gateway.list_checkout_sessions(**_listing(account, run, limiter)):
        checkout_id = _checkout_id_made_here(session, companies)
        if checkout_id is not None:
            yield session, _reconcile_session(session, checkout_id, account, run, limiter)


def _listing(account: str, run: ReconcileRun, limiter: AccountRateLimiter) -> dict[str, Any]:
    """How a run lists what ``account`` made in its window: a page at a time, rate-limited."""
    return {
        "account": account,
        "created_since": run.since,
        "before_each_page": lambda: _before_a_stripe_call(account, limiter),
        "page_size": run.page_size,
        "rate_limit_retries": run.rate_limit_retries,
    }


def _checkout_id_made_here(session: CheckoutSessionSnapshot, companies: set[str]) -> UUID | None:
    if session.metadata.get("company_id") not in companies:
        return None
    try:
        return uuid.UUID(session.metadata.get("checkout_id", ""))
    except ValueError:
        return None


def _reconcile_session(
    session: CheckoutSessionSnapshot,
    checkout_id: UUID,
    account: str,
    run: ReconcileRun,
    limiter: AccountRateLimiter,
) -> ReconcileOutcome:
    checkout = Checkout.objects.filter(pk=checkout_id, stripe_session_id=session.id).first()
    if checkout is not None:
        if _in_step(checkout, session):
            return ReconcileOutcome.IN_STEP
        if not run.dry_run:
            record_session_state(checkout, session)
        return ReconcileOutcome.RECORDED
    if session.status == CheckoutStatus.COMPLETE:
        # Money taken on a session nobody was handed: never expected, so loud.
        logger.error("Session %s on %s is complete but unknown here.", session.id, account)
        return ReconcileOutcome.UNKNOWN_PAID
    if session.status != CheckoutStatus.OPEN or session.created > run.now - run.grace:
        return ReconcileOutcome.IN_STEP
    if run.dry_run:
        return ReconcileOutcome.ENDED_UNKNOWN
    _before_a_stripe_call(account, limiter)
    result = end_session_on_stripe(
        account=account, session_id=session.id, rate_limit_retries=run.rate_limit_retries
    )
    if result.outcome == ExpiryOutcome.FAILED:
        logger.warning("Could not end unknown session %s: %s", session.id, result.error)
        return ReconcileOutcome.FAILED
    if result.outcome == ExpiryOutcome.ALREADY_COMPLETE:
        logger.error("Session %s on %s was paid but is unknown here.", session.id, account)
        return ReconcileOutcome.UNKNOWN_PAID
    logger.warning("Ended session %s on %s, which this service never stored.", session.id, account)
    return ReconcileOutcome.ENDED_UNKNOWN


def _reconcile_refunds_of(
    account: str, run: ReconcileRun, limiter: AccountRateLimiter
) -> Iterator[ReconcileOutcome]:
    for made in stripe_gateway.list_refunds(**_listing(account, run, limiter)):
        yield _reconcile_refund(made, account, run)
    for refund in requested_refunds_to_ask_again(account):
        yield _ask_again(refund, account, run, limiter)


def _reconcile_refund(made: RefundSnapshot, account: str, run: ReconcileRun) -> ReconcileOutcome:
    """Record a refund of one of this service's payments, if it says something new."""
    checkout = Checkout.objects.filter(
        payment_intent_id=made.payment_intent_id, connected_account_id=account
    ).first()
    known = Refund.objects.filter(stripe_refund_id=made.id, status=made.status).exists()
    if checkout is None or known:
        return ReconcileOutcome.IN_STEP
    if not run.dry_run:
        record_refunds(checkout, [made])
    return ReconcileOutcome.REFUND_RECORDED


def _ask_again(
    refund: Refund, account: str, run: ReconcileRun, limiter: AccountRateLimiter
) -> ReconcileOutcome:
    """Ask Stripe again for a refund whose answer was lost; a refusal is recorded."""
    if not run.dry_run:
        _before_a_stripe_call(account, limiter)
        try:
            ask_again(refund)
        except StripeRefused as refusal:
            logger.warning("Stripe refused refund %s when asked again: %s", refund.pk, refusal)
        except StripeGatewayError as error:
            logger.warning("Could not ask Stripe again for refund %s: %s", refund.pk, error)
            return ReconcileOutcome.FAILED
    return ReconcileOutcome.REFUND_ASKED_AGAIN


def _in_step(checkout: Checkout, session: CheckoutSessionSnapshot) -> bool:
    """Whether recording ``session`` would teach ``checkout`` nothing it cares about."""
    return (checkout.status, checkout.payment_status) == (session.status, session.payment_status)


def _lease_key(account: str) -> str:
    return f"reconcile-checkouts:{account}"


def _lease(account: str, run: ReconcileRun) -> bool:
    """Take the account for this run unless another run has it."""
    return cache.add(_lease_key(account), run.now.isoformat(), ACCOUNT_LEASE.total_seconds())
