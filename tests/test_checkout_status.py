"""POST /payment/stripe/v1/checkout/status: what a confirmation page asks after payment."""

import pytest
from defusedxml.ElementTree import fromstring as parse_xml

from checkouts.models import Checkout, CheckoutStatus, PaymentStatus
from tests.support.api import RETRIEVE_SESSION, STATUS_URL
from tests.support.factories import make_api_key, make_article, make_company

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session_id(create_checkout) -> str:
    response = create_checkout(InternalReferenceId="booking-status")
    assert response.status_code == 200
    return response.json()["SessionId"]


def ask_status(api, company, session_id, **kwargs):
    body = {"CompanyId": str(company.id), "SessionId": session_id}
    return api.post(STATUS_URL, body, format="json", **kwargs)


def test_an_open_checkout_reports_its_status_and_amount(api, company, session_id):
    response = ask_status(api, company, session_id)

    assert response.status_code == 200
    assert response.json() == {
        "Status": "open",
        "CustomerEmail": None,
        "PaymentStatus": "unpaid",
        "InternalReferenceId": "booking-status",
        "AmountTotal": 45000,
        "Currency": "SEK",
        "AmountRefunded": 0,
    }


def test_a_payment_shows_even_when_the_webhook_never_came(
    api, company, session_id, stripe_emulator
):
    stripe_emulator.complete_session(session_id, customer_email="kund@example.se")

    response = ask_status(api, company, session_id)

    body = response.json()
    assert (body["Status"], body["PaymentStatus"]) == ("complete", "paid")
    assert body["CustomerEmail"] == "kund@example.se"
    checkout = Checkout.objects.get(stripe_session_id=session_id)
    assert (checkout.status, checkout.payment_status) == (
        CheckoutStatus.COMPLETE,
        PaymentStatus.PAID,
    )
    assert checkout.paid_at is not None
    assert checkout.payment_intent_id == stripe_emulator.session(session_id)["payment_intent"]


def test_a_finished_checkout_is_answered_without_asking_stripe(
    api, company, session_id, stripe_emulator
):
    Checkout.objects.update(status=CheckoutStatus.EXPIRED)

    response = ask_status(api, company, session_id)

    assert response.json()["Status"] == "expired"
    assert stripe_emulator.requests_to("GET", RETRIEVE_SESSION) == []


def test_an_unknown_session_is_not_found(api, company, stripe_emulator):
    response = ask_status(api, company, "cs_test_nobody")

    assert response.status_code == 404
    assert response.json()["ResponseStatus"]["ErrorCode"] == "NotFound"


def test_another_companys_session_is_not_found(api, session_id, stripe_emulator):
    other = make_company(name="Other salon", account="acct_1Other")
    make_article(other)
    api.credentials(HTTP_X_API_KEY=make_api_key(other))

    response = ask_status(api, other, session_id)

    assert response.status_code == 404


def test_a_key_of_another_company_is_forbidden(api, company, session_id, client):
    other = make_company(name="Other salon", account="acct_1Other")
    api.credentials(HTTP_X_API_KEY=make_api_key(other))

    response = ask_status(api, company, session_id)

    assert response.status_code == 403


def test_no_api_key_is_unauthorised(client, company, session_id):
    response = client.post(
        STATUS_URL,
        {"CompanyId": str(company.id), "SessionId": session_id},
        content_type="application/json",
    )

    assert response.status_code == 401


def test_both_fields_are_required_and_named(api, stripe_emulator):
    response = api.post(STATUS_URL, {"companyid": "x"}, format="json")

    assert response.status_code == 400
    errors = {e["FieldName"]: e["ErrorCode"] for e in response.json()["ResponseStatus"]["Errors"]}
    assert errors == {"CompanyId": "Invalid", "SessionId": "NotEmpty"}


def test_status_can_be_read_as_csv(api, company, session_id):
    response = ask_status(api, company, session_id, HTTP_ACCEPT="text/csv")

    header, row, _ = response.content.decode().split("\r\n")
    assert header.split(",")[:2] == ["Status", "CustomerEmail"]
    assert row.split(",")[:3] == ["open", "", "unpaid"]


def test_status_can_be_read_as_xml(api, company, session_id):
    response = api.post(
        f"{STATUS_URL}.xml", {"CompanyId": str(company.id), "SessionId": session_id}, format="json"
    )

    root = parse_xml(response.content)
    assert root.tag.endswith("StripeCheckoutStatusQueryResponse")


def test_stripe_unreachable_while_refreshing_is_service_unavailable(
    api, company, session_id, stripe_emulator, settings
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_emulator.inject_fault("error", method="GET", path=RETRIEVE_SESSION, status=503)

    response = ask_status(api, company, session_id)

    assert response.status_code == 503
    assert response.json()["ResponseStatus"]["ErrorCode"] == "StripeUnavailable"


def test_an_email_with_a_nul_character_is_stored_without_it(
    api, company, session_id, stripe_emulator
):
    stripe_emulator.complete_session(session_id, customer_email="kund\x00@example.se")

    response = ask_status(api, company, session_id)

    assert response.status_code == 200
    assert response.json()["CustomerEmail"] == "kund@example.se"
