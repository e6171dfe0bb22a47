"""Storing the first open checkout of a payable in one SQL statement, on PostgreSQL.

Most creates are for a booking that has no open checkout yet. Through the ORM, storing
one takes a transaction of two inserts (upsert the payable, insert the checkout), each in
a savepoint for its fallback: seven round trips, a fifth of a create's CPU. On PostgreSQL
both inserts fit in one statement, a data-modifying CTE, which commits on its own; the
ORM cannot write one, so it is written here.

The statement is all or nothing. The database refuses it (``IntegrityError``) in the cases
that need the transaction's handling: the payable was paid (it stays on its paid
checkout), or another create stored an open checkout meanwhile (one open checkout per
payable). Then nothing was written and the caller stores the checkout the ORM's way.
"""

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from bokacheckout.connections import preparing_cursor
from checkouts.models import Checkout, Payable


def insert_with_payable(checkout: Checkout, internal_reference_id: str) -> bool:
    """Insert ``checkout`` as the current checkout of its payable, which is created if new.

    False, with nothing written, when the database refuses, or when this is not
    PostgreSQL outside a transaction; the caller then stores it its own way.
    """
    database = connections[DEFAULT_DB_ALIAS]
    if database.vendor != "postgresql" or database.in_atomic_block:
        return False
    sql, params = _statement(checkout, internal_reference_id, database)
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
)
INSERT INTO {checkout} ({columns}) SELECT {values} FROM payable
RETURNING payable_id
"""


def _statement(
    checkout: Checkout, internal_reference_id: str, database: BaseDatabaseWrapper
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
    sql = INSERT_WITH_PAYABLE.format(
        payable=database.ops.quote_name(Payable._meta.db_table),
        checkout=database.ops.quote_name(Checkout._meta.db_table),
        columns=", ".join(database.ops.quote_name(field.column) for field in fields),
        values=", ".join(
            "payable.id" if field.attname == "payable_id" else "%s" for field in fields
        ),
    )
    return sql, payable_values + checkout_values
