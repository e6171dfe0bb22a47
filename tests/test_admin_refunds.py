"""The admin's side of refunds: the "Refund…" page, refunds on the checkout and payable
pages, the "refunded" filter, the platform's fee, and the payment log's CSV export."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import constants as message_levels
from django.test import Client

from checkouts.models import Checkout, Refund, RefundSource, RefundStatus
from tests.support.api import CREATE_REFUND
from tests.support.factories import make_checkout, make_paid_checkout, make_payable

CHECKOUTS = "/admin/checkouts/checkout/"
PAYABLES = "/admin/checkouts/payable/"
EXPORT = f"{CHECKOUTS}export-payment-log/"


@pytest.fixture
def viewer(db) -> Client:
    """Staff who may look at checkouts and payables, and act on nothing."""
    user = User.objects.create_user(username="viewer", is_staff=True)
    codenames = ["view_checkout", "view_payable"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def ask_to_refund(client: Client, *checkouts: Checkout):
    selected = [str(checkout.pk) for checkout in checkouts]
    return client.post(
        CHECKOUTS, {"action": "refund", "index": "0", "_selected_action": selected}, follow=True
    )


def refund_on_the_page(client: Client, checkout: Checkout, **form):
    """Submit the "Refund…" page's form."""
    body = {"action": "refund", "_selected_action": str(checkout.pk), "apply": "yes", **form}
    return client.post(CHECKOUTS, body, follow=True)


def messages_of(response) -> list[tuple[int, str]]:
    return [(message.level, str(message)) for message in response.context["messages"]]


@pytest.mark.django_db(transaction=True)
def test_staff_refund_a_paid_checkout_on_a_page_that_asks_how_much(
    admin_client, admin_user, paid_checkout, stripe_emulator
):
    checkout = paid_checkout()

    page = ask_to_refund(admin_client, checkout)
    done = refund_on_the_page(
        admin_client, checkout, amount="150.00", reason="requested_by_customer", comments="Ill."
    )

    assert page.templates[0].name == "admin/checkouts/checkout/refund.html"
    assert "<strong>450.00 SEK</strong> is left to refund" in page.content.decode()
    assert page.context["form"]["amount"].value() == 450
    refund = Refund.objects.get()
    assert messages_of(done) == [
        (
            message_levels.SUCCESS,
            f"{checkout}: 150.00 SEK refund succeeded ({refund.stripe_refund_id}); "
            "150.00 SEK refunded in all.",
        )
    ]
    assert (refund.amount, refund.reason, refund.comments) == (
        15000,
        "requested_by_customer",
        "Ill.",
    )
    assert (refund.source, refund.requested_by_user) == (RefundSource.ADMIN, admin_user)
    (made,) = stripe_emulator.refunds()
    assert (made["id"], made["amount"]) == (refund.stripe_refund_id, 15000)


@pytest.mark.django_db(transaction=True)
def test_more_than_is_left_is_reported_and_nothing_is_refunded(
    admin_client, paid_checkout, stripe_emulator
):
    checkout = paid_checkout()

    response = refund_on_the_page(admin_client, checkout, amount="450.01")

    assert messages_of(response) == [
        (
            message_levels.ERROR,
            f"{checkout}: not refunded: Amount 450.01 SEK is more than the 450.00 SEK left "
            "to refund.",
        )
    ]
    assert stripe_emulator.requests_to("POST", CREATE_REFUND) == []


@pytest.mark.django_db(transaction=True)
def test_an_amount_finer_than_the_currency_is_asked_again(admin_client, paid_checkout):
    checkout = paid_checkout()

    response = refund_on_the_page(admin_client, checkout, amount="1.005")

    assert response.templates[0].name == "admin/checkouts/checkout/refund.html"
    assert response.context["form"].errors["amount"]
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_an_unpaid_checkout_is_not_refunded(admin_client, company):
    checkout = make_checkout(make_payable(company))

    response = ask_to_refund(admin_client, checkout)

    assert messages_of(response) == [
        (message_levels.ERROR, f"{checkout}: not paid, nothing to refund.")
    ]


@pytest.mark.django_db
def test_checkouts_are_refunded_one_at_a_time(admin_client, company):
    first = make_paid_checkout(make_payable(company, "booking-1"))
    second = make_paid_checkout(make_payable(company, "booking-2"))

    response = ask_to_refund(admin_client, first, second)

    assert messages_of(response) == [(message_levels.WARNING, "Choose one checkout to refund.")]


