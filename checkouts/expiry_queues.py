"""What a run of ``expire_checkouts`` claims: one company's due checkouts on one account at a time.

Due checkouts are of three kinds, each read from a partial index of its own (see
``Checkout.Meta``) in that index's order, so a claim is an index scan that stops at
its LIMIT, however many rows are due:
- superseded, their expiry on Stripe still pending (by ``created_at``);
- open and past ``expires_at`` (by ``expires_at``);
- with ``older_than``: open, not yet past ``expires_at``, created before
  ``now - older_than`` (by ``created_at``).
The kinds exclude one another, so a run never claims a checkout twice.

An ``AccountQueue`` claims them a kind after the other, each claim from where the
last ended: a run moves past what it handled (a failure too, which waits for the
next run) and past rows another run holds, so it ends. A claim writes a short lease
on its rows under ``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it
(SQLite serialises writers instead), so runs on several hosts share the work.

A run narrowed to one payable, or to what one checkout superseded (the background
task), touches a handful of rows: a ``NarrowQueue`` claims them through the
indexes of those columns.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from checkouts.models import (
    EXPIRY_PENDING,
    OPEN_WITHOUT_PENDING_EXPIRY,
    Checkout,
    StripeExpiry,
)

if TYPE_CHECKING:
    from checkouts.expiry import ExpiryRun

# What sending a claimed checkout's call, recording its outcome and telling why it was due
# read; building whole rows was most of a claim's cost.
CLAIMED_FIELDS = (
    "payable",
    "connected_account_id",
    "stripe_session_id",
    "superseded_by",
    "stripe_expiry",
    "created_at",
    "expires_at",
)
# Long enough for a claim to wait its turn and be sent; a crashed run's rows are free
# again after it.
CLAIM_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class DueKind:
    """One kind of due checkout: which rows, and the column their index orders them by."""

    reason: str
    rows: Q
    order: str


def due_kinds(run: "ExpiryRun") -> list[DueKind]:
    kinds = [
        DueKind("superseded", EXPIRY_PENDING, "created_at"),
        DueKind(
            "past its expires_at",
            OPEN_WITHOUT_PENDING_EXPIRY & Q(expires_at__lte=run.now),
            "expires_at",
        ),
    ]
    if run.older_than is not None:
        kinds.append(
            DueKind(
                f"older than {run.older_than}",
                OPEN_WITHOUT_PENDING_EXPIRY
                & Q(created_at__lte=run.now - run.older_than, expires_at__gt=run.now),
                "created_at",
            )
        )
    return kinds


def checkouts_due(run: "ExpiryRun") -> QuerySet[Checkout]:
    """Every checkout ``run`` would end, oldest first, that no other run has claimed.

    For counting and listing; the claims read each kind on its own.
    """
    due = Q()
    for kind in due_kinds(run):
        due |= kind.rows
    checkouts = Checkout.objects.filter(due).filter(unleased(run))
    if run.company_id is not None:
        checkouts = checkouts.filter(company_id=run.company_id)
    if run.reference is not None:
        checkouts = checkouts.filter(payable__internal_reference_id=run.reference)
    if run.superseded_by is not None:
        checkouts = checkouts.filter(superseded_by_id=run.superseded_by)
    return checkouts.order_by("created_at", "pk")


def why_due(checkout: Checkout, run: "ExpiryRun") -> str:
    if checkout.stripe_expiry == StripeExpiry.PENDING:
        return "superseded"
    if checkout.expires_at <= run.now:
        return "past its expires_at"
    return f"older than {run.older_than}"


def unleased(run: "ExpiryRun") -> Q:
    return Q(expiry_lease_until__isnull=True) | Q(expiry_lease_until__lt=run.now)


class ClaimQueue(Protocol):
    """Due checkouts a run claims a few at a time; ``rows`` holds those claimed, not yet sent."""

    rows: deque[Checkout]

    def claim(self, size: int) -> int:
        """Lease up to ``size`` more into ``rows``; how many. 0: nothing is left."""
        ...


def queues_for(run: "ExpiryRun") -> list[ClaimQueue]:
    """One queue per (company, connected account) with due checkouts, or one for a narrow run."""
    if run.reference is not None or run.superseded_by is not None:
        return [NarrowQueue(run)]
    return [AccountQueue(run, company, account) for company, account in accounts_with_due(run)]


class AccountQueue:
    """One company's due checkouts on one connected account, a kind after the other."""

    def __init__(self, run: "ExpiryRun", company_id: UUID, account: str) -> None:
        self.rows: deque[Checkout] = deque()
        self._candidates = Checkout.objects.filter(
            unleased(run), company_id=company_id, connected_account_id=account
        )
        self._kinds = deque(due_kinds(run))
        # (order column's value, pk) of the last row claimed of the current kind.
        self._after: tuple | None = None

    def claim(self, size: int) -> int:
        claimed: list[Checkout] = []
        with transaction.atomic():
            while self._kinds and len(claimed) < size:
                wanted = size - len(claimed)
                rows = list(_locked(self._next_of(self._kinds[0]))[:wanted])
                claimed += rows
                if rows:
                    self._after = (getattr(rows[-1], self._kinds[0].order), rows[-1].pk)
                if len(rows) < wanted:
                    self._kinds.popleft()
                    self._after = None
            _lease(claimed)
        self.rows.extend(claimed)
        return len(claimed)

    def _next_of(self, kind: DueKind) -> QuerySet[Checkout]:
        rows = self._candidates.filter(kind.rows)
        if self._after is not None:
            value, pk = self._after
            # The first condition is the index range; the second drops its first rows.
            rows = rows.filter(**{f"{kind.order}__gte": value}).filter(
                Q(**{f"{kind.order}__gt": value}) | Q(pk__gt=pk)
            )
        return rows.order_by(kind.order, "pk")


