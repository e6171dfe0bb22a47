"""POST /payment/stripe/v1/checkout/refund: a paid booking refunded in part or in full."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from defusedxml.ElementTree import fromstring as parse_xml

from articles.models import StripeCheckoutSettings
from checkouts.lifecycle import refresh_checkout_from_stripe
from checkouts.models import Checkout, ClientIdempotencyKey, Refund, RefundSource, RefundStatus
from tests.support.api import CREATE_REFUND, REFUND_URL, STATUS_URL
from tests.support.factories import make_api_key, make_article, make_company

pytestmark = pytest.mark.django_db(transaction=True)

REFUNDS_LIST = r"^/v1/refunds$"


@pytest.fixture
def ask_refund(api, company):
    """POST a refund request for ``company``; keyword arguments are body fields."""

    def post(checkout: Checkout | None = None, headers: dict | None = None, **fields):
        body = {"CompanyId": str(company.id), **fields}
        if checkout is not None:
            body.setdefault("SessionId", checkout.stripe_session_id)
        return api.post(REFUND_URL, body, format="json", headers=headers)

    return post


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["ResponseStatus"]["ErrorCode"]


def test_a_paid_booking_is_refunded_in_part_then_in_full_and_then_no_more(
    paid_checkout, ask_refund, stripe_emulator
):
    checkout = paid_checkout()

    partial = ask_refund(checkout, Amount=15000)
    rest = ask_refund(checkout)
    third = ask_refund(checkout, Amount=1)

    assert partial.status_code == 200
    first_id = partial.json()["RefundId"]
    assert partial.json() == {
        "RefundId": first_id,
        "Status": "succeeded",
        "Amount": 15000,
        "AmountRefunded": 15000,
        "Currency": "SEK",
        "SessionId": checkout.stripe_session_id,
        "InternalReferenceId": "booking-1001",
    }
    assert rest.status_code == 200
    assert (rest.json()["Amount"], rest.json()["AmountRefunded"]) == (30000, 45000)
    assert error_of(third) == (400, "AmountExceedsRefundable")
    assert third.json()["ResponseStatus"]["Message"] == (
        "Nothing is left to refund: all 450.00 SEK is refunded or being refunded."
    )
    assert [refund["amount"] for refund in stripe_emulator.refunds()] == [15000, 30000]
    assert stripe_emulator.charge(stripe_emulator.refunds()[0]["charge"])["refunded"] is True


def test_a_refund_is_made_on_the_connected_account_through_the_payment_intent(
    paid_checkout, ask_refund, stripe_emulator, company
):
    checkout = paid_checkout()

    response = ask_refund(
        checkout, Amount=10000, Reason="requested_by_customer", Comments="Cancelled by phone."
    )

    refund = Refund.objects.get()
    (request,) = stripe_emulator.requests_to("POST", CREATE_REFUND)
    assert request.stripe_account == "acct_1SalongLugn"
    assert request.idempotency_key == f"bokacheckout-refund-{refund.pk}"
    assert request.params == {
        "payment_intent": checkout.payment_intent_id,
        "amount": "10000",
        "reason": "requested_by_customer",
        "metadata": {
            "refund_id": str(refund.pk),
            "checkout_id": str(checkout.pk),
            "company_id": str(company.pk),
        },
    }
    assert response.json()["RefundId"] == refund.stripe_refund_id
    assert refund.stripe_refund_id.startswith("re_")
    assert (refund.amount, refund.currency, refund.status) == (10000, "SEK", "succeeded")
    assert (refund.reason, refund.comments) == ("requested_by_customer", "Cancelled by phone.")
    assert refund.source == RefundSource.API
    assert refund.requested_by_api_key.company == company


def test_a_reference_names_its_paid_checkout(paid_checkout, ask_refund):
    checkout = paid_checkout(InternalReferenceId="booking-77")

    response = ask_refund(InternalReferenceId="booking-77", Amount=100)

    assert response.status_code == 200
    assert response.json()["SessionId"] == checkout.stripe_session_id


def test_a_session_of_another_reference_is_not_found(paid_checkout, ask_refund):
    checkout = paid_checkout(InternalReferenceId="booking-77")
    paid_checkout(InternalReferenceId="booking-78")

    response = ask_refund(checkout, InternalReferenceId="booking-78")

    assert error_of(response) == (404, "NotFound")


def test_an_unpaid_checkout_is_not_refunded(create_checkout, ask_refund, stripe_emulator):
    session_id = create_checkout().json()["SessionId"]

    by_session = ask_refund(SessionId=session_id)
    by_reference = ask_refund(InternalReferenceId="booking-1001")

    assert error_of(by_session) == (409, "NotPaid")
    assert error_of(by_reference) == (409, "NotPaid")
    assert stripe_emulator.requests_to("POST", CREATE_REFUND) == []
    assert not Refund.objects.exists()


def test_a_payment_still_processing_is_not_refunded(create_checkout, ask_refund, stripe_emulator):
    session_id = create_checkout().json()["SessionId"]
    stripe_emulator.complete_session(session_id, payment_status="unpaid")
    checkout = refresh_checkout_from_stripe(Checkout.objects.get(stripe_session_id=session_id))
    assert checkout.payment_intent_id

    response = ask_refund(checkout)

    assert error_of(response) == (409, "NotPaid")
    assert stripe_emulator.requests_to("POST", CREATE_REFUND) == []


@pytest.mark.parametrize(
    "named", [{"SessionId": "cs_test_nobody"}, {"InternalReferenceId": "booking-nobody"}]
)
def test_an_unknown_checkout_is_not_found(ask_refund, stripe_emulator, named):
    assert error_of(ask_refund(**named)) == (404, "NotFound")


def test_another_companys_paid_checkout_is_not_found(paid_checkout, api, stripe_emulator):
    checkout = paid_checkout()
    other = make_company(name="Other salon", account="acct_1Other")
    make_article(other)
    api.credentials(HTTP_X_API_KEY=make_api_key(other))

    response = api.post(
        REFUND_URL,
        {"CompanyId": str(other.id), "SessionId": checkout.stripe_session_id},
        format="json",
    )

    assert error_of(response) == (404, "NotFound")
    assert stripe_emulator.requests_to("POST", CREATE_REFUND) == []


def test_more_than_is_left_is_refused(paid_checkout, ask_refund, stripe_emulator):
    checkout = paid_checkout()
    ask_refund(checkout, Amount=30000)

    response = ask_refund(checkout, Amount=20000)

    assert error_of(response) == (400, "AmountExceedsRefundable")
    assert response.json()["ResponseStatus"]["Message"] == (
        "Amount 200.00 SEK is more than the 150.00 SEK left to refund."
    )
    assert len(stripe_emulator.requests_to("POST", CREATE_REFUND)) == 1


def test_neither_session_nor_reference_is_a_validation_error(ask_refund, stripe_emulator):
    response = ask_refund(Amount=0)

    assert response.status_code == 400
    assert [
        (error["FieldName"], error["ErrorCode"])
        for error in response.json()["ResponseStatus"]["Errors"]
    ] == [("Amount", "InclusiveBetween")]
    assert error_of(ask_refund(Amount=5)) == (400, "NotEmpty")


# --- the platform's fee -----------------------------------------------------------------


def take_a_fee(company, *, refunded: bool) -> None:
    StripeCheckoutSettings.objects.filter(company=company).update(
        platform_fee_percent=Decimal("10.00"), refund_application_fee=refunded
    )


def test_the_fee_is_refunded_in_proportion_when_the_company_says_so(
    company, paid_checkout, ask_refund, stripe_emulator
):
    take_a_fee(company, refunded=True)
    checkout = paid_checkout()

    ask_refund(checkout, Amount=22500)

    (request,) = stripe_emulator.requests_to("POST", CREATE_REFUND)
    assert request.params["refund_application_fee"] == "true"
    charge = stripe_emulator.charge(stripe_emulator.refunds()[0]["charge"])
    fee = stripe_emulator.application_fee(charge["application_fee"])
    assert (fee["amount"], fee["amount_refunded"]) == (4500, 2250)
    assert Refund.objects.get().refund_application_fee is True


def test_the_fee_is_kept_unless_the_company_says_otherwise(
    company, paid_checkout, ask_refund, stripe_emulator
):
    take_a_fee(company, refunded=False)
    checkout = paid_checkout()

    ask_refund(checkout)

    (request,) = stripe_emulator.requests_to("POST", CREATE_REFUND)
    assert request.params["refund_application_fee"] == "false"
    charge = stripe_emulator.charge(stripe_emulator.refunds()[0]["charge"])
    assert stripe_emulator.application_fee(charge["application_fee"])["amount_refunded"] == 0


def test_without_a_fee_nothing_is_said_of_one(paid_checkout, ask_refund, stripe_emulator):
    ask_refund(paid_checkout())

    (request,) = stripe_emulator.requests_to("POST", CREATE_REFUND)
    assert "refund_application_fee" not in request.params


# --- when Stripe says no, or does not answer ------------------------------------------


def test_a_refund_stripe_refuses_is_kept_as_refused_and_holds_nothing(
    paid_checkout, ask_refund, stripe_emulator
):
    checkout = paid_checkout()
    stripe_emulator.inject_fault(
        "error", method="POST", path=CREATE_REFUND, status=400, message="Charge is disputed."
    )

    refused = ask_refund(checkout)
    again = ask_refund(checkout)

    assert error_of(refused) == (502, "StripeRequestRefused")
    assert refused.json()["ResponseStatus"]["Message"] == "Charge is disputed."
    first = Refund.objects.get(stripe_refund_id__isnull=True)
    assert (first.status, first.error) == (RefundStatus.REFUSED, "Charge is disputed.")
    assert again.status_code == 200
    assert again.json()["AmountRefunded"] == 45000


def test_while_stripe_is_unreachable_the_asked_amount_stays_held(
    paid_checkout, ask_refund, stripe_emulator
):
    checkout = paid_checkout()
    stripe_emulator.inject_fault("error", method="POST", path=CREATE_REFUND, times=None)

    unavailable = ask_refund(checkout, Amount=30000)
    more = ask_refund(checkout, Amount=20000)

    assert error_of(unavailable) == (503, "StripeUnavailable")
    assert Refund.objects.get().status == RefundStatus.REQUESTED
    assert error_of(more) == (400, "AmountExceedsRefundable")


# --- Idempotency-Key ---------------------------------------------------------------------


def test_the_same_key_and_body_gives_the_same_refund_once(
    paid_checkout, ask_refund, stripe_emulator
):
    checkout = paid_checkout()
    key = {"Idempotency-Key": "refund-1"}

    first = ask_refund(checkout, headers=key, Amount=10000)
    again = ask_refund(checkout, headers=key, Amount=10000)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert len(stripe_emulator.requests_to("POST", CREATE_REFUND)) == 1


def test_the_same_key_with_another_body_is_refused(paid_checkout, ask_refund, stripe_emulator):
    checkout = paid_checkout()
    ask_refund(checkout, headers={"Idempotency-Key": "refund-2"}, Amount=10000)

    response = ask_refund(checkout, headers={"Idempotency-Key": "refund-2"}, Amount=20000)

    assert error_of(response) == (422, "IdempotencyKeyReused")


def test_a_key_whose_refund_stripe_refused_may_be_used_again(
    paid_checkout, ask_refund, stripe_emulator
):
    checkout = paid_checkout()
    stripe_emulator.inject_fault("error", method="POST", path=CREATE_REFUND, status=400)
    key = {"Idempotency-Key": "refund-3"}

    assert ask_refund(checkout, headers=key).status_code == 502
    response = ask_refund(checkout, headers=key)

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response


@pytest.mark.parametrize("after_work", [True, False], ids=["made-then-lost", "never-arrived"])
def test_a_lost_answer_is_recovered_by_repeating_the_request_with_its_key(
    paid_checkout, ask_refund, stripe_emulator, settings, after_work
):
    checkout = paid_checkout()
    # Every answer to this refund is lost, the retries' too, until the network mends.
    stripe_emulator.inject_fault(
        "drop", method="POST", path=CREATE_REFUND, times=None, after_work=after_work
    )
    key = {"Idempotency-Key": "refund-4"}
    lost = ask_refund(checkout, headers=key, Amount=12300)
    assert error_of(lost) == (503, "StripeUnavailable")
    assert Refund.objects.get().status == RefundStatus.REQUESTED
    stripe_emulator.clear_faults()
    settings.REFUND_IN_FLIGHT_GRACE = timedelta(0)

    recovered = ask_refund(checkout, headers=key, Amount=12300)

    assert recovered.status_code == 200
    assert (recovered.json()["Status"], recovered.json()["AmountRefunded"]) == ("succeeded", 12300)
    (made,) = stripe_emulator.refunds()
    assert made["amount"] == 12300
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.status) == (made["id"], RefundStatus.SUCCEEDED)
    requests = stripe_emulator.requests_to("POST", CREATE_REFUND)
    assert {request.idempotency_key for request in requests} == {refund.stripe_idempotency_key}


def test_a_lost_refund_asked_again_after_stripe_forgot_its_key_is_found_not_made_twice(
    paid_checkout, ask_refund, stripe_emulator, settings
):
    checkout = paid_checkout()
    stripe_emulator.inject_fault(
        "drop", method="POST", path=CREATE_REFUND, times=None, after_work=True
    )
    key = {"Idempotency-Key": "refund-6"}
    assert ask_refund(checkout, headers=key, Amount=100).status_code == 503
    stripe_emulator.clear_faults()
    asked = len(stripe_emulator.requests_to("POST", CREATE_REFUND))
    # Stripe keeps an idempotency key 24 hours.
    stripe_emulator.set_time(time.time() + 25 * 60 * 60)
    settings.REFUND_IN_FLIGHT_GRACE = timedelta(0)

    response = ask_refund(checkout, headers=key, Amount=100)

    assert response.status_code == 200
    (made,) = stripe_emulator.refunds()
    assert response.json()["RefundId"] == made["id"]
    assert len(stripe_emulator.requests_to("POST", CREATE_REFUND)) == asked


def test_a_repeat_while_the_first_may_still_be_in_flight_is_told_to_wait(
    paid_checkout, ask_refund, stripe_emulator
):
    checkout = paid_checkout()
    stripe_emulator.inject_fault("drop", method="POST", path=CREATE_REFUND, times=None)
    key = {"Idempotency-Key": "refund-5"}
    assert error_of(ask_refund(checkout, headers=key)) == (503, "StripeUnavailable")
    stripe_emulator.clear_faults()
    asked = len(stripe_emulator.requests_to("POST", CREATE_REFUND))

    response = ask_refund(checkout, headers=key)

    assert error_of(response) == (409, "IdempotencyKeyInUse")
    assert len(stripe_emulator.requests_to("POST", CREATE_REFUND)) == asked
    assert ClientIdempotencyKey.objects.get().refund == Refund.objects.get()


# --- formats and the status endpoint ------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xml"])
def test_the_answer_comes_in_csv_and_xml(paid_checkout, api, company, stripe_emulator, suffix):
    checkout = paid_checkout()
    body = {"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id, "Amount": 100}

    response = api.post(f"{REFUND_URL}{suffix}", body, format="json")

    assert response.status_code == 200
    if suffix == ".csv":
        header, row, _ = response.content.decode().split("\r\n")
        assert header == (
            "RefundId,Status,Amount,AmountRefunded,Currency,SessionId,InternalReferenceId"
        )
        assert row.endswith(f",succeeded,100,100,SEK,{checkout.stripe_session_id},booking-1001")
    else:
        root = parse_xml(response.content)
        assert root.tag == "{http://schemas.servicestack.net/types}StripeCheckoutRefundResponse"


def test_the_status_endpoint_tells_what_was_refunded(paid_checkout, ask_refund, api, company):
    checkout = paid_checkout()
    ask_refund(checkout, Amount=5000)

    response = api.post(
        STATUS_URL,
        {"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id},
        format="json",
    )

    assert (response.json()["AmountTotal"], response.json()["AmountRefunded"]) == (45000, 5000)
