"""The admin at scale, on PostgreSQL: every page reads about the rows it shows.

Each test fills a big table with tens of thousands of common rows, adds a few rare ones
(the oldest, so that only an index finds them without reading the rest), and has
PostgreSQL analyse it. It then asks for every page the list offers (each filter choice,
each sortable column, each search and date level) and runs each of the page's queries
under EXPLAIN ANALYZE: none may scan a big table, throw away or sort more than a few
pages of rows, or count without a bound. Deleting an index the admin relies on, or the
estimated count, makes one of these fail.
"""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.admin.templatetags.admin_list import result_headers
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bokacheckout import paginators
from bokacheckout.paginators import EstimatedCountPaginator
from checkouts.models import (
    Checkout,
    CheckoutStatus,
    PaymentStatus,
    StripeExpiry,
    UiMode,
    WebhookDelivery,
    WebhookOutcome,
)
from checkouts.templatetags.admin_at_scale import date_hierarchy_by_probes
from tests.support import bulk
from tests.support.factories import make_checkout, make_company, make_paid_checkout, make_payable
from tests.support.query_plans import UNBOUNDED_COUNT, excess_work, plan_of, steps

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres(reason="needs PostgreSQL: these tests read its planner's choices"),
]

CHECKOUTS = "/admin/checkouts/checkout/"
PAYABLES = "/admin/checkouts/payable/"
DELIVERIES = "/admin/checkouts/webhookdelivery/"
PAGE = 100  # the admin's list_per_page
# What a page may read: its own rows and the page's before it, or, when its filter picks
# one row in five or more (an expired checkout), the rows a walk of the list's own index
# passes over to find them. A filter that picks rarer rows needs an index of its own.
READ_AT_MOST = 5 * PAGE
COMMON_ROWS = 12_000
# Lists count exactly up to this many rows (a tenth of the real limit), so that 12,000
# rows stand for a table far past it, as a million do.
COUNTED_UP_TO = 1_000
# The page's rows, fetched by the ids a first query found.
BY_IDS = re.compile(r'"id" IN \((\d+|\'[0-9a-f]{32}\'::uuid)(, |\))')
SPACING = timedelta(minutes=30)  # 12,000 rows over 250 days


@pytest.fixture(autouse=True)
def limit_of_exact_counts(monkeypatch):
    monkeypatch.setattr(paginators, "EXACT_COUNT_UP_TO", COUNTED_UP_TO)


@pytest.fixture
def now():
    """What the rows count back from: the bulk helpers put their newest row one SPACING
    before it, and that row is early today (UTC), whatever the time of the run.

    Rows come every half hour back from there, so today's date page holds a row, a small
    share of the table as a day is of a million rows; the admin's date drill-down ends on
    it. A whole day holds some 50 of these 12,000, and for that share PostgreSQL may
    rightly read the small payables table whole instead of looking each row's payable up:
    the test then failed or passed by the hour it ran, and when the newest row was
    yesterday's.
    """
    current = timezone.now()
    newest_row = min(current, current.replace(hour=0, minute=5, second=0, microsecond=0))
    return newest_row + SPACING


@pytest.fixture
def long_ago(now):
    """Before every common row."""
    return now - timedelta(days=3 * 365)


