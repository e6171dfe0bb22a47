"""The admin, driven through the test client: what staff see, find and may do."""

import json
import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import constants as message_levels
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import ArticleType
from checkouts.models import (
    Checkout,
    CheckoutStatus,
    Payable,
    PaymentStatus,
    StripeExpiry,
    WebhookDelivery,
    WebhookOutcome,
)
from tests.support.api import EXPIRE_SESSION, RETRIEVE_SESSION
from tests.support.factories import make_checkout, make_company, make_paid_checkout, make_payable

CHECKOUTS = "/admin/checkouts/checkout/"
PAYABLES = "/admin/checkouts/payable/"
DELIVERIES = "/admin/checkouts/webhookdelivery/"

VIEW_ONLY = ["view_checkout", "view_payable", "view_webhookdelivery"]
MAY_ACT = ["change_checkout", "view_payable", "change_webhookdelivery"]


# --- building rows directly -----------------------------------------------------


def make_delivery(checkout: Checkout, **fields) -> WebhookDelivery:
    event_id = f"evt_{uuid.uuid4().hex}"
    event = {
        "id": event_id,
        "type": "checkout.session.completed",
        "account": checkout.connected_account_id,
        "data": {
            "object": {
                "id": checkout.stripe_session_id,
                "metadata": {"checkout_id": str(checkout.id)},
            }
        },
    }
    values = {
        "event_id": event_id,
        "event_type": event["type"],
        "account": event["account"],
        "payload": json.dumps(event),
        "outcome": WebhookOutcome.FAILED,
        "error": "Stripe was unavailable.",
        **fields,
    }
    return WebhookDelivery.objects.create(**values)


def open_checkout_on_stripe(create_checkout, reference: str = "booking-1001") -> Checkout:
    response = create_checkout(InternalReferenceId=reference)
    assert response.status_code == 200, response.json()
    return Checkout.objects.get(stripe_session_id=response.json()["SessionId"])


# --- staff ----------------------------------------------------------------------


