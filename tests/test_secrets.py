"""A checkout's client secret reaches the client once: never the database, the logs or the admin.

Each flow that sees a secret (create, idempotent replay, webhook, status refresh,
expire_checkouts, the admin) runs in embedded mode, then the whole database and
every log record are searched for Stripe's ``_secret_`` marker.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from checkouts.models import Checkout, WebhookDelivery, WebhookOutcome
from tests.support.api import CHECKOUT_URL, STATUS_URL, checkout_body
from tests.support.database import database_dump
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db(transaction=True)

SECRET_MARKER = "_secret_"


@pytest.fixture
def logs(caplog):
    """Every log record of every logger, down to DEBUG (the SDK's included)."""
    caplog.set_level("DEBUG")
    return caplog


@pytest.fixture
def embedded(create_checkout, stripe_emulator) -> Checkout:
    response = create_checkout(UiMode="embedded")
    assert SECRET_MARKER in response.json()["ClientSecret"]
    return Checkout.objects.get(stripe_session_id=response.json()["SessionId"])


def assert_no_secret_kept(logs) -> None:
    assert SECRET_MARKER not in database_dump()
    assert SECRET_MARKER not in logs.text


def test_a_create_keeps_no_secret(embedded, logs):
    assert_no_secret_kept(logs)


def test_an_idempotent_replay_keeps_no_secret(api, company, stripe_emulator, logs):
    body = checkout_body(company, UiMode="embedded")
    for _ in range(2):
        response = api.post(CHECKOUT_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
        assert SECRET_MARKER in response.json()["ClientSecret"]

    assert response["Idempotent-Replayed"] == "true"
    assert_no_secret_kept(logs)


def test_a_webhook_is_kept_with_its_secrets_redacted(embedded, stripe_emulator, logs):
    stripe_emulator.complete_session(embedded.stripe_session_id)
    event = stripe_emulator.wait_for_event("checkout.session.completed")
    assert SECRET_MARKER in event["data"]["object"]["client_secret"]

    response = deliver(Client(), event)

    assert response.status_code == 200
    kept = WebhookDelivery.objects.get()
    assert kept.outcome == WebhookOutcome.PROCESSED
    assert '"client_secret":"[redacted]"' in kept.payload
    assert_no_secret_kept(logs)


def test_the_admin_shows_no_secret(embedded, stripe_emulator, admin_client, logs):
    stripe_emulator.complete_session(embedded.stripe_session_id)
    deliver(Client(), stripe_emulator.wait_for_event("checkout.session.completed"))

    pages = [
        admin_client.get(
            f"/admin/checkouts/webhookdelivery/{WebhookDelivery.objects.get().pk}/change/"
        ),
        admin_client.get(f"/admin/checkouts/checkout/{embedded.pk}/change/"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert SECRET_MARKER not in page.content.decode()


def test_a_status_refresh_and_expire_checkouts_keep_no_secret(
    embedded, api, company, stripe_emulator, logs
):
    response = api.post(
        STATUS_URL,
        {"CompanyId": str(company.id), "SessionId": embedded.stripe_session_id},
        format="json",
    )
    Checkout.objects.update(created_at=timezone.now() - timedelta(hours=1))
    call_command("expire_checkouts", "--older-than", "30m", stdout=StringIO())

    assert response.status_code == 200
    assert Checkout.objects.get().status == "expired"
    assert_no_secret_kept(logs)
