"""Benchmark: how long the admin's pages take with a million checkouts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bokacheckout \\
        .venv/bin/python benchmarks/admin.py [--checkouts 1000000] [--repeat 5] [--rebuild]

It builds, once, a database beside DATABASE_URL's (``<name>_admin_bench``, on the same
PostgreSQL server): 100 companies with their articles and API keys, 1,000,000 checkouts
over two years (875,000 payables, one in 7 with an older superseded session), a refund
per refunded checkout and a webhook delivery per event Stripe would have sent. The
next runs reuse it (``--rebuild`` builds it anew, ``--drop`` drops it at the end).

It then asks every admin list page, as a superuser through Django's test client: each
page, each filter choice the page offers, each sortable column, each search, a page
deep in the list, each date level, a record's own page and the payment log's export.
It prints each one's median time, its SQL statements and the count the page shows.
"""

import argparse
import re
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from scale_data import (
    BenchmarkDatabase,
    Stopwatch,
    configure_django,
    insert_checkouts,
    require_postgres,
    vacuum_analyse,
)

COMPANY_COUNT = 100
ARTICLES_PER_COMPANY = 10
SUPERSEDED_EVERY = 7  # one payable in 7 has an older session that its current one replaced
SPAN = timedelta(days=730)
# A filter with more choices than this (one per company) is timed for a few of them.
SAMPLED_CHOICES = 3

INSERT_REFUNDS = """
INSERT INTO checkouts_refund (
    id, checkout_id, stripe_refund_id, amount, currency, status, reason, comments, source,
    refund_application_fee, failure_reason, error, stripe_asked_at, created_at, updated_at
)
SELECT gen_random_uuid(), c.id, 're_bench_' || c.payable_id, c.amount_refunded, c.currency,
       'succeeded', 'requested_by_customer', '', 'api', false, '', '',
       c.paid_at + interval '1 day', c.paid_at + interval '1 day', c.paid_at + interval '1 day'
FROM checkouts_checkout AS c
WHERE c.amount_refunded > 0
"""

# What Stripe sends: a session's completion or expiry, then each refund's creation.
# Now and then a delivery is a duplicate, ignored, failed or rejected.
INSERT_DELIVERIES = """
INSERT INTO checkouts_webhookdelivery (
    event_id, event_type, account, payload, received_at, processed_at, outcome, error
)
SELECT e.event_id, e.event_type, e.account,
       json_build_object(
           'id', e.event_id, 'object', 'event', 'api_version', '2026-10-28.endive',
           'account', e.account, 'type', e.event_type, 'livemode', false,
           'created', extract(epoch FROM e.received_at)::bigint,
           'data', json_build_object('object', e.object)
       )::text,
       e.received_at, e.received_at + interval '80 milliseconds',
       CASE WHEN e.n % 50 = 3 THEN 'duplicate' WHEN e.n % 97 = 5 THEN 'ignored'
            WHEN e.n % 5000 = 11 THEN 'failed' WHEN e.n % 100000 = 13 THEN 'rejected'
            ELSE 'processed' END,
       CASE WHEN e.n % 5000 = 11 THEN 'Stripe was unavailable.' ELSE '' END
FROM (
    SELECT 'evt_bench_' || c.payable_id || '_' || c.status AS event_id, c.payable_id AS n,
           CASE c.status WHEN 'complete' THEN 'checkout.session.completed'
                ELSE 'checkout.session.expired' END AS event_type,
           c.connected_account_id AS account,
           coalesce(c.paid_at, c.expires_at) AS received_at,
           json_build_object(
               'id', c.stripe_session_id, 'object', 'checkout.session',
               'amount_total', c.amount_total, 'currency', lower(c.currency),
               'client_reference_id', p.internal_reference_id,
               'customer', nullif(c.customer_id, ''),
               'customer_details', json_build_object('email', nullif(c.customer_email, '')),
               'metadata', json_build_object(
                   'checkout_id', c.id, 'company_id', c.company_id,
                   'internal_reference_id', p.internal_reference_id),
               'mode', 'payment', 'payment_intent', nullif(c.payment_intent_id, ''),
               'payment_status', c.payment_status, 'status', c.status,
               'success_url', c.success_url, 'cancel_url', c.cancel_url, 'url', null
           ) AS object
    FROM checkouts_checkout AS c
    JOIN checkouts_payable AS p ON p.id = c.payable_id
    WHERE c.status <> 'open'
    UNION ALL
    SELECT 'evt_bench_' || r.stripe_refund_id, c.payable_id, 'refund.created',
           c.connected_account_id, r.created_at,
           json_build_object(
               'id', r.stripe_refund_id, 'object', 'refund', 'amount', r.amount,
               'currency', lower(r.currency), 'payment_intent', c.payment_intent_id,
               'metadata', json_build_object('refund_id', r.id), 'status', r.status
           )
    FROM checkouts_refund AS r
    JOIN checkouts_checkout AS c ON c.id = r.checkout_id
) AS e
"""

TABLES = [
    "checkouts_payable",
    "checkouts_checkout",
    "checkouts_refund",
    "checkouts_webhookdelivery",
    "articles_company",
    "articles_article",
    "checkouts_companyapikey",
]


