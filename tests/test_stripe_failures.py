"""When Stripe refuses or cannot be reached: 502 or 503, and nothing stored or invalidated."""

import socket

import pytest

from checkouts.models import Checkout, Payable
from tests.support.api import CREATE_SESSION

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_stripe_timeouts(settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    settings.STRIPE_MAX_NETWORK_RETRIES = 1


def assert_nothing_stored():
    assert Checkout.objects.count() == 0
    assert Payable.objects.count() == 0


def test_stripe_refusing_the_request_is_a_bad_gateway_with_stripes_message(
    create_checkout, stripe_emulator
):
    stripe_emulator.inject_fault(
        "error",
        method="POST",
        path=CREATE_SESSION,
        status=400,
        message="The connected account is restricted.",
    )

    response = create_checkout()

    assert response.status_code == 502
    status = response.json()["ResponseStatus"]
    assert status["ErrorCode"] == "StripeRequestRefused"
    assert status["Message"] == "The connected account is restricted."
    assert_nothing_stored()


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error", "status": 500, "times": 2},
        {"kind": "error", "status": 503, "times": 2},
        {"kind": "error", "status": 429, "times": 1},
        {"kind": "timeout", "seconds": 3, "times": 2},
        {"kind": "drop", "times": 2},
    ],
    ids=["500", "503", "429", "timeout", "dropped-connection"],
)
def test_stripe_failing_or_timing_out_is_service_unavailable(
    create_checkout, stripe_emulator, fault
):
    stripe_emulator.inject_fault(method="POST", path=CREATE_SESSION, **fault)

    response = create_checkout()

    assert response.status_code == 503
    assert response.json()["ResponseStatus"]["ErrorCode"] == "StripeUnavailable"
    assert_nothing_stored()


def test_stripe_unreachable_is_service_unavailable(create_checkout, stripe_emulator, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed.getsockname()[1]}"

    response = create_checkout()

    assert response.status_code == 503
    assert_nothing_stored()


def test_one_transient_failure_is_retried_by_the_sdk(create_checkout, stripe_emulator):
    stripe_emulator.inject_fault("drop", method="POST", path=CREATE_SESSION, times=1)

    response = create_checkout()

    assert response.status_code == 200
    assert Checkout.objects.count() == 1


def test_stripe_refusing_our_own_key_is_our_error_and_echoes_no_key(
    create_checkout, stripe_emulator, settings, caplog
):
    settings.STRIPE_SECRET_KEY = "sk_live_fake-1234abcd"

    response = create_checkout()

    assert response.status_code == 500
    status = response.json()["ResponseStatus"]
    assert status["ErrorCode"] == "PaymentServiceMisconfigured"
    assert "sk_" not in response.content.decode()
    assert "abcd" not in response.content.decode()
    (alert,) = [record for record in caplog.records if record.levelname == "CRITICAL"]
    assert "Invalid API Key" in alert.getMessage()
    assert_nothing_stored()


def test_an_unavailable_stripe_says_when_to_retry(create_checkout, stripe_emulator):
    stripe_emulator.inject_fault("error", method="POST", path=CREATE_SESSION, status=500, times=2)

    response = create_checkout()

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
