"""The one-statement store of a booking's first checkout: it steps aside inside a
transaction, and what it stored saves again like any row.

A refused statement would abort a caller's transaction; there, the caller's own way of
storing runs instead. (Its refusals outside one are lined up in test_payment_guards and
test_invalidation.)
"""

import pytest

from checkouts import checkout_inserts
from checkouts.models import Checkout
from tests.support.factories import build_checkout, make_paid_checkout, make_payable

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_inside_a_transaction_it_writes_nothing_and_leaves_the_transaction_usable(company):
    payable = make_payable(company, "booking-paid")
    paid = make_paid_checkout(payable)
    checkout = build_checkout(payable)

    assert not checkout_inserts.insert_with_payable(checkout, payable.internal_reference_id)

    assert list(Checkout.objects.all()) == [paid]


@pytest.mark.django_db(transaction=True)
def test_a_checkout_it_stored_saves_again_as_an_update(company):
    payable = make_payable(company, "booking-new")
    checkout = build_checkout(payable)

    assert checkout_inserts.insert_with_payable(checkout, "booking-new")
    checkout.customer_email = "kund@example.se"
    checkout.save()

    assert Checkout.objects.get().customer_email == "kund@example.se"