def staff_client(username: str, codenames: list[str]) -> Client:
    user = User.objects.create_user(username=username, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer(db) -> Client:
    """Staff who may look at checkouts, payables and deliveries, and nothing more."""
    return staff_client("viewer", VIEW_ONLY)


@pytest.fixture
def operator(db) -> Client:
    """Staff with the change permission, which is what the actions need."""
    return staff_client("operator", MAY_ACT)


def run_action(client: Client, url: str, action: str, *objects):
    return client.post(
        url,
        {"action": action, "index": "0", "_selected_action": [str(obj.pk) for obj in objects]},
        follow=True,
    )


def messages_of(response) -> list[tuple[int, str]]:
    return [(message.level, str(message)) for message in response.context["messages"]]


# --- reading pages ----------------------------------------------------------------


class _ResultRows(HTMLParser):
    """The changelist's rows as {column: text}; a boolean icon reads as its alt text, and a
    shortened id as the whole id in its tooltip."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._in_body = False
        self._column: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append({})
        elif self._in_body and tag in ("td", "th"):
            classes = (attributes.get("class") or "").split()
            columns = [name.removeprefix("field-") for name in classes if name.startswith("field-")]
            self._column = columns[0] if columns else None
            if self._column:
                self.rows[-1][self._column] = ""
        elif tag == "img" and self._column:
            self.rows[-1][self._column] += attributes.get("alt") or ""
        elif attributes.get("title") and self._column:
            self.rows[-1][self._column] = attributes["title"]
            self._column = None

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._column = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data):
        if self._column:
            self.rows[-1][self._column] += data.strip()


def result_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    parser = _ResultRows()
    parser.feed(response.content.decode())
    return parser.rows


def listed_sessions(response) -> set[str]:
    return {row["session"] for row in result_rows(response)}


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


# --- pages render with their data ------------------------------------------------


@pytest.mark.django_db
def test_payable_changelist_shows_sessions_current_status_and_paid(viewer, company):
    payable = make_payable(company)
    superseded = make_checkout(payable, status=CheckoutStatus.EXPIRED)
    current = make_paid_checkout(payable)
    Checkout.objects.filter(pk=superseded.pk).update(
        superseded_by=current, superseded_at=timezone.now()
    )
    Payable.objects.filter(pk=payable.pk).update(current_checkout=current)
    make_payable(company, reference="booking-unpaid")

    rows = result_rows(viewer.get(PAYABLES))

    assert [
        {key: row[key] for key in ["reference", "sessions", "current_status", "paid"]}
        for row in rows
    ] == [
        {"reference": "booking-unpaid", "sessions": "0", "current_status": "-",
         "paid": "False"},
        {"reference": "booking-1001", "sessions": "2", "current_status": "Complete",
         "paid": "True"},
    ]  # fmt: skip


@pytest.mark.django_db
def test_payable_page_lists_every_session_newest_first(viewer, company):
    payable = make_payable(company)
    now = timezone.now()
    expired = CheckoutStatus.EXPIRED
    oldest = make_checkout(payable, status=expired, created_at=now - timedelta(hours=2))
    newest = make_checkout(payable, created_at=now)
    middle = make_checkout(payable, status=expired, created_at=now - timedelta(hours=1))

    response = viewer.get(f"{PAYABLES}{payable.pk}/change/")

    assert response.status_code == 200
    (sessions,) = response.context["inline_admin_formsets"]
    assert [form.original for form in sessions] == [newest, middle, oldest]
    for checkout in (oldest, middle, newest):
        assert f'href="{CHECKOUTS}{checkout.pk}/change/"' in response.content.decode()


@pytest.mark.django_db
def test_payable_page_summarises_each_sessions_lines(viewer, company):
    payable = make_payable(company)
    make_checkout(payable, lines=((2, "Haircut", 45000), (1, "Beard trim", 20000)))

    response = viewer.get(f"{PAYABLES}{payable.pk}/change/")

    assert "2 x Haircut, 1 x Beard trim" in response.content.decode()


@pytest.mark.django_db
def test_checkout_changelist_shows_amounts_in_major_units_with_currency(viewer, company):
    yen = make_company(name="Tokyo Cuts", currency="JPY", account="acct_2TokyoCuts")
    kronor = make_checkout(make_payable(company), lines=((1, "Haircut", 45000),))
    yens = make_checkout(make_payable(yen), lines=((1, "Cut", 5000),))

    rows = result_rows(viewer.get(CHECKOUTS))

    amounts = {row["session"]: row["amount"] for row in rows}
    assert amounts == {kronor.stripe_session_id: "450.00 SEK", yens.stripe_session_id: "5000 JPY"}


@pytest.mark.django_db
def test_a_viewer_sees_a_checkouts_lines_on_its_page(viewer, company):
    checkout = make_checkout(make_payable(company), lines=((2, "Beard trim", 20000),))

    response = viewer.get(f"{CHECKOUTS}{checkout.pk}/change/")

    page = response.content.decode()
    assert "<td>Beard trim</td><td>Service 1</td><td>2</td>" in page
    assert "<td>200.00 SEK</td><td>400.00 SEK</td><td>25.00%</td>" in page


@pytest.mark.django_db
def test_delivery_page_shows_the_payload_pretty_printed(viewer, company):
    delivery = make_delivery(make_checkout(make_payable(company)))

    response = viewer.get(f"{DELIVERIES}{delivery.pk}/change/")

    pretty = json.dumps(json.loads(delivery.payload), indent=2).replace('"', "&quot;")
    assert f"<pre>{pretty}</pre>" in response.content.decode()


@pytest.mark.django_db
def test_company_page_shows_its_stripe_settings(admin_client, company):
    response = admin_client.get(f"/admin/articles/company/{company.pk}/change/")

    assert 'value="acct_1SalongLugn"' in response.content.decode()


@pytest.mark.django_db
def test_article_changelist_filters_by_type(admin_client, company):
    rows = result_rows(
        admin_client.get(f"/admin/articles/article/?article_type__exact={ArticleType.SERVICE}")
    )

    assert [(row["name"], row["price"]) for row in rows] == [("Haircut", "450.00 SEK")]


# --- search --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "term_of",
    [
        pytest.param(lambda checkout: checkout.payable.internal_reference_id, id="reference"),
        pytest.param(lambda checkout: checkout.stripe_session_id, id="session id"),
        pytest.param(lambda checkout: checkout.payment_intent_id, id="payment intent id"),
        pytest.param(lambda checkout: checkout.customer_id, id="customer id"),
    ],
)
def test_checkout_search_finds_only_the_matching_checkout(viewer, company, term_of):
    wanted = make_paid_checkout(
        make_payable(company, "booking-1001"), payment_intent_id="pi_1", customer_id="cus_1"
    )
    make_paid_checkout(
        make_payable(company, "booking-2002"), payment_intent_id="pi_2", customer_id="cus_2"
    )

    response = viewer.get(CHECKOUTS, {"q": term_of(wanted)})

    assert listed_sessions(response) == {wanted.stripe_session_id}


@pytest.mark.django_db
def test_checkout_search_by_a_stripe_id_needs_the_whole_id(viewer, company):
    checkout = make_checkout(make_payable(company))

    response = viewer.get(CHECKOUTS, {"q": checkout.stripe_session_id[:-1]})

    assert listed_sessions(response) == set()


@pytest.mark.django_db
def test_payable_search_finds_by_reference(viewer, company):
    make_payable(company, "booking-1001")
    make_payable(company, "booking-2002")

    rows = result_rows(viewer.get(PAYABLES, {"q": "booking-2002"}))

    assert [row["reference"] for row in rows] == ["booking-2002"]


@pytest.mark.django_db
def test_delivery_search_finds_by_event_id(viewer, company):
    checkout = make_checkout(make_payable(company))
    wanted = make_delivery(checkout)
    make_delivery(checkout)

    rows = result_rows(viewer.get(DELIVERIES, {"q": wanted.event_id}))

    assert [row["event"] for row in rows] == [wanted.event_id]


# --- filters -------------------------------------------------------------------


@pytest.mark.django_db
def test_status_filter_lists_only_checkouts_in_that_status(viewer, company):
    make_checkout(make_payable(company, "booking-1"))
    expired = make_checkout(make_payable(company, "booking-2"), status=CheckoutStatus.EXPIRED)

    response = viewer.get(CHECKOUTS, {"status__exact": CheckoutStatus.EXPIRED})

    assert listed_sessions(response) == {expired.stripe_session_id}


@pytest.fixture
def attention_cases(company) -> dict[str, Checkout]:
    """One checkout per reason to look at, and look-alikes that need nothing."""
    payable = make_payable(company)
    current = make_checkout(payable)
    superseded = {"superseded_by": current, "superseded_at": timezone.now()}
    return {
        "paid while superseded": make_paid_checkout(payable, **superseded),
        "expiry failing": make_checkout(
            payable, stripe_expiry=StripeExpiry.PENDING, stripe_expiry_attempts=2, **superseded
        ),
        "expiry not yet tried": make_checkout(
            payable, stripe_expiry=StripeExpiry.PENDING, **superseded
        ),
        "superseded and expired": make_checkout(
            payable, status=CheckoutStatus.EXPIRED, stripe_expiry=StripeExpiry.EXPIRED, **superseded
        ),
        "paid, not superseded": make_paid_checkout(make_payable(company, "booking-2")),
        "current": current,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("any", {"paid while superseded", "expiry failing"}),
        ("paid_while_superseded", {"paid while superseded"}),
        ("expiry_failing", {"expiry failing"}),
    ],
)
def test_needs_attention_filter_lists_only_checkouts_staff_should_look_at(
    viewer, attention_cases, choice, expected
):
    response = viewer.get(CHECKOUTS, {"attention": choice})

    names = {checkout.stripe_session_id: name for name, checkout in attention_cases.items()}
    assert {names[session] for session in listed_sessions(response)} == expected


@pytest.mark.django_db
def test_delivery_outcome_filter_lists_only_that_outcome(viewer, company):
    checkout = make_checkout(make_payable(company))
    failed = make_delivery(checkout)
    make_delivery(checkout, outcome=WebhookOutcome.PROCESSED, error="")

    rows = result_rows(viewer.get(DELIVERIES, {"outcome__exact": WebhookOutcome.FAILED}))

    assert [row["event"] for row in rows] == [failed.event_id]


# --- work per page ---------------------------------------------------------------


@pytest.mark.django_db
def test_payable_changelist_queries_do_not_grow_with_payables(viewer, company):
    def add_payable(number: int) -> None:
        payable = make_payable(company, f"booking-{number}")
        make_checkout(payable, status=CheckoutStatus.EXPIRED)
        current = make_paid_checkout(payable)
        Payable.objects.filter(pk=payable.pk).update(current_checkout=current)

    add_payable(0)
    count_queries(viewer, PAYABLES)  # warms per-process caches (content types)
    one = count_queries(viewer, PAYABLES)
    for number in range(1, 10):
        add_payable(number)

    assert count_queries(viewer, PAYABLES) == one


@pytest.mark.django_db
def test_checkout_changelist_queries_do_not_grow_with_checkouts(viewer, company):
    make_checkout(make_payable(company, "booking-0"))
    count_queries(viewer, CHECKOUTS)
    one = count_queries(viewer, CHECKOUTS)
    for number in range(1, 10):
        make_checkout(make_payable(company, f"booking-{number}"))

    assert count_queries(viewer, CHECKOUTS) == one


@pytest.mark.django_db
def test_payable_page_queries_do_not_grow_with_sessions(viewer, company):
    payable = make_payable(company)
    page = f"{PAYABLES}{payable.pk}/change/"
    make_checkout(payable, lines=((1, "Haircut", 45000),))
    count_queries(viewer, page)
    one = count_queries(viewer, page)
    for _ in range(9):
        make_checkout(
            payable,
            status=CheckoutStatus.EXPIRED,
            lines=((1, "Haircut", 45000), (2, "Beard trim", 20000)),
        )

    assert count_queries(viewer, page) == one


@pytest.mark.django_db
def test_checkout_page_queries_do_not_grow_with_lines(viewer, company):
    one_line = make_checkout(make_payable(company, "booking-1"))
    ten_lines = make_checkout(
        make_payable(company, "booking-10"),
        lines=tuple((1, f"Treatment {n}", 10000) for n in range(10)),
    )
    count_queries(viewer, f"{CHECKOUTS}{one_line.pk}/change/")

    assert count_queries(viewer, f"{CHECKOUTS}{ten_lines.pk}/change/") == count_queries(
        viewer, f"{CHECKOUTS}{one_line.pk}/change/"
    )


# --- actions against Stripe -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_expire_on_stripe_expires_an_open_session_and_records_it(
    operator, create_checkout, stripe_emulator
):
    checkout = open_checkout_on_stripe(create_checkout)

    response = run_action(operator, CHECKOUTS, "expire_on_stripe", checkout)

    assert messages_of(response) == [
        (message_levels.SUCCESS, f"{checkout.stripe_session_id}: expired")
    ]
    assert stripe_emulator.session(checkout.stripe_session_id)["status"] == "expired"
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.EXPIRED
    assert checkout.stripe_expiry == StripeExpiry.EXPIRED


@pytest.mark.django_db(transaction=True)
def test_expire_on_stripe_records_a_session_paid_first_as_paid(
    operator, create_checkout, stripe_emulator
):
    checkout = open_checkout_on_stripe(create_checkout)
    stripe_emulator.complete_session(checkout.stripe_session_id)

    response = run_action(operator, CHECKOUTS, "expire_on_stripe", checkout)

    assert messages_of(response) == [
        (message_levels.WARNING, f"{checkout.stripe_session_id}: already complete (paid)")
    ]
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status) == ("complete", "paid")


@pytest.mark.django_db(transaction=True)
def test_expire_on_stripe_reports_a_failure_and_leaves_the_checkout_open(
    operator, create_checkout, stripe_emulator
):
    checkout = open_checkout_on_stripe(create_checkout)
    stripe_emulator.inject_fault(
        "error", method="POST", path=EXPIRE_SESSION, status=500, times=None
    )

    response = run_action(operator, CHECKOUTS, "expire_on_stripe", checkout)

    ((level, text),) = messages_of(response)
    assert level == message_levels.ERROR
    assert text.startswith(f"{checkout.stripe_session_id}: failed: ")
    assert len(text) > len(f"{checkout.stripe_session_id}: failed: ")
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.OPEN
    assert checkout.stripe_expiry_attempts == 1


@pytest.mark.django_db
def test_expire_on_stripe_skips_a_checkout_that_is_not_open(operator, company, stripe_emulator):
    checkout = make_checkout(make_payable(company), status=CheckoutStatus.EXPIRED)

    response = run_action(operator, CHECKOUTS, "expire_on_stripe", checkout)

    assert messages_of(response) == [
        (message_levels.WARNING, f"{checkout.stripe_session_id}: skipped, it is expired")
    ]
    assert stripe_emulator.requests == []


@pytest.mark.django_db(transaction=True)
def test_refresh_from_stripe_records_a_payment_made_on_stripe(
    operator, create_checkout, stripe_emulator
):
    checkout = open_checkout_on_stripe(create_checkout)
    stripe_emulator.complete_session(checkout.stripe_session_id)

    response = run_action(operator, CHECKOUTS, "refresh_from_stripe", checkout)

    assert messages_of(response) == [
        (message_levels.SUCCESS, f"{checkout.stripe_session_id}: complete (paid)")
    ]
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status) == ("complete", "paid")
    assert checkout.paid_at is not None


@pytest.mark.django_db(transaction=True)
def test_refresh_from_stripe_reports_stripe_being_unavailable(
    operator, create_checkout, stripe_emulator
):
    checkout = open_checkout_on_stripe(create_checkout)
    stripe_emulator.inject_fault(
        "error", method="GET", path=RETRIEVE_SESSION, status=500, times=None
    )

    response = run_action(operator, CHECKOUTS, "refresh_from_stripe", checkout)

    ((level, text),) = messages_of(response)
    assert level == message_levels.ERROR
    assert text.startswith(f"{checkout.stripe_session_id}: failed: ")


@pytest.mark.django_db(transaction=True)
def test_reprocess_reruns_a_failed_delivery(operator, create_checkout, stripe_emulator):
    checkout = open_checkout_on_stripe(create_checkout)
    stripe_emulator.complete_session(checkout.stripe_session_id)
    delivery = make_delivery(checkout)

    response = run_action(operator, DELIVERIES, "reprocess", delivery)

    assert messages_of(response) == [(message_levels.SUCCESS, f"{delivery.event_id}: processed")]
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.error) == (WebhookOutcome.PROCESSED, "")
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status) == ("complete", "paid")


# --- permissions ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_viewer_can_browse_every_page(viewer, company):
    payable = make_payable(company)
    checkout = make_checkout(payable)
    delivery = make_delivery(checkout)

    pages = [
        CHECKOUTS,
        f"{CHECKOUTS}{checkout.pk}/change/",
        PAYABLES,
        f"{PAYABLES}{payable.pk}/change/",
        DELIVERIES,
        f"{DELIVERIES}{delivery.pk}/change/",
    ]
    assert {page: viewer.get(page).status_code for page in pages} == dict.fromkeys(pages, 200)


@pytest.mark.django_db
@pytest.mark.parametrize("changelist", [CHECKOUTS, DELIVERIES])
def test_a_viewer_is_offered_no_action(viewer, changelist):
    response = viewer.get(changelist)

    assert response.context["action_form"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changelist", "actions"),
    [
        (CHECKOUTS, ["expire_on_stripe", "refresh_from_stripe", "refund"]),
        (DELIVERIES, ["reprocess"]),
    ],
)
def test_staff_with_change_permission_are_offered_the_actions(operator, changelist, actions):
    response = operator.get(changelist)

    offered = [value for value, _ in response.context["action_form"].fields["action"].choices]
    assert offered == ["", *actions]


@pytest.mark.django_db(transaction=True)
def test_a_viewers_forged_expire_post_changes_nothing(viewer, create_checkout, stripe_emulator):
    checkout = open_checkout_on_stripe(create_checkout)
    before = Checkout.objects.values().get(pk=checkout.pk)

    response = run_action(viewer, CHECKOUTS, "expire_on_stripe", checkout)

    assert response.status_code == 200
    assert stripe_emulator.requests_to("POST", EXPIRE_SESSION) == []
    assert stripe_emulator.session(checkout.stripe_session_id)["status"] == "open"
    assert Checkout.objects.values().get(pk=checkout.pk) == before


@pytest.mark.django_db
def test_a_viewers_forged_reprocess_post_changes_nothing(viewer, company, stripe_emulator):
    delivery = make_delivery(make_checkout(make_payable(company)))
    before = WebhookDelivery.objects.values().get(pk=delivery.pk)

    response = run_action(viewer, DELIVERIES, "reprocess", delivery)

    assert response.status_code == 200
    assert stripe_emulator.requests == []
    assert WebhookDelivery.objects.values().get(pk=delivery.pk) == before


@pytest.mark.django_db
def test_nobody_can_add_a_checkout(admin_client):
    assert admin_client.get(f"{CHECKOUTS}add/").status_code == 403


@pytest.mark.django_db
def test_the_checkout_page_has_no_editable_field(admin_client, company):
    checkout = make_checkout(make_payable(company))

    response = admin_client.get(f"{CHECKOUTS}{checkout.pk}/change/")

    assert response.context["adminform"].form.fields == {}
    assert 'name="_save"' not in response.content.decode()


@pytest.mark.django_db
def test_a_checkout_cannot_be_edited_even_with_change_permission(operator, company):
    checkout = make_checkout(make_payable(company))

    response = operator.post(
        f"{CHECKOUTS}{checkout.pk}/change/",
        {"status": CheckoutStatus.COMPLETE, "payment_status": PaymentStatus.PAID},
    )

    assert response.status_code == 403
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.OPEN


@pytest.mark.django_db
def test_nobody_can_delete_a_checkout(admin_client, company):
    checkout = make_checkout(make_payable(company))

    response = admin_client.post(f"{CHECKOUTS}{checkout.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Checkout.objects.filter(pk=checkout.pk).exists()
