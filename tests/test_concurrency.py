"""Many creates for one payable at once: one open checkout, every other session expired."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from checkouts.models import Checkout, CheckoutStatus, Payable
from tests.support.api import CHECKOUT_URL, checkout_body

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

CONCURRENT_CREATES = 20


def test_concurrent_creates_for_one_payable_leave_exactly_one_open_checkout(
    company, api_key, stripe_emulator
):
    body = checkout_body(company, InternalReferenceId="booking-rush")

    def create(_):
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=api_key)
        try:
            return client.post(CHECKOUT_URL, body, format="json").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CONCURRENT_CREATES) as pool:
        statuses = list(pool.map(create, range(CONCURRENT_CREATES)))

    assert statuses == [200] * CONCURRENT_CREATES
    current = Payable.objects.get().current_checkout
    assert list(Checkout.objects.filter(status=CheckoutStatus.OPEN)) == [current]
    assert Checkout.objects.count() == CONCURRENT_CREATES
    sessions = stripe_emulator.sessions_on("acct_1SalongLugn")
    assert len(sessions) == CONCURRENT_CREATES
    assert sorted(session["status"] for session in sessions) == sorted(
        ["open"] + ["expired"] * (CONCURRENT_CREATES - 1)
    )
    assert next(s for s in sessions if s["status"] == "open")["id"] == current.stripe_session_id
