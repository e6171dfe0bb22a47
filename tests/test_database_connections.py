"""A request lends its pooled database connection back while it waits on Stripe.

``release_pooled_connection`` gives the connection back to the pool only when that is
safe: with a pool, outside a transaction. The production server's tests
(test_production_server.py) check that a create waiting on Stripe holds none.
"""

import pytest
from django.db import connection, transaction

from articles.models import Company
from bokacheckout.connections import release_pooled_connection
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
