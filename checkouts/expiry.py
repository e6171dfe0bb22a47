"""Ending due checkouts on Stripe in bulk: what ``manage.py expire_checkouts`` runs.

Fair across connected accounts, whatever the order of the due rows: each (company,
account) has a queue (``checkouts.expiry_queues``), claimed a few seconds' worth of
its calls at a time and in turn. A call goes out once its account holds a slot of the
rate limiter, which every host shares through the cache (``checkouts.rate_limit``),
and while one account waits for its next slot the others' calls go out: N accounts
get N times the rate.

The Stripe calls run in threads that touch no database; a few recording threads
store what each call taught, each on one connection. At most ``batch_size``
claimed checkouts are in memory at once, whatever the number due.
"""

import logging
import math
import queue
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.db import connection

from bokacheckout.connections import release_pooled_connection
from checkouts.expiry_queues import ClaimQueue, checkouts_due, queues_for, why_due
from checkouts.lifecycle import (
    ExpiryOutcome,
    ExpiryResult,
    end_session_on_stripe,
    record_expiry_results,
)
from checkouts.models import Checkout
from checkouts.rate_limit import AccountRateLimiter

__all__ = ["ExpiryReport", "ExpiryRun", "checkouts_due", "expire_due_checkouts", "why_due"]

logger = logging.getLogger(__name__)

# Stripe documents 25 requests per second per endpoint; stay under it.
DEFAULT_STRIPE_CALLS_PER_SECOND = 20.0
# A claim's SQL costs as much as the calls of a few of its rows: claiming a few seconds of
# an account's calls at once keeps that a small share of a run's work.
CLAIM_SECONDS = 3
# Claimed checkouts held at once: room for a claim of each of 20 accounts.
DEFAULT_BATCH_SIZE = 1000
# The rate paces the calls, this only caps them: 20 accounts at 20 calls/s with Stripe
# answering in 0.5 s keep 200 in flight. Threads start only as they are needed.
DEFAULT_CONCURRENCY = 200
DEFAULT_RATE_LIMIT_RETRIES = 5
# Recording takes a few statements per batch of outcomes, so two connections keep up with
# hundreds of calls a second, and more outcomes wait to share a transaction.
RECORDING_THREADS = 2
RECORDING_BATCH_SIZE = 200


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

    def claim_size(self, accounts: int) -> int:
        """Checkouts claimed for one account at a time: ``CLAIM_SECONDS`` of its calls, less
        if the batch would not otherwise hold a claim of every account."""
        return max(
            1,
            min(
                math.ceil(self.calls_per_second * CLAIM_SECONDS),
                self.batch_size // max(1, accounts),
            ),
        )


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


def expire_due_checkouts(
    run: ExpiryRun,
    *,
    on_result: Callable[[Checkout, ExpiryResult], None] | None = None,
    limiter: AccountRateLimiter | None = None,
) -> ExpiryReport:
    """End every due checkout on Stripe and record each outcome; see the module docstring.

    ``on_result`` is called once per checkout, one call at a time, from a recording thread.
    """
    limiter = limiter or AccountRateLimiter(run.calls_per_second)
    report = ExpiryReport()
    outstanding = _Outstanding()
    reporting = threading.Lock()

    def record(outcomes: list[tuple[Checkout, ExpiryResult]]) -> None:
        try:
            recorded = record_outcomes(outcomes)
            with reporting:  # on_result may not be thread-safe
                for checkout, result in recorded:
                    report.add(result.outcome)
                    if on_result is not None:
                        on_result(checkout, result)
        finally:
            outstanding.update(unrecorded=-len(outcomes))

    with (
        _Recorders(min(RECORDING_THREADS, run.concurrency), record) as recorders,
        ThreadPoolExecutor(run.concurrency, thread_name_prefix="expire-call") as callers,
    ):

        def send(checkout: Checkout) -> None:
            outstanding.update(calls=1, unrecorded=1)
            callers.submit(_end_on_stripe, checkout, run).add_done_callback(
                lambda call: (recorders.put(checkout, call.result()), outstanding.update(calls=-1))
            )

        _Dispatcher(run, queues_for(run), limiter, outstanding, send).dispatch()
    return report


def record_outcomes(
    outcomes: list[tuple[Checkout, ExpiryResult]],
) -> list[tuple[Checkout, ExpiryResult]]:
    """Record ``outcomes`` in one transaction or, if that fails, each in its own, so that a
    row locked elsewhere fails only itself; the outcomes as recorded. One that could not
    be recorded is a failure: its row keeps its lease, and a later run asks Stripe again.
    """
    try:
        record_expiry_results(outcomes)
        return outcomes
    except Exception as error:
        if len(outcomes) == 1:
            checkout = outcomes[0][0]
            logger.exception("Could not record the expiry of %s", checkout.stripe_session_id)
            return [(checkout, ExpiryResult(ExpiryOutcome.FAILED, error=str(error)))]
    return [recorded for outcome in outcomes for recorded in record_outcomes([outcome])]


