"""A client's Idempotency-Key: one key and body, one checkout, for 24 hours."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from checkouts.models import Checkout, ClientIdempotencyKey
from tests.support.api import CHECKOUT_URL, CREATE_SESSION, RETRIEVE_SESSION, checkout_body
from tests.support.concurrency import GATE_TIMEOUT, in_a_thread
from tests.support.database import refusing_new_checkout_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def post(api, company, stripe_emulator):
    def post(key, **overrides):
        return api.post(
            CHECKOUT_URL,
            checkout_body(company, **overrides),
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    return post


def test_same_key_and_body_returns_the_first_response_without_a_second_session(
    post, stripe_emulator
):
    first = post("order-1")
    again = post("order-1")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert len(stripe_emulator.requests_to("POST", CREATE_SESSION)) == 1
    assert Checkout.objects.count() == 1


def test_replayed_embedded_response_fetches_the_client_secret_again_from_stripe(
    post, stripe_emulator
):
    first = post("order-2", UiMode="embedded")

    again = post("order-2", UiMode="embedded")

    assert again.json()["ClientSecret"] == first.json()["ClientSecret"]
    assert again.json()["ClientSecret"]
    (retrieve,) = stripe_emulator.requests_to("GET", RETRIEVE_SESSION)
    assert retrieve.stripe_account == "acct_1SalongLugn"


def test_the_same_body_in_another_spelling_is_the_same_request(post, api, company, stripe_emulator):
    first = post("order-3", CountryCode="se", UiMode="hosted")

    again = post("order-3", CountryCode="SE", UiMode="HOSTED_PAGE")

    assert again.json()["SessionId"] == first.json()["SessionId"]


def test_same_key_with_another_body_is_refused(post, stripe_emulator):
    post("order-4")

    response = post("order-4", InternalReferenceId="another-booking")

    assert response.status_code == 422
    assert response.json()["ResponseStatus"]["ErrorCode"] == "IdempotencyKeyReused"
    assert len(stripe_emulator.requests_to("POST", CREATE_SESSION)) == 1


def test_a_key_older_than_24_hours_makes_a_new_checkout(post, stripe_emulator):
    first = post("order-5")
    ClientIdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))

    again = post("order-5")

    assert again.status_code == 200
    assert again.json()["SessionId"] != first.json()["SessionId"]


def test_a_key_whose_request_failed_can_be_retried(post, stripe_emulator, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_emulator.inject_fault("error", method="POST", path=CREATE_SESSION, status=503)

    failed = post("order-6")
    retried = post("order-6")

    assert failed.status_code == 503
    assert retried.status_code == 200
    assert Checkout.objects.count() == 1


def test_a_key_whose_first_request_is_still_running_is_a_conflict(post, company, stripe_emulator):
    ClientIdempotencyKey.objects.create(
        company=company, key="order-7", request_fingerprint="in-flight"
    )

    response = post("order-7")

    assert response.status_code == 409
    assert response.json()["ResponseStatus"]["ErrorCode"] == "IdempotencyKeyInUse"
    assert stripe_emulator.requests_to("POST", CREATE_SESSION) == []


@pytest.mark.parametrize("booking", ["new", "with-a-checkout"])
def test_a_create_rolled_back_after_its_stripe_call_answers_nothing_and_frees_its_key(
    post, create_checkout, stripe_emulator, booking
):
    if booking == "with-a-checkout":
        assert create_checkout().status_code == 200
    with refusing_new_checkout_rows():
        failed = post("order-8")

    retried = post("order-8")

    assert failed.status_code == 500
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried
    answer = ClientIdempotencyKey.objects.get().checkout
    assert answer.stripe_session_id == retried.json()["SessionId"]


@pytest.mark.postgres
def test_a_key_whose_new_booking_got_a_checkout_during_its_stripe_call_still_replays(
    post, create_checkout, stripe_emulator
):
    # The keyed create read a booking with no checkout, so the database refuses its
    # one-statement store; it stores its checkout in a transaction instead, and must
    # answer its key there.
    gate = stripe_emulator.inject_fault(
        "pass_through", method="POST", path=CREATE_SESSION, hold=True
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        keyed = in_a_thread(pool, post, "order-9")
        gate.wait_until_held(GATE_TIMEOUT)
        assert create_checkout().status_code == 200
        gate.release()
        first = keyed.result()

    again = post("order-9")

    assert first.status_code == 200
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["SessionId"] == first.json()["SessionId"]


def test_an_overlong_key_is_refused(post, stripe_emulator):
    response = post("k" * 256)

    assert response.status_code == 400
    assert response.json()["ResponseStatus"]["Errors"][0]["FieldName"] == "Idempotency-Key"
