"""A create's reads find their rows through an index, however many checkouts there are.

The plans are PostgreSQL's, read with EXPLAIN on tables as a bulk load leaves them (no
statistics gathered yet), where a plan that scans every open checkout was once chosen.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checkouts import selectors
from checkouts.models import Payable
from tests.support.factories import build_checkout

pytestmark = pytest.mark.postgres(reason="needs PostgreSQL: the plans are PostgreSQL's")

OTHER_OPEN_CHECKOUTS = 2000


def plan_of(function, *args) -> str:
    """The EXPLAIN of the one query ``function`` runs."""
    with CaptureQueriesContext(connection) as queries:
        function(*args)
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + query["sql"])
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_a_create_looks_up_its_payables_open_checkout_by_the_payable(company):
    payables = Payable.objects.bulk_create(
        Payable(company=company, internal_reference_id=f"booking-{n}")
        for n in range(OTHER_OPEN_CHECKOUTS)
    )
    for payable in payables:
        payable.company = company
    type(build_checkout(payables[0])).objects.bulk_create(
        build_checkout(payable) for payable in payables
    )

    plan = plan_of(selectors.catalogue_for_checkout, company, [(1, 1)], "booking-new")

    assert re.search(r"Index (Only )?Scan using \S+ on checkouts_checkout", plan), plan
    assert re.search(r"Index Cond: \(payable_id = ", plan), plan