class NarrowQueue:
    """The due checkouts of a run narrowed to a payable or to a superseding checkout."""

    def __init__(self, run: "ExpiryRun") -> None:
        self.rows: deque[Checkout] = deque()
        self._due = checkouts_due(run)
        self._after: Checkout | None = None
        self._done = False

    def claim(self, size: int) -> int:
        if self._done:
            return 0
        due = self._due
        if self._after is not None:
            after = self._after
            due = due.filter(
                Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, pk__gt=after.pk)
            )
        with transaction.atomic():
            claimed = list(_locked(due)[:size])
            _lease(claimed)
        self._done = len(claimed) < size
        if claimed:
            self._after = claimed[-1]
        self.rows.extend(claimed)
        return len(claimed)


def accounts_with_due(run: "ExpiryRun") -> list[tuple[UUID, str]]:
    """(company, connected account) pairs with superseded or open checkouts, a run's queues."""
    pairs: set[tuple[UUID, str]] = set()
    for kind in (EXPIRY_PENDING, OPEN_WITHOUT_PENDING_EXPIRY):
        rows = Checkout.objects.filter(kind)
        if run.company_id is not None:
            rows = rows.filter(company_id=run.company_id)
        pairs.update(_pairs_in(rows))
    return sorted(pairs)


def _pairs_in(rows: QuerySet[Checkout]) -> Iterator[tuple[UUID, str]]:
    """Each (company, account) of ``rows``, found by skipping along an index that starts with
    them: one or two index probes per pair, never a read of every row."""
    pairs = rows.order_by("company_id", "connected_account_id").values_list(
        "company_id", "connected_account_id"
    )
    pair = pairs.first()
    while pair is not None:
        yield pair
        company, account = pair
        pair = (
            pairs.filter(company_id=company, connected_account_id__gt=account).first()
            or pairs.filter(company_id__gt=company).first()
        )


def _locked(rows: QuerySet[Checkout]) -> QuerySet[Checkout]:
    """``rows`` for a claim: only what sending and recording read (recording reads the rest
    afresh under its locks), leased to this run."""
    rows = rows.only(*CLAIMED_FIELDS)
    if connection.features.has_select_for_update_skip_locked:
        return rows.select_for_update(skip_locked=True, of=("self",))
    return rows


def _lease(claimed: list[Checkout]) -> None:
    if not claimed:
        return
    Checkout.objects.filter(pk__in=[checkout.pk for checkout in claimed]).update(
        expiry_lease_until=timezone.now() + CLAIM_LEASE
    )