def build(checkouts: int) -> None:
    """The companies and ``checkouts`` checkouts with their refunds and deliveries, in
    one transaction, so that a build cut short leaves nothing to reuse."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tests.support.factories import make_api_key, make_article, make_company

    payables = checkouts * SUPERSEDED_EVERY // (SUPERSEDED_EVERY + 1)
    with transaction.atomic():
        companies = []
        for number in range(1, COMPANY_COUNT + 1):
            company = make_company(name=f"Salong {number:03}", account=f"acct_1Bench{number:03}")
            for article in range(1, ARTICLES_PER_COMPANY + 1):
                make_article(company, article_id=article, name=f"Treatment {article}")
            make_api_key(company)
            companies.append(company.pk)
        step = SPAN / payables
        with Stopwatch(f"{payables} payables, {checkouts} checkouts"):
            insert_checkouts(
                company_ids=companies,
                count=payables,
                start=timezone.now() - SPAN - timedelta(hours=1),
                step=step,
                account="acct_1BenchShared",
                superseded_every=SUPERSEDED_EVERY,
            )
        with connection.cursor() as cursor, Stopwatch("refunds and webhook deliveries"):
            cursor.execute(INSERT_REFUNDS)
            cursor.execute(INSERT_DELIVERIES)
    with Stopwatch("VACUUM ANALYZE"):
        vacuum_analyse(*TABLES)


def row_counts() -> dict[str, int]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - our table names
            (counts[table],) = cursor.fetchone()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="Requests per page timed.")
    parser.add_argument("--rebuild", action="store_true", help="Build the database anew.")
    parser.add_argument("--drop", action="store_true", help="Drop the database at the end.")
    parser.add_argument("--build-only", action="store_true", help="Build, time nothing.")
    args = parser.parse_args()

    database = BenchmarkDatabase.beside(require_postgres(parser), "admin_bench")
    if args.rebuild:
        database.drop()
    if not database.exists():
        database.create()
    try:
        configure_django(database.url)
        from checkouts.models import Checkout

        if Checkout.objects.exists():
            print(f"Reusing {database.name} (--rebuild builds it anew).")
        else:
            build(args.checkouts)
        print(", ".join(f"{table}: {count}" for table, count in row_counts().items()))
        if not args.build_only:
            run(args.repeat)
    finally:
        if args.drop:
            database.drop()


@dataclass(frozen=True)
class Case:
    """One request to time: what it shows, and its URL."""

    page: str
    url: str


CHECKOUTS = "/admin/checkouts/checkout/"
PAYABLES = "/admin/checkouts/payable/"
DELIVERIES = "/admin/checkouts/webhookdelivery/"
API_KEYS = "/admin/checkouts/companyapikey/"
# "about 1000000 checkouts", under a list.
COUNT_SHOWN = re.compile(r'<p class="paginator">.*?((?:about )?\d+) ', re.DOTALL)
COMPANIES = "/admin/articles/company/"
ARTICLES = "/admin/articles/article/"


def run(repeat: int) -> None:
    from django.contrib.auth.models import User
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import Client

    user = User.objects.filter(username="benchmark").first()
    if user is None:
        user = User.objects.create_superuser("benchmark", password=None)
    client = Client()
    client.force_login(user)
    # One connection for every request (as persistent connections or a pool keep one),
    # so that the figures are the pages' own work and each page's SQL can be counted.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    with instrumented_templates():
        lists = [
            ("Checkouts", checkout_cases(client)),
            ("Payables", payable_cases(client)),
            ("Webhook deliveries", delivery_cases(client)),
            ("Small tables", small_table_cases(client)),
        ]
        exports = export_cases(client)
    print(f"{'page':<58} {'ms':>7} {'SQL':>4}  count shown")
    slowest = Case("", ""), 0.0
    for title, cases in lists:
        print(f"-- {title}")
        for case in cases:
            milliseconds, statements, shown = measure(client, case.url, repeat)
            print(f"{case.page:<58} {milliseconds:7.1f} {statements:4}  {shown}", flush=True)
            slowest = max(slowest, (case, milliseconds), key=lambda pair: pair[1])
    print("-- The payment log's export (CSV)")
    for page, url, lines in exports:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            read = read_lines(client.get(url), lines)
            times.append((time.perf_counter() - started) * 1000)
        print(f"{page:<58} {statistics.median(times):7.1f}       {read} lines")
    case, milliseconds = slowest
    print(f"Slowest page: {case.page} ({case.url}), {milliseconds:.1f} ms")


@contextmanager
def instrumented_templates():
    """The test client's ``response.context``, to find each page's filters and links;
    off while timing, since it copies every template's context."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    try:
        yield
    finally:
        teardown_test_environment()


