"""manage.py reconcile_checkouts also puts refunds right: those whose webhooks were lost,
and those asked of Stripe whose answer was lost."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from checkouts.models import Checkout, Refund, RefundSource, RefundStatus
from tests.support.api import CREATE_REFUND, REFUND_URL

pytestmark = pytest.mark.django_db(transaction=True)


def reconcile() -> str:
    out = io.StringIO()
    call_command("reconcile_checkouts", "--since", "2h", stdout=out)
    return out.getvalue()


def test_a_dashboard_refund_whose_webhooks_never_came_is_recorded(paid_checkout, stripe_emulator):
    checkout = paid_checkout()
    made = stripe_emulator.refund_from_dashboard(checkout.payment_intent_id, 5000)

    summary = reconcile()

    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.status, refund.source) == (
        made["id"],
        RefundStatus.SUCCEEDED,
        RefundSource.STRIPE,
    )
    assert Checkout.objects.get(pk=checkout.pk).amount_refunded == 5000
    assert "refunds recorded 1" in summary
    assert "refunds recorded 0" in reconcile()


def test_a_refund_that_failed_without_a_webhook_is_recorded_as_failed(
    paid_checkout, api, company, stripe_emulator
):
    checkout = paid_checkout()
    body = {"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id}
    refund_id = api.post(REFUND_URL, body, format="json").json()["RefundId"]
    stripe_emulator.fail_refund(refund_id)

    reconcile()

    assert Refund.objects.get().status == RefundStatus.FAILED
    assert Checkout.objects.get(pk=checkout.pk).amount_refunded == 0


def test_a_refund_whose_answer_was_lost_is_asked_again_once_it_cannot_be_in_flight(
    paid_checkout, api, company, stripe_emulator, settings
):
    checkout = paid_checkout()
    stripe_emulator.inject_fault("drop", method="POST", path=CREATE_REFUND, times=None)
    body = {"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id}
    assert api.post(REFUND_URL, body, format="json").status_code == 503
    stripe_emulator.clear_faults()

    while_in_flight = reconcile()
    settings.REFUND_IN_FLIGHT_GRACE = timedelta(0)
    summary = reconcile()

    assert "refunds asked again 0" in while_in_flight
    assert "refunds asked again 1" in summary
    (made,) = stripe_emulator.refunds()
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.status) == (made["id"], RefundStatus.SUCCEEDED)
    assert Checkout.objects.get(pk=checkout.pk).amount_refunded == 45000