@pytest.fixture
def checkouts_at_scale(company, now, long_ago):
    """12,000 paid hosted checkouts (and 3,000 older sessions they superseded), and the
    oldest few of each kind a filter picks."""
    bulk.insert_paid_checkouts(
        company, count=COMMON_ROWS, newest=now, spacing=SPACING, prefix="booking-"
    )
    bulk.insert_superseded_checkouts(every=4)
    rare = {"created_at": long_ago}
    make_checkout(make_payable(company, "rare-open"), **rare)
    make_checkout(make_payable(company, "rare-expired"), status=CheckoutStatus.EXPIRED, **rare)
    make_checkout(
        make_payable(company, "rare-free"),
        status=CheckoutStatus.COMPLETE,
        payment_status=PaymentStatus.NO_PAYMENT_REQUIRED,
        **rare,
    )
    make_checkout(make_payable(company, "rare-embedded"), ui_mode=UiMode.EMBEDDED, **rare)
    make_paid_checkout(make_payable(company, "rare-partly"), amount_refunded=100, **rare)
    make_paid_checkout(make_payable(company, "rare-fully"), amount_refunded=45000, **rare)
    paid_while_superseded = make_payable(company, "rare-paid-superseded")
    current = make_checkout(paid_while_superseded, **rare)
    make_paid_checkout(paid_while_superseded, superseded_by=current, superseded_at=long_ago, **rare)
    expiry_failing = make_payable(company, "rare-expiry-failing")
    current = make_checkout(expiry_failing, **rare)
    make_checkout(
        expiry_failing,
        superseded_by=current,
        superseded_at=long_ago,
        stripe_expiry=StripeExpiry.PENDING,
        stripe_expiry_attempts=2,
        **rare,
    )
    bulk.analyse()
    yield
    bulk.forget()


@pytest.fixture
def payables_at_scale(company, now, long_ago):
    """One company's 12,000 payables, another's 1,500 (older), and a third company's none."""
    bulk.insert_paid_checkouts(
        company, count=COMMON_ROWS, newest=now, spacing=SPACING, prefix="booking-"
    )
    other = make_company(name="Salong Ljus", account="acct_1SalongLjus")
    bulk.insert_paid_checkouts(other, count=1_500, newest=long_ago, spacing=SPACING, prefix="ljus-")
    make_company(name="Salong Tom", account="acct_1SalongTom")
    bulk.analyse()
    yield
    bulk.forget()


@pytest.fixture
def deliveries_at_scale(now, long_ago):
    """12,000 processed deliveries, and the oldest one of each outcome and event type."""
    bulk.insert_processed_deliveries(count=COMMON_ROWS, newest=now, spacing=SPACING)
    rare = [
        *({"outcome": outcome} for outcome in WebhookOutcome.values),
        *(
            {"event_type": event_type}
            for event_type in ["checkout.session.expired", "refund.created", "refund.failed"]
        ),
    ]
    for number, fields in enumerate(rare):
        delivery = WebhookDelivery.objects.create(
            event_id=f"evt_rare_{number}",
            event_type=fields.get("event_type", "checkout.session.completed"),
            outcome=fields.get("outcome", WebhookOutcome.PROCESSED),
            payload="{}",
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=long_ago)
    bulk.analyse()
    yield
    bulk.forget()


def pages_offered(client, url: str, searches: list[str]) -> list[str]:
    """The list, its second page, each filter choice, sortable column and date level it
    offers (its per-choice counts too, if it offered them), and ``searches``."""
    cl = client.get(url).context["cl"]
    pages = [url, f"{url}?p=2"]
    for spec in cl.filter_specs:
        pages += [url + choice["query_string"] for choice in spec.choices(cl)]
    for header in result_headers(cl):
        if header["sortable"]:
            pages += [url + header["url_primary"], url + header["url_toggle"]]
    if cl.is_facets_optional:
        pages.append(url + cl.add_facet_link)
    pages += [f"{url}?{urlencode({'q': term})}" for term in searches]
    link = "?"
    while cl.date_hierarchy and link:
        pages.append(url + link)
        choices = date_hierarchy_by_probes(client.get(url + link).context["cl"])["choices"]
        link = choices[-1].get("link") if choices else None
    return list(dict.fromkeys(pages))


def excess_work_of(client, url: str) -> list[str]:
    """What the page's queries of the big tables did beyond reading about its rows.

    The query that fetches the page's rows by their ids is left out: it reads a page of
    rows by primary key at most, and the planner may as well read the few rows of a small
    filter instead. The query that found those ids is the one that must use an index.
    """
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    found = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if not sql.startswith("SELECT") or not any(f'"{t}"' in sql for t in bulk.TABLES):
            continue
        if BY_IDS.search(sql):
            continue
        if UNBOUNDED_COUNT.match(sql):
            found.append(f"a count without a bound: {sql[:120]}")
        found += excess_work(sql, tables=bulk.TABLES, rows=READ_AT_MOST)
    return [f"{url}: {work}" for work in found]


