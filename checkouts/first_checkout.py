"""Storing the first open checkout of a payable in one SQL statement, on PostgreSQL.

Most creates are for a booking that has no open checkout yet. Through the ORM, storing
one takes a transaction of two inserts (upsert the payable, insert the checkout), each in
a savepoint for its fallback: seven round trips, a fifth of a create's CPU. On PostgreSQL
both inserts fit in one statement, a data-modifying CTE, which commits on its own; the
ORM cannot write one, so it is written here. A create with an ``Idempotency-Key`` answers
its claim in the same statement, so that the claim is answered exactly when the checkout
is stored, and at no extra round trip.

The statement is all or nothing. The database refuses it (``IntegrityError``) in the cases
that need the transaction's handling: the payable was paid (it stays on its paid
checkout), or another create stored an open checkout meanwhile (one open checkout per
payable). Then nothing was written and the caller stores the checkout the ORM's way.
"""

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from bokacheckout.connections import preparing_cursor
from checkouts.models import Checkout, ClientIdempotencyKey, Payable


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
    sql, params = _statement(checkout, internal_reference_id, idempotency_claim, database)
    try:
        with preparing_cursor() as cursor:
            cursor.execute(sql, params)
            (payable_id,) = cursor.fetchone()
    except IntegrityError:
        return False
    checkout.payable_id = payable_id
    # Saved, as the ORM marks what it inserts: a later save() updates the row.
    checkout._state.adding = False
    checkout._state.db = database.alias
    return True


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
# The claim points at the checkout inserted beside it: the reference is checked when the
# statement ends (Django makes foreign keys deferrable), by when the checkout exists.
ANSWER_CLAIM = """, answer AS (
    UPDATE {claims} SET checkout_id = %s WHERE id = %s
)"""


def _statement(
    checkout: Checkout,
    internal_reference_id: str,
    idempotency_claim: ClientIdempotencyKey | None,
    database: BaseDatabaseWrapper,
) -> tuple[str, list]:
    payable_created = Payable._meta.get_field("created_at")
    payable_values = [
        checkout.company_id,
        internal_reference_id,
        checkout.pk,
        payable_created.get_db_prep_save(payable_created.pre_save(Payable(), add=True), database),
    ]
    fields = Checkout._meta.concrete_fields
    checkout_values = [
        field.get_db_prep_save(field.pre_save(checkout, add=True), database)
        for field in fields
        if field.attname != "payable_id"
    ]
    answer_values = [] if idempotency_claim is None else [checkout.pk, idempotency_claim.pk]
    answer = ANSWER_CLAIM.format(
        claims=database.ops.quote_name(ClientIdempotencyKey._meta.db_table)
    )
    sql = INSERT_WITH_PAYABLE.format(
        answer="" if idempotency_claim is None else answer,
        payable=database.ops.quote_name(Payable._meta.db_table),
        checkout=database.ops.quote_name(Checkout._meta.db_table),
        columns=", ".join(database.ops.quote_name(field.column) for field in fields),
        values=", ".join(
            "payable.id" if field.attname == "payable_id" else "%s" for field in fields
        ),
    )
    return sql, payable_values + answer_values + checkout_values