def list_cases(client, url: str, searches: dict[str, str]) -> list[Case]:
    """The list, its second and last pages, each filter choice and sortable column it
    offers, each date level, and ``searches`` (what each term is: the term)."""
    from django.contrib.admin.templatetags.admin_list import result_headers

    cl = client.get(url).context["cl"]
    middle = (cl.paginator.num_pages + 1) // 2
    cases = [
        Case("list", url),
        Case("page 2", f"{url}?p=2"),
        # The deepest: pages past the middle are counted from the other end.
        Case(f"middle page ({middle})", f"{url}?p={middle}"),
        Case(f"last page ({cl.paginator.num_pages})", f"{url}?p={cl.paginator.num_pages}"),
    ]
    for spec in cl.filter_specs:
        choices = [choice for choice in spec.choices(cl) if not choice["selected"]]
        if len(choices) > SAMPLED_CHOICES:
            # A choice per company: the first ones and the last stand for the others.
            choices = [*choices[: SAMPLED_CHOICES - 1], choices[-1]]
        cases += [
            Case(f"filter {spec.title}: {choice['display']}", url + choice["query_string"])
            for choice in choices
        ]
    for header in result_headers(cl):
        if header["sortable"]:
            for direction, link in [
                ("", header["url_primary"]),
                (" (toggled)", header["url_toggle"]),
            ]:
                if link != "?":
                    cases.append(Case(f"sorted by {header['text']}{direction}", url + link))
    cases += [
        Case(f"search {what}", f"{url}?{urlencode({'q': term})}") for what, term in searches.items()
    ]
    if cl.date_hierarchy:
        cases += date_cases(client, url)
    return cases


def date_cases(client, url: str) -> list[Case]:
    """The date drill-down: all years, then the newest year, month and day."""
    from checkouts.templatetags.admin_at_scale import date_hierarchy_by_probes

    cases = []
    link = "?"
    for level in ["year", "month", "day"]:
        cl = client.get(url + link).context["cl"]
        link = date_hierarchy_by_probes(cl)["choices"][-1]["link"]
        cases.append(Case(f"date: one {level}", url + link))
    return cases


def checkout_cases(client) -> list[Case]:
    from checkouts.models import Checkout

    refunded = Checkout.objects.filter(amount_refunded__gt=0).order_by("created_at").first()
    middle = (
        Checkout.objects.filter(payable__internal_reference_id="booking-437500")
        .order_by("-created_at")
        .first()
    )
    return [
        *list_cases(
            client,
            CHECKOUTS,
            {
                "a reference": middle.payable.internal_reference_id,
                "a session id": middle.stripe_session_id,
                "a payment intent id": refunded.payment_intent_id,
                "a customer id": refunded.customer_id,
                "no match": "nothing-like-this",
            },
        ),
        Case("a checkout's page (refunded)", f"{CHECKOUTS}{refunded.pk}/change/"),
    ]


def payable_cases(client) -> list[Case]:
    from checkouts.models import Checkout

    superseding = Checkout.objects.filter(superseded_by__isnull=False).first().payable
    return [
        *list_cases(
            client,
            PAYABLES,
            {"a reference": superseding.internal_reference_id, "no match": "nothing-like-this"},
        ),
        Case("a payable's page (two sessions)", f"{PAYABLES}{superseding.pk}/change/"),
    ]


def delivery_cases(client) -> list[Case]:
    from checkouts.models import WebhookDelivery

    delivery = WebhookDelivery.objects.filter(pk__gte=437_500).order_by("pk").first()
    return [
        *list_cases(client, DELIVERIES, {"an event id": delivery.event_id}),
        Case("a delivery's page", f"{DELIVERIES}{delivery.pk}/change/"),
    ]


def small_table_cases(client) -> list[Case]:
    return [
        *(Case(f"API keys: {case.page}", case.url) for case in list_cases(client, API_KEYS, {})),
        *(
            Case(f"companies: {case.page}", case.url)
            for case in list_cases(client, COMPANIES, {"a name": "Salong 042"})
        ),
        *(
            Case(f"articles: {case.page}", case.url)
            for case in list_cases(client, ARTICLES, {"a name": "Treatment 3"})
        ),
    ]


def measure(client, url: str, repeat: int) -> tuple[float, int, str]:
    """The median time of ``repeat`` requests, the SQL statements of one, and the count
    the page shows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    statements = len(queries)  # the next request empties the log
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    shown = COUNT_SHOWN.search(response.content.decode())
    return statistics.median(times), statements, shown.group(1) if shown else ""


def export_cases(client) -> list[tuple[str, str, int | None]]:
    """The payment log's export: one day whole, and the first 1,000 lines of everything."""
    from checkouts.templatetags.admin_at_scale import date_hierarchy_by_probes

    export = f"{CHECKOUTS}export-payment-log/"
    day = "?"
    for _ in range(3):
        cl = client.get(CHECKOUTS + day).context["cl"]
        day = date_hierarchy_by_probes(cl)["choices"][-1]["link"]
    return [
        ("one day, whole", export + day, None),
        ("everything, the first 1,000 lines", export, 1000),
    ]


def read_lines(response, limit: int | None) -> int:
    read = 0
    for chunk in response.streaming_content:
        read += chunk.count(b"\n")
        if limit is not None and read >= limit:
            break
    response.close()
    return read


if __name__ == "__main__":
    main()