@pytest.mark.usefixtures("checkouts_at_scale")
def test_every_page_of_the_checkouts_list_reads_about_its_rows(admin_client):
    paid = Checkout.objects.filter(payable__internal_reference_id="booking-7").get()
    searches = [
        "booking-7",
        "rare-open",
        "nothing-like-this",
        paid.stripe_session_id,
        paid.payment_intent_id,
        paid.customer_id,
    ]

    pages = pages_offered(admin_client, CHECKOUTS, searches)

    assert [work for page in pages for work in excess_work_of(admin_client, page)] == []
    assert len(pages) > 30  # every filter choice, search and date level was asked for


@pytest.mark.usefixtures("payables_at_scale")
def test_every_page_of_the_payables_list_reads_about_its_rows(admin_client):
    pages = pages_offered(admin_client, PAYABLES, ["booking-7", "ljus-12", "nothing-like-this"])

    assert [work for page in pages for work in excess_work_of(admin_client, page)] == []
    assert len(pages) > 10


@pytest.mark.usefixtures("deliveries_at_scale")
def test_every_page_of_the_deliveries_list_reads_about_its_rows(admin_client):
    pages = pages_offered(admin_client, DELIVERIES, ["evt_bulk_7", "evt_rare_1"])

    assert [work for page in pages for work in excess_work_of(admin_client, page)] == []
    assert len(pages) > 15


@pytest.mark.usefixtures("checkouts_at_scale")
def test_a_big_list_shows_its_estimated_count_without_counting(admin_client):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CHECKOUTS)

    shown = Checkout.objects.count()
    assert shown > COUNTED_UP_TO
    assert f"\nabout {shown} checkouts\n" in response.content.decode()
    assert not any("COUNT(" in query["sql"] for query in queries.captured_queries)


@pytest.mark.usefixtures("checkouts_at_scale")
def test_a_count_the_planner_underestimates_stops_at_the_limit(company, now):
    # Made after the statistics: the planner believes there are next to none.
    bulk.insert_paid_checkouts(
        company,
        count=COUNTED_UP_TO + 500,
        newest=now,
        spacing=SPACING,
        prefix="later-",
        ui_mode=UiMode.EMBEDDED,
    )
    embedded = Checkout.objects.filter(ui_mode=UiMode.EMBEDDED).order_by("-created_at")
    paginator = EstimatedCountPaginator(embedded, PAGE)

    with CaptureQueriesContext(connection) as queries:
        counted = paginator.count

    assert (counted, paginator.count_is_exact) == (COUNTED_UP_TO + 1, False)
    (count,) = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]
    assert f"LIMIT {COUNTED_UP_TO + 1}" in count


@pytest.mark.usefixtures("payables_at_scale")
def test_a_deep_page_joins_and_counts_sessions_for_its_own_rows_only(admin_client):
    with CaptureQueriesContext(connection) as queries:
        # The middle page: the deepest, since pages past it are counted from the end.
        admin_client.get(f"{PAYABLES}?p={(COMMON_ROWS + 1_500) // PAGE // 2}")

    (page_query,) = [
        query["sql"] for query in queries.captured_queries if "COUNT(U0" in query["sql"]
    ]
    assert max(step.get("Actual Loops", 1) for step in steps(plan_of(page_query))) <= PAGE


@pytest.mark.usefixtures("checkouts_at_scale")
def test_the_last_page_of_an_estimated_list_shows_the_oldest_rows(admin_client, company):
    for number in range(30):  # made since the table was analysed: the estimate is short
        make_checkout(make_payable(company, f"new-{number}"))
    cl = admin_client.get(CHECKOUTS).context["cl"]
    assert cl.paginator.count_is_exact is False

    last = admin_client.get(f"{CHECKOUTS}?p={cl.paginator.num_pages}").context["cl"]

    shown = [checkout.pk for checkout in last.result_list]
    oldest = Checkout.objects.order_by("created_at", "id").values_list("pk", flat=True)
    assert shown == list(oldest[: len(shown)])[::-1]
    assert shown