@pytest.mark.django_db(transaction=True)
def test_a_viewers_forged_refund_changes_nothing(viewer, paid_checkout, stripe_emulator):
    checkout = paid_checkout()

    response = refund_on_the_page(viewer, checkout, amount="450.00")

    assert response.status_code == 200
    assert not Refund.objects.exists()
    assert stripe_emulator.requests_to("POST", CREATE_REFUND) == []


# --- what the pages show -----------------------------------------------------------------


def make_refund(checkout: Checkout, amount: int, **fields) -> Refund:
    refund = Refund.objects.create(
        checkout=checkout,
        amount=amount,
        currency=checkout.currency,
        status=RefundStatus.SUCCEEDED,
        stripe_refund_id=f"re_{checkout.pk.hex[:8]}_{amount}",
        source=RefundSource.STRIPE,
        **fields,
    )
    Checkout.objects.filter(pk=checkout.pk).update(amount_refunded=amount)
    return refund


@pytest.mark.django_db
def test_a_checkouts_page_shows_its_refunds_and_the_platforms_fee(viewer, company):
    checkout = make_paid_checkout(make_payable(company), application_fee_amount=1125)
    refund = make_refund(checkout, 5000, comments="Double booking.")

    response = viewer.get(f"{CHECKOUTS}{checkout.pk}/change/")

    page = response.content.decode()
    (refunds,) = [
        formset
        for formset in response.context["inline_admin_formsets"]
        if formset.opts.model is Refund
    ]
    assert [form.original for form in refunds] == [refund]
    assert "Double booking." in page
    assert "Made on Stripe (the Dashboard)" in page
    assert "11.25 SEK" in page
    assert "50.00 SEK" in page


@pytest.mark.django_db
def test_a_payables_page_shows_the_refunds_of_its_checkouts(viewer, company):
    payable = make_payable(company)
    refund = make_refund(make_paid_checkout(payable), 5000)

    response = viewer.get(f"{PAYABLES}{payable.pk}/change/")

    page = response.content.decode()
    assert f"<td>{refund.stripe_refund_id}</td><td>50.00 SEK</td><td>Succeeded</td>" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "expected"), [("none", ["unpaid"]), ("partly", ["partly"]), ("fully", ["fully"])]
)
def test_the_refunded_filter(viewer, company, value, expected):
    make_checkout(make_payable(company, "unpaid"))
    make_refund(make_paid_checkout(make_payable(company, "partly")), 100)
    make_refund(make_paid_checkout(make_payable(company, "fully")), 45000)

    response = viewer.get(f"{CHECKOUTS}?refunded={value}")

    references = [
        checkout.payable.internal_reference_id for checkout in response.context["cl"].result_list
    ]
    assert references == expected


# --- the payment log's CSV export ---------------------------------------------------------


@pytest.mark.django_db
def test_staff_export_the_listed_checkouts_as_the_payment_logs_csv(viewer, company):
    paid = make_paid_checkout(make_payable(company, "booking-paid"), application_fee_amount=1125)
    make_refund(paid, 5000)
    make_checkout(make_payable(company, "booking-open"))

    listing = viewer.get(f"{CHECKOUTS}?payment_status__exact=paid")
    response = viewer.get(f"{EXPORT}?payment_status__exact=paid")

    assert f'href="{EXPORT}?payment_status__exact=paid"' in listing.content.decode()
    assert response["Content-Type"] == "text/csv"
    header, row = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    values = dict(zip(header, row, strict=True))
    assert header[:3] == ["SessionId", "InternalReferenceId", "Status"]
    assert (values["SessionId"], values["AmountRefunded"], values["ApplicationFeeAmount"]) == (
        paid.stripe_session_id,
        "5000",
        "1125",
    )


@pytest.mark.django_db
def test_the_export_needs_a_login_and_the_view_permission(client, company):
    make_checkout(make_payable(company))
    payables_only = User.objects.create_user(username="payables", is_staff=True)
    payables_only.user_permissions.set(Permission.objects.filter(codename="view_payable"))
    staff = Client()
    staff.force_login(payables_only)

    assert client.get(EXPORT).status_code == 302
    assert staff.get(EXPORT).status_code == 403
