"""A request lends its pooled database connection back while it waits on Stripe, and the
create's own statements are planned once per connection.

``release_pooled_connection`` gives the connection back to the pool only when that is
safe: with a pool, outside a transaction. The production server's tests
(test_production_server.py) check that a create waiting on Stripe holds none.
``preparing_cursor`` prepares what it runs; Django's own cursors never do, so that the
admin's queries keep plans chosen for their values.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from articles.models import Company
from bokacheckout.connections import preparing_cursor, release_pooled_connection
from tests.support.factories import make_company

pytestmark = pytest.mark.django_db(transaction=True)

NEEDS_THE_POOL = "needs PostgreSQL: the pool is psycopg's, configured for PostgreSQL only"


def has_pool() -> bool:
    # From the settings: asking the connection would make its pool now, before the test
    # database exists, and the pool would keep connecting to the database it was made for.
    return bool(connection.settings_dict.get("OPTIONS", {}).get("pool"))


def test_inside_a_transaction_the_connection_is_kept():
    with transaction.atomic():
        make_company()
        held = connection.connection

        release_pooled_connection()

        assert connection.connection is held
        assert Company.objects.count() == 1


@pytest.mark.skipif(has_pool(), reason="the suite's database has a pool")
def test_without_a_pool_the_connection_is_kept():
    make_company()
    held = connection.connection

    release_pooled_connection()

    assert connection.connection is held
    assert Company.objects.count() == 1


@pytest.mark.postgres(reason=NEEDS_THE_POOL)
def test_with_a_pool_the_connection_goes_back_to_it_until_the_next_query():
    make_company()
    available = connection.pool.get_stats()["pool_available"]

    release_pooled_connection()

    assert connection.connection is None
    assert connection.pool.get_stats()["pool_available"] == available + 1
    assert Company.objects.count() == 1


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.postgres
def test_a_preparing_cursors_statements_are_prepared_and_djangos_are_not():
    for value in range(3):
        with preparing_cursor() as cursor:
            cursor.execute("SELECT %s::integer + 1 AS asked_to_prepare", [value])
            assert cursor.fetchone() == (value + 1,)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::integer + 1 AS left_alone", [value])

    statements = prepared_statements()
    assert [s for s in statements if "asked_to_prepare" in s] == [
        "SELECT $1::integer + 1 AS asked_to_prepare"
    ]
    assert not [s for s in statements if "left_alone" in s]


def test_a_preparing_cursors_statements_are_logged_with_their_values():
    with CaptureQueriesContext(connection) as captured, preparing_cursor() as cursor:
        cursor.execute("SELECT %(number)s + 1", {"number": 41})

    assert [query["sql"] for query in captured.captured_queries] == ["SELECT 41 + 1"]
