"""Stripe is called outside any database transaction or row lock."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import DatabaseError, connection, transaction

from checkouts.models import Payable
from tests.support.api import CREATE_SESSION

pytestmark = pytest.mark.django_db(transaction=True)


def payable_is_free_to_lock() -> bool:
    """Try to take the payable's row lock (PostgreSQL) or SQLite's write lock, without waiting."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                Payable.objects.select_for_update(nowait=True).get()
            else:
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA busy_timeout = 0")
                Payable.objects.update(internal_reference_id="booking-1001")
    except DatabaseError:
        return False
    finally:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout = 20000")
    return True


def test_stripe_is_called_while_no_transaction_holds_the_payable(
    create_checkout, stripe_emulator, settings
):
    create_checkout()  # the payable now exists, so there is a row that could be locked
    settings.STRIPE_TIMEOUT_SECONDS = 10
    stripe_emulator.inject_fault("latency", method="POST", path=CREATE_SESSION, seconds=3)

    def create_in_another_thread():
        try:
            return create_checkout()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(create_in_another_thread)
        stripe_emulator.wait_for_requests(2)  # the second create is now being held by "Stripe"
        free_while_stripe_works = payable_is_free_to_lock()
        response = pending.result()

    assert free_while_stripe_works
    assert response.status_code == 200
