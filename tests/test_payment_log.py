"""GET /payment/stripe/v1/payments: a company's checkouts, paged, in JSON, CSV and XML."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from defusedxml.ElementTree import fromstring as parse_xml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import StripeCheckoutSettings
from checkouts import selectors
from checkouts.models import Checkout, CheckoutStatus, PaymentStatus
from tests.support.api import PAYMENTS_URL, REFUND_URL
from tests.support.factories import (
    build_checkout,
    make_api_key,
    make_checkout,
    make_company,
    make_paid_checkout,
    make_payable,
)

RESULT_FIELDS = [
    "SessionId",
    "InternalReferenceId",
    "Status",
    "PaymentStatus",
    "AmountTotal",
    "AmountRefunded",
    "ApplicationFeeAmount",
    "Currency",
    "CustomerEmail",
    "PaymentIntentId",
    "Created",
    "PaidAt",
]


@pytest.fixture
def payment_log(api, company):
    """GET the payment log of ``company``; keyword arguments are query parameters."""

    def get(suffix: str = "", **query):
        return api.get(f"{PAYMENTS_URL}{suffix}?{urlencode({'CompanyId': company.id, **query})}")

    return get


def many_checkouts(company, count: int) -> list[Checkout]:
    """``count`` checkouts of as many payables, made one second apart, oldest first."""
    start = timezone.now() - timedelta(days=1)
    payables = [make_payable(company, f"booking-{number:05}") for number in range(count)]
    checkouts = Checkout.objects.bulk_create(build_checkout(payable) for payable in payables)
    for position, checkout in enumerate(checkouts):
        checkout.created_at = start + timedelta(seconds=position)
    Checkout.objects.bulk_update(checkouts, ["created_at"], batch_size=1000)
    return checkouts


@pytest.mark.django_db(transaction=True)
def test_a_paid_refunded_checkout_with_a_fee_is_one_result(
    company, paid_checkout, api, payment_log, stripe_emulator
):
    StripeCheckoutSettings.objects.filter(company=company).update(
        platform_fee_percent=Decimal("2.50")
    )
    checkout = paid_checkout()
    body = {"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id, "Amount": 5000}
    assert api.post(REFUND_URL, body, format="json").status_code == 200

    response = payment_log()

    assert response.status_code == 200
    body = response.json()
    assert (body["Offset"], body["Total"], body["Meta"], body["ResponseStatus"]) == (
        0,
        1,
        None,
        None,
    )
    (result,) = body["Results"]
    assert list(result) == RESULT_FIELDS
    assert {name: value for name, value in result.items() if name not in ("Created", "PaidAt")} == {
        "SessionId": checkout.stripe_session_id,
        "InternalReferenceId": "booking-1001",
        "Status": "complete",
        "PaymentStatus": "paid",
        "AmountTotal": 45000,
        "AmountRefunded": 5000,
        "ApplicationFeeAmount": 1125,
        "Currency": "SEK",
        "CustomerEmail": "kund@example.se",
        "PaymentIntentId": checkout.payment_intent_id,
    }
    assert result["Created"].endswith("Z")
    assert result["PaidAt"] >= result["Created"]


@pytest.mark.django_db
def test_filters_narrow_the_log(company, payment_log):
    now = timezone.now()
    old = make_paid_checkout(make_payable(company, "booking-old"))
    Checkout.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=3))
    paid = make_paid_checkout(make_payable(company, "booking-paid"))
    unpaid = make_checkout(make_payable(company, "booking-unpaid"))

    def sessions(**query) -> list[str]:
        return [row["SessionId"] for row in payment_log(**query).json()["Results"]]

    since = (now - timedelta(days=1)).isoformat()
    assert sessions(CreatedFrom=since) == [paid.stripe_session_id, unpaid.stripe_session_id]
    assert sessions(CreatedTo=since) == [old.stripe_session_id]
    assert sessions(PaymentStatus="paid", CreatedFrom=since) == [paid.stripe_session_id]
    assert sessions(InternalReferenceId="booking-unpaid") == [unpaid.stripe_session_id]
    assert sessions(InternalReferenceId="booking-nobody") == []


@pytest.mark.django_db
def test_a_plus_left_unencoded_in_an_offset_still_reads_as_one(company, api):
    make_checkout(make_payable(company))
    query = f"CompanyId={company.id}&CreatedFrom=2020-01-01T00:00:00+01:00"

    response = api.get(f"{PAYMENTS_URL}?{query}")

    assert response.json()["Total"] == 1


@pytest.mark.django_db
def test_another_companys_checkouts_never_appear(company, payment_log):
    other = make_company(name="Other salon", account="acct_1Other")
    make_checkout(make_payable(other))

    assert payment_log().json()["Total"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"Take": "1001"}, "Take", "InclusiveBetween"),
        ({"Skip": "-1"}, "Skip", "InclusiveBetween"),
        ({"CreatedFrom": "2026-01-31T10:00:00"}, "CreatedFrom", "InvalidDateTime"),
        ({"PaymentStatus": "refunded"}, "PaymentStatus", "InvalidChoice"),
    ],
)
def test_a_wrong_parameter_is_a_validation_error(payment_log, query, field, code):
    response = payment_log(**query)

    assert response.status_code == 400
    (error,) = response.json()["ResponseStatus"]["Errors"]
    assert (error["FieldName"], error["ErrorCode"]) == (field, code)


@pytest.mark.django_db
def test_company_id_is_required(api):
    response = api.get(PAYMENTS_URL)

    assert response.status_code == 400
    assert response.json()["ResponseStatus"]["Errors"][0]["FieldName"] == "CompanyId"


@pytest.mark.django_db
def test_another_companys_key_is_forbidden(company, api):
    other = make_company(name="Other salon", account="acct_1Other")
    api.credentials(HTTP_X_API_KEY=make_api_key(other))

    response = api.get(f"{PAYMENTS_URL}?CompanyId={company.id}")

    assert response.status_code == 403


# --- paging -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_log_pages_through_many_thousand_checkouts_in_json(company, payment_log):
    made = many_checkouts(company, 5000)
    seen = []

    while True:
        page = payment_log(Skip=len(seen), Take=1000).json()
        assert (page["Offset"], page["Total"]) == (len(seen), 5000)
        seen += [row["SessionId"] for row in page["Results"]]
        if len(page["Results"]) < 1000:
            break

    assert seen == [checkout.stripe_session_id for checkout in made]


@pytest.mark.django_db
def test_the_log_pages_through_many_thousand_checkouts_in_csv(company, payment_log):
    made = many_checkouts(company, 5000)
    seen = []

    while True:
        response = payment_log(".csv", Skip=len(seen), Take=1000)
        assert response["Content-Type"].startswith("text/csv")
        text = response.content.decode()
        assert text.count("\r\n") == text.count("\n")
        header, *rows = list(csv.reader(io.StringIO(text)))
        assert header == RESULT_FIELDS
        seen += [row[0] for row in rows]
        if len(rows) < 1000:
            break

    assert seen == [checkout.stripe_session_id for checkout in made]


@pytest.mark.django_db
def test_an_empty_page_in_csv_is_its_header(payment_log):
    response = payment_log(format="csv")

    assert response.content.decode() == ",".join(RESULT_FIELDS) + "\r\n"


@pytest.mark.django_db
def test_nulls_in_csv_are_empty_cells(company, payment_log):
    make_checkout(make_payable(company))

    header, row = list(csv.reader(io.StringIO(payment_log(format="csv").content.decode())))

    values = dict(zip(header, row, strict=True))
    assert (values["CustomerEmail"], values["PaidAt"], values["ApplicationFeeAmount"]) == (
        "",
        "",
        "",
    )


@pytest.mark.django_db
def test_the_log_in_xml_names_each_result_after_its_dto(company, payment_log):
    checkout = make_paid_checkout(make_payable(company))

    response = payment_log(".xml")

    namespace = "{http://schemas.servicestack.net/types}"
    root = parse_xml(response.content)
    assert root.tag == f"{namespace}StripeCheckoutPaymentsQueryResponse"
    (result,) = root.find(f"{namespace}Results")
    assert result.tag == f"{namespace}StripeCheckoutPayment"
    assert result.find(f"{namespace}SessionId").text == checkout.stripe_session_id


@pytest.mark.django_db
def test_total_is_capped_past_the_count_limit_and_says_so(company, payment_log, monkeypatch):
    many_checkouts(company, 30)
    monkeypatch.setattr(selectors, "PAYMENT_LOG_COUNT_CAP", 10)

    with CaptureQueriesContext(connection) as queries:
        capped = payment_log(Skip=5, Take=5).json()
    (count,) = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]
    exact = payment_log(Skip=25, Take=5).json()

    assert (capped["Total"], capped["Meta"]) == (15, {"TotalIsLowerBound": "true"})
    assert (exact["Total"], exact["Meta"]) == (30, None)
    # Never more rows counted than Skip + the cap, and one to tell that there are more.
    assert "LIMIT 16" in count


@pytest.mark.django_db
def test_a_page_costs_the_same_few_queries_however_many_results(company, api):
    many_checkouts(company, 1000)
    url = f"{PAYMENTS_URL}?CompanyId={company.id}"

    def queries(take: int) -> int:
        with CaptureQueriesContext(connection) as context:
            assert api.get(f"{url}&Take={take}").status_code == 200
        return len(context.captured_queries)

    few = queries(1)
    assert few > 0
    assert queries(1000) == few


@pytest.mark.django_db
def test_checkouts_of_every_state_are_in_the_log(company, payment_log):
    make_checkout(make_payable(company, "booking-expired"), status=CheckoutStatus.EXPIRED)
    make_paid_checkout(make_payable(company, "booking-paid"))

    rows = payment_log().json()["Results"]

    assert [(row["Status"], row["PaymentStatus"]) for row in rows] == [
        (CheckoutStatus.EXPIRED, PaymentStatus.UNPAID),
        (CheckoutStatus.COMPLETE, PaymentStatus.PAID),
    ]
