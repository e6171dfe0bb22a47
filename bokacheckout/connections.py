"""The database connection: lending it back while a request waits on another service,
and a cursor for the statements every create runs."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

# Django turns psycopg's automatic preparing off (prepare_threshold None), and with it any
# preparing. A number this high turns preparing back on for statements that ask for it
# (PreparingCursor's), while psycopg still never prepares one by itself.
ONLY_WHEN_ASKED = 2**31 - 1


class PreparingCursor(psycopg.Cursor):
    """Binds on the server and asks for every statement it runs to be prepared."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class LoggedPreparingCursor(CursorDebugWrapper):
    """Django's logging cursor (DEBUG, tests' query capture) for a ``PreparingCursor``:
    it logs the statement with its values bound on the client, as Django logs its own;
    Django's way only knows statements bound on the client."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return super(CursorDebugWrapper, self).execute(sql, params)


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


@contextmanager
def preparing_cursor() -> Iterator[CursorWrapper]:
    """A cursor whose statements PostgreSQL plans once per connection, not on every run.

    For the few statements every create runs, whose planning cost PostgreSQL about as much
    as running them. Only for statements whose best plan does not depend on their values
    (lookups by a unique key): a prepared statement soon runs a generic plan. Django's own
    cursors bind values on the client and never prepare, which keeps every other query's
    plan chosen for its values (the admin's, at a million rows).

    It is Django's cursor wrapper (query logging, execute wrappers, Django's exceptions)
    around a psycopg cursor that binds on the server. Elsewhere than PostgreSQL, Django's
    own cursor.
    """
    # The thread's own connection, once: each attribute read through django.db.connection
    # looks the thread's up again.
    database = connections[DEFAULT_DB_ALIAS]
    if database.vendor != "postgresql":
        with database.cursor() as cursor:
            yield cursor
        return
    database.ensure_connection()
    database.validate_thread_sharing()
    if database.connection.prepare_threshold is None:
        database.connection.prepare_threshold = ONLY_WHEN_ASKED
    wrapper = LoggedPreparingCursor if database.queries_logged else CursorWrapper
    with wrapper(PreparingCursor(database.connection), database) as cursor:
        yield cursor
