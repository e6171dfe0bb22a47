"""The admin's lists, on any database: what they show is what Django's own would show,
and a page costs the same queries however many rows there are.

What they cost at a million rows (on PostgreSQL) is in tests/test_admin_at_scale.py.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bokacheckout import paginators
from bokacheckout.paginators import EstimatedCountPaginator
from checkouts.models import (
    Checkout,
    CheckoutStatus,
    Payable,
    WebhookDelivery,
    WebhookOutcome,
)
from checkouts.selectors import CREATION_ORDER_BATCH, in_creation_order
from checkouts.templatetags.admin_at_scale import date_hierarchy_by_probes
from checkouts.webhooks import HANDLED_EVENT_TYPES
from tests.support.factories import (
    make_api_key,
    make_article,
    make_checkout,
    make_company,
    make_paid_checkout,
    make_payable,
)

CHECKOUTS = "/admin/checkouts/checkout/"
PAYABLES = "/admin/checkouts/payable/"
DELIVERIES = "/admin/checkouts/webhookdelivery/"


def make_delivery(**fields) -> WebhookDelivery:
    values = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "event_type": "checkout.session.completed",
        "account": "acct_1SalongLugn",
        "payload": "{}",
        "outcome": WebhookOutcome.PROCESSED,
        **fields,
    }
    return WebhookDelivery.objects.create(**values)


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def changelist_of(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    return response.context["cl"]


# --- work per page -----------------------------------------------------------------------


def add_checkouts(number: int) -> None:
    """A company's checkouts of every kind a row of the list can show."""
    company = make_company(name=f"Salong {number}", account=f"acct_{number}")
    payable = make_payable(company, f"booking-{number}")
    current = make_checkout(payable)
    make_paid_checkout(
        payable, superseded_by=current, superseded_at=timezone.now(), amount_refunded=100
    )


def add_payables(number: int) -> None:
    company = make_company(name=f"Salong {number}", account=f"acct_{number}")
    payable = make_payable(company, f"booking-{number}")
    make_checkout(payable, status=CheckoutStatus.EXPIRED)
    make_paid_checkout(payable)


def add_deliveries(number: int) -> None:
    make_delivery(outcome=WebhookOutcome.FAILED, error="Stripe was unavailable.")
    make_delivery(event_type="refund.created")


def add_api_keys(number: int) -> None:
    make_api_key(make_company(name=f"Salong {number}", account=f"acct_{number}"))


def add_articles(number: int) -> None:
    company = make_company(name=f"Salong {number}", account=f"acct_{number}")
    make_article(company, article_id=1)
    make_article(company, article_id=2, name="Beard trim")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "add_rows"),
    [
        pytest.param(CHECKOUTS, add_checkouts, id="checkouts"),
        pytest.param(PAYABLES, add_payables, id="payables"),
        pytest.param(DELIVERIES, add_deliveries, id="deliveries"),
        pytest.param("/admin/checkouts/companyapikey/", add_api_keys, id="api keys"),
        pytest.param("/admin/articles/company/", add_articles, id="companies"),
        pytest.param("/admin/articles/article/", add_articles, id="articles"),
    ],
)
def test_a_list_page_costs_the_same_queries_however_many_rows(admin_client, url, add_rows):
    add_rows(0)
    queries_of(admin_client, url)  # warms per-process caches (content types)
    one = queries_of(admin_client, url)
    for number in range(1, 10):
        add_rows(number)

    assert queries_of(admin_client, url) == one


# --- counts ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_small_list_shows_its_exact_count(admin_client, company):
    for number in range(3):
        make_checkout(make_payable(company, f"booking-{number}"))

    response = admin_client.get(CHECKOUTS)

    assert response.context["cl"].paginator.count_is_exact is True
    assert "\n3 checkouts\n" in response.content.decode()


