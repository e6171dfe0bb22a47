"""Lending the database connection back while a request waits on another service."""

from django.db import connection


def release_pooled_connection() -> None:
    """Give this thread's database connection back to the pool before a call that waits on
    another service (Stripe), so that other requests use it meanwhile; the next query
    takes one again.

    Only with a pool and outside a transaction: a transaction lives on its connection, and
    without a pool, closing would throw the connection away (with an in-memory SQLite
    database, the data too) instead of lending it.
    """
    if connection.in_atomic_block or getattr(connection, "pool", None) is None:
        return
    connection.close()