class _Dispatcher:
    """Claims in turn and sends, one call per account whose slot has come, until all is done.

    Queues wait in ``to_claim`` for their turn to claim, then in ``claimed`` for their
    turn to send; a queue whose claimed rows are all sent goes back to ``to_claim``.
    """

    def __init__(
        self,
        run: ExpiryRun,
        queues: list[ClaimQueue],
        limiter: AccountRateLimiter,
        outstanding: "_Outstanding",
        send: Callable[[Checkout], None],
    ) -> None:
        self.run = run
        self.limiter = limiter
        self.outstanding = outstanding
        self.send = send
        self.to_claim: deque[ClaimQueue] = deque(queues)
        self.claimed: deque[ClaimQueue] = deque()
        self.claim_size = run.claim_size(len(queues))
        self.left_to_claim = math.inf if run.limit is None else run.limit
        self.queued = 0  # claimed, not sent yet
        self.next_slot_at: dict[int, float] = {}

    def dispatch(self) -> None:
        while True:
            seen = self.outstanding.changes
            claimed = self.claim_in_turn()
            sent_some, soonest = self.send_in_turn()
            if not self.claimed and not self.may_claim() and not self.outstanding.unrecorded:
                return
            if claimed or sent_some:
                continue
            # Waiting, this thread lends its pooled connection to the recorders.
            release_pooled_connection()
            now = self.limiter.clock()
            if self.outstanding.unrecorded:
                slot_usable = soonest is not None and not self.at_concurrency()
                self.outstanding.wait_for_change(seen, soonest - now if slot_usable else None)
            elif soonest is not None:
                # The slot may have come while this loop worked since it looked.
                self.limiter.sleep(max(0.0, soonest - now))

    def may_claim(self) -> bool:
        return bool(self.to_claim) and self.left_to_claim > 0

    def at_concurrency(self) -> bool:
        return self.outstanding.calls >= self.run.concurrency

    def claim_in_turn(self) -> bool:
        """Claim for the queues in turn while the batch has room for a whole claim; whether
        it tried. While rows wait to be sent, only one claim between rounds of sends, so
        that the accounts' slots do not pass by while the dispatcher claims for them all."""
        tried = False
        for_all = not self.claimed
        while (
            self.may_claim()
            and self.queued + self.outstanding.unrecorded + self.claim_size <= self.run.batch_size
        ):
            claiming = self.to_claim.popleft()
            count = claiming.claim(int(min(self.claim_size, self.left_to_claim)))
            if count:
                self.queued += count
                self.left_to_claim -= count
                self.claimed.append(claiming)
            tried = True
            if not for_all:
                break
        return tried

    def send_in_turn(self) -> tuple[bool, float | None]:
        """Send one call of each queue whose account holds a slot now; whether any went,
        and when the soonest of the others' slots comes."""
        now = self.limiter.clock()
        sent_some, soonest = False, None
        for _ in range(len(self.claimed)):
            if self.at_concurrency():
                break
            sending = self.claimed.popleft()
            wait = self.next_slot_at.get(id(sending), now) - now
            if wait <= 0:
                wait = self.limiter.try_acquire(sending.rows[0].connected_account_id)
            if wait > 0:
                self.next_slot_at[id(sending)] = now + wait
                soonest = now + wait if soonest is None else min(soonest, now + wait)
                self.claimed.append(sending)
                continue
            self.send(sending.rows.popleft())
            self.queued -= 1
            sent_some = True
            (self.claimed if sending.rows else self.to_claim).append(sending)
        return sent_some, soonest


def _end_on_stripe(checkout: Checkout, run: ExpiryRun) -> ExpiryResult:
    try:
        return end_session_on_stripe(
            account=checkout.connected_account_id,
            session_id=checkout.stripe_session_id,
            rate_limit_retries=run.rate_limit_retries,
        )
    except Exception as error:
        logger.exception("Could not end %s on Stripe", checkout.stripe_session_id)
        return ExpiryResult(ExpiryOutcome.FAILED, error=str(error))


class _Outstanding:
    """Stripe calls in flight, and checkouts sent but not yet recorded, counted across
    threads; the dispatcher waits on it for either to change."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.calls = 0
        self.unrecorded = 0
        self.changes = 0

    def update(self, *, calls: int = 0, unrecorded: int = 0) -> None:
        with self._changed:
            self.calls += calls
            self.unrecorded += unrecorded
            self.changes += 1
            self._changed.notify_all()

    def wait_for_change(self, since: int, timeout: float | None) -> None:
        """Until a change after the one counted ``since``, or ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.changes != since, timeout)


class _Recorders:
    """Threads that record the calls' outcomes, in the order they come: whatever has come
    since a thread's last transaction, up to ``RECORDING_BATCH_SIZE``, in one transaction
    on a pooled connection given back after it."""

    def __init__(
        self, count: int, record: Callable[[list[tuple[Checkout, ExpiryResult]]], None]
    ) -> None:
        self._outcomes: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, args=(record,), name=f"expire-record-{number}")
            for number in range(count)
        ]

    def __enter__(self) -> "_Recorders":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for _ in self._threads:
            self._outcomes.put(None)
        for thread in self._threads:
            thread.join()

    def put(self, checkout: Checkout, result: ExpiryResult) -> None:
        self._outcomes.put((checkout, result))

    def _work(self, record: Callable[[list[tuple[Checkout, ExpiryResult]]], None]) -> None:
        try:
            stopping = False
            while not stopping:
                outcomes, stopping = self._take()
                if outcomes:
                    record(outcomes)
                # Each batch takes a pooled connection for its own transaction only: a
                # pool smaller than the threads (3 by default) then still serves them all.
                release_pooled_connection()
        finally:
            connection.close()

    def _take(self) -> tuple[list[tuple[Checkout, ExpiryResult]], bool]:
        """The outcomes come since this thread's last take, waiting for the first; and
        whether the thread is to stop after recording them."""
        outcomes = []
        while (outcome := self._outcomes.get()) is not None:
            outcomes.append(outcome)
            if len(outcomes) == RECORDING_BATCH_SIZE or self._outcomes.empty():
                return outcomes, False
        return outcomes, True
