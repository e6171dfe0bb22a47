"""Storing a new checkout and the writes that go with it in one SQL statement, on PostgreSQL.

A create stores its checkout with up to four writes: upsert the payable, supersede its
open checkout, insert the checkout, answer the client's ``Idempotency-Key`` claim. Through
the ORM each is a statement of its own, a round trip (a booking's first checkout took
seven, with its savepoints: a fifth of a create's CPU). On PostgreSQL, writes that belong
together fit in one statement, a data-modifying CTE; the ORM cannot write one, so they
are written here.

A booking's first checkout is stored outside a transaction: the payable, the checkout
and the claim's answer in one statement, which commits on its own, all or nothing. The
database refuses it (``IntegrityError``) in the cases that need the transaction's
handling: the payable was paid (it stays on its paid checkout), or another create stored
an open checkout meanwhile (one open checkout per payable). Then nothing was written and
the caller stores the checkout in a transaction.

There, once the payable's upsert holds its row lock, one statement supersedes the open
checkout, inserts the new one and answers the claim. Every open checkout is stored under
that lock, so the statement's snapshot, taken after it, sees all of the payable's. The
insert reads the superseding UPDATE's count, which makes PostgreSQL finish the UPDATE
first: sub-statements otherwise run in no set order, and the new open checkout could
meet the one it replaces in the unique index of open checkouts. Statuses are written
into the statement rather than bound: only then can a prepared statement's generic plan
use the partial index of open checkouts.
"""

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from bokacheckout.connections import preparing_cursor
from checkouts.models import Checkout, CheckoutStatus, ClientIdempotencyKey, Payable, StripeExpiry


def insert_with_payable(
    checkout: Checkout,
    internal_reference_id: str,
    idempotency_claim: ClientIdempotencyKey | None = None,
) -> bool:
    """Insert ``checkout`` as the current checkout of its payable, which is created if new,
    and answer ``idempotency_claim`` with it.

    False, with nothing written, when the database refuses, or when this is not
    PostgreSQL outside a transaction; the caller then stores it its own way.
    """
    database = connections[DEFAULT_DB_ALIAS]
    if database.vendor != "postgresql" or database.in_atomic_block:
        return False
    payable_created = Payable._meta.get_field("created_at")
    payable_values = [
        checkout.company_id,
        internal_reference_id,
        checkout.pk,
        payable_created.get_db_prep_save(payable_created.pre_save(Payable(), add=True), database),
    ]
    sql = INSERT_WITH_PAYABLE.format(
        answer=_answer(idempotency_claim, database),
        payable=database.ops.quote_name(Payable._meta.db_table),
        checkout=database.ops.quote_name(Checkout._meta.db_table),
        columns=_columns(database),
        values=_placeholders(payable_id="payable.id"),
    )
    params = [
        *payable_values,
        *_answer_values(checkout, idempotency_claim),
        *_checkout_values(checkout, database, without_payable=True),
    ]
    try:
        with preparing_cursor() as cursor:
            cursor.execute(sql, params)
            (payable_id,) = cursor.fetchone()
    except IntegrityError:
        return False
    checkout.payable_id = payable_id
    _mark_saved(checkout, database)
    return True


def insert_superseding(
    checkout: Checkout, idempotency_claim: ClientIdempotencyKey | None = None
) -> int | None:
    """Insert ``checkout``, whose payable the caller's transaction has locked and pointed at
    it, superseding the payable's open checkouts, and answer ``idempotency_claim`` with it.

    The number of checkouts superseded (their sessions are still to end on Stripe); None,
    with nothing written, when this is not PostgreSQL.
    """
    database = connections[DEFAULT_DB_ALIAS]
    if database.vendor != "postgresql":
        return None
    now = timezone.now()
    sql = INSERT_SUPERSEDING.format(
        answer=_answer(idempotency_claim, database),
        checkout=database.ops.quote_name(Checkout._meta.db_table),
        pending=f"'{StripeExpiry.PENDING.value}'",
        open=f"'{CheckoutStatus.OPEN.value}'",
        columns=_columns(database),
        values=_placeholders(),
    )
    params = [
        checkout.pk,
        now,
        now,
        checkout.payable_id,
        *_answer_values(checkout, idempotency_claim),
        *_checkout_values(checkout, database),
    ]
    with preparing_cursor() as cursor:
        cursor.execute(sql, params)
        (superseded,) = cursor.fetchone()
    _mark_saved(checkout, database)
    return superseded


INSERT_WITH_PAYABLE = """
WITH payable AS (
    INSERT INTO {payable} (company_id, internal_reference_id, current_checkout_id, created_at)
    VALUES (%s, %s, %s, %s)
    ON CONFLICT (company_id, internal_reference_id)
    DO UPDATE SET current_checkout_id = EXCLUDED.current_checkout_id
    RETURNING id
){answer}
INSERT INTO {checkout} ({columns}) SELECT {values} FROM payable
RETURNING payable_id
"""
INSERT_SUPERSEDING = """
WITH superseded AS (
    UPDATE {checkout}
    SET superseded_by_id = %s, superseded_at = %s, stripe_expiry = {pending}, updated_at = %s
    WHERE payable_id = %s AND status = {open} AND superseded_by_id IS NULL
    RETURNING id
){answer}
INSERT INTO {checkout} ({columns})
SELECT {values} FROM (SELECT count(*) FROM superseded) AS after_superseding
RETURNING (SELECT count(*) FROM superseded)
"""
# The claim and the superseded checkouts point at the checkout inserted beside them: the
# references are checked when the transaction ends (Django makes foreign keys
# deferrable), by when the checkout exists.
ANSWER_CLAIM = """, answer AS (
    UPDATE {claims} SET checkout_id = %s WHERE id = %s
)"""


def _answer(idempotency_claim: ClientIdempotencyKey | None, database: BaseDatabaseWrapper) -> str:
    if idempotency_claim is None:
        return ""
    return ANSWER_CLAIM.format(claims=database.ops.quote_name(ClientIdempotencyKey._meta.db_table))


def _answer_values(checkout: Checkout, idempotency_claim: ClientIdempotencyKey | None) -> list:
    return [] if idempotency_claim is None else [checkout.pk, idempotency_claim.pk]


def _columns(database: BaseDatabaseWrapper) -> str:
    return ", ".join(
        database.ops.quote_name(field.column) for field in Checkout._meta.concrete_fields
    )


def _placeholders(payable_id: str = "%s") -> str:
    return ", ".join(
        payable_id if field.attname == "payable_id" else "%s"
        for field in Checkout._meta.concrete_fields
    )


def _checkout_values(
    checkout: Checkout, database: BaseDatabaseWrapper, *, without_payable: bool = False
) -> list:
    return [
        field.get_db_prep_save(field.pre_save(checkout, add=True), database)
        for field in Checkout._meta.concrete_fields
        if not (without_payable and field.attname == "payable_id")
    ]


def _mark_saved(checkout: Checkout, database: BaseDatabaseWrapper) -> None:
    # Saved, as the ORM marks what it inserts: a later save() updates the row.
    checkout._state.adding = False
    checkout._state.db = database.alias