@pytest.mark.django_db
def test_the_paginator_counts_exactly_on_sqlite_even_past_its_limit(company, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL estimates past the limit (tests/test_admin_at_scale.py)")
    monkeypatch.setattr(paginators, "EXACT_COUNT_UP_TO", 5)
    for number in range(8):
        make_payable(company, f"booking-{number}")

    paginator = EstimatedCountPaginator(Payable.objects.order_by("pk"), 3)

    assert (paginator.count, paginator.count_is_exact) == (8, True)


@pytest.mark.django_db
def test_the_paginator_counts_a_table_below_its_limit_exactly(company):
    for number in range(8):
        make_payable(company, f"booking-{number}")

    paginator = EstimatedCountPaginator(Payable.objects.order_by("pk"), 3)

    assert (paginator.count, paginator.count_is_exact) == (8, True)


@pytest.mark.django_db
def test_a_filtered_list_below_the_limit_is_counted_exactly(admin_client, company):
    make_checkout(make_payable(company, "booking-1"))
    for number in range(2, 6):
        make_checkout(make_payable(company, f"booking-{number}"), status=CheckoutStatus.EXPIRED)

    cl = changelist_of(admin_client, f"{CHECKOUTS}?status__exact=expired")

    assert (cl.result_count, cl.paginator.count_is_exact) == (4, True)


# --- pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_page_lists_the_next_rows_newest_first(admin_client, company):
    start = timezone.now() - timedelta(days=1)
    for number in range(250):
        # Every other pair made at the same moment: the id decides between them.
        made = start + timedelta(minutes=number // 2)
        make_checkout(make_payable(company, f"booking-{number}"), created_at=made)
    newest_first = list(
        Checkout.objects.order_by("-created_at", "-id").values_list("stripe_session_id", flat=True)
    )

    pages = [
        [str(row) for row in changelist_of(admin_client, f"{CHECKOUTS}?p={page}").result_list]
        for page in (1, 2, 3)
    ]

    assert pages == [newest_first[:100], newest_first[100:200], newest_first[200:]]


@pytest.mark.django_db
def test_payables_count_each_ones_sessions_on_any_page(admin_client, company):
    start = timezone.now() - timedelta(days=1)
    for number in range(150):
        payable = make_payable(company, f"booking-{number}")
        Payable.objects.filter(pk=payable.pk).update(created_at=start + timedelta(minutes=number))
        for _ in range(number % 3):
            make_checkout(payable, status=CheckoutStatus.EXPIRED)

    second_page = changelist_of(admin_client, f"{PAYABLES}?p=2").result_list

    assert [(payable.internal_reference_id, payable.session_count) for payable in second_page] == [
        (f"booking-{number}", number % 3) for number in range(49, -1, -1)
    ]


# --- the date drill-down -----------------------------------------------------------------


@pytest.fixture
def checkouts_on_dates(company) -> None:
    """Checkouts on a few days of two years, leaving months and days without any."""
    days = [
        (2024, 3, 5),
        (2024, 7, 19),
        (2025, 7, 1),
        (2025, 7, 1),
        (2025, 7, 30),
        (2025, 12, 31),
    ]
    for number, (year, month, day) in enumerate(days):
        made = datetime(year, month, day, 23, 30, tzinfo=UTC)
        status = CheckoutStatus.EXPIRED if number % 2 else CheckoutStatus.OPEN
        make_checkout(make_payable(company, f"booking-{number}"), status=status, created_at=made)


@pytest.mark.django_db
@pytest.mark.usefixtures("checkouts_on_dates")
@pytest.mark.parametrize(
    "query",
    [
        "",
        "?created_at__year=2025",
        "?created_at__year=2025&created_at__month=7",
        "?created_at__year=2025&created_at__month=7&created_at__day=1",
        "?created_at__year=2024&created_at__month=2",
        "?status__exact=expired",
        "?status__exact=expired&created_at__year=2025",
        "?q=booking-9",
    ],
)
def test_the_date_drill_down_offers_what_djangos_own_offers(admin_client, query):
    cl = changelist_of(admin_client, CHECKOUTS + query)

    assert date_hierarchy_by_probes(cl) == date_hierarchy(cl)


@pytest.mark.django_db
def test_the_date_drill_down_of_one_month_offers_its_days(admin_client, company):
    for day in (3, 17):
        made = datetime(2025, 5, day, 12, tzinfo=UTC)
        make_checkout(make_payable(company, f"booking-{day}"), created_at=made)

    cl = changelist_of(admin_client, CHECKOUTS)

    assert date_hierarchy_by_probes(cl) == date_hierarchy(cl)
    assert [choice["title"] for choice in date_hierarchy_by_probes(cl)["choices"]] == [
        "May 3",
        "May 17",
    ]


# --- filters -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_event_type_filter_offers_the_handled_types_and_lists_only_one(admin_client):
    wanted = make_delivery(event_type="refund.failed")
    make_delivery(event_type="checkout.session.completed")

    cl = changelist_of(admin_client, f"{DELIVERIES}?event_type=refund.failed")

    (event_types,) = [spec for spec in cl.filter_specs if spec.title == "event type"]
    assert [value for value, _ in event_types.lookup_choices] == sorted(HANDLED_EVENT_TYPES)
    assert list(cl.result_list) == [wanted]


# --- the payment log's export -------------------------------------------------------------


@pytest.mark.django_db
def test_the_export_reads_checkouts_in_batches_in_creation_order(company):
    made = timezone.now() - timedelta(hours=1)
    for number in range(7):
        # Three at one moment, so that a batch ends between rows made together.
        at = made + timedelta(minutes=number // 3 if number < 6 else 10)
        make_checkout(make_payable(company, f"booking-{number}"), created_at=at)
    in_order = list(Checkout.objects.order_by("created_at", "id"))

    with CaptureQueriesContext(connection) as queries:
        read = list(in_creation_order(Checkout.objects.all(), batch_size=2))

    assert read == in_order
    assert len(queries) == 4


@pytest.mark.django_db
def test_the_export_asks_for_its_checkouts_a_batch_at_a_time(admin_client, company):
    make_checkout(make_payable(company))

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(f"{CHECKOUTS}export-payment-log/")
        lines = b"".join(response.streaming_content).splitlines()

    oldest_first = '"checkouts_checkout"."created_at" ASC, "checkouts_checkout"."id" ASC'
    reads = [query["sql"] for query in queries.captured_queries if oldest_first in query["sql"]]
    assert len(lines) == 2
    # Not one query for all (which PostgreSQL computes whole before the first row).
    assert reads
    assert all(sql.endswith(f"LIMIT {CREATION_ORDER_BATCH}") for sql in reads)
