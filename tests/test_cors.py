"""CORS for booking widgets: the sites in CORS_ALLOWED_ORIGINS may call the API from a
browser; a preflight needs no API key; other origins get no CORS headers."""

import pytest
from django.test import Client

from tests.support.api import CHECKOUT_URL, checkout_body

pytestmark = pytest.mark.django_db

WIDGET = "https://booking.salong.example"


@pytest.fixture(autouse=True)
def widget_site_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [WIDGET]


def preflight(origin: str, path: str = CHECKOUT_URL):
    return Client().options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key,idempotency-key",
        },
    )


@pytest.mark.parametrize(
    "path", [CHECKOUT_URL, "/PAYMENT/stripe/v1/checkout/", "/json/reply/StripeV1CreateCheckout"]
)
def test_a_preflight_from_an_allowed_site_is_answered_without_an_api_key(path):
    response = preflight(WIDGET, path)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == WIDGET
    allowed_headers = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"x-api-key", "idempotency-key", "content-type"} <= allowed_headers
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_a_preflight_from_another_site_gets_no_cors_headers():
    response = preflight("https://evil.example")

    assert not any(name.lower().startswith("access-control-") for name in response.headers)


def test_an_answer_to_an_allowed_site_lets_it_read_the_answer(company, api_key, stripe_emulator):
    response = Client().post(
        CHECKOUT_URL,
        checkout_body(company),
        content_type="application/json",
        headers={"Origin": WIDGET, "X-Api-Key": api_key, "Idempotency-Key": "widget-1"},
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == WIDGET
    assert "Idempotent-Replayed" in response["Access-Control-Expose-Headers"]


def test_an_error_to_an_allowed_site_is_readable_too(company):
    response = Client().post(
        CHECKOUT_URL,
        checkout_body(company),
        content_type="application/json",
        headers={"Origin": WIDGET},
    )

    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == WIDGET


def test_an_answer_to_another_site_has_no_cors_headers(company, api_key, stripe_emulator):
    response = Client().post(
        CHECKOUT_URL,
        checkout_body(company),
        content_type="application/json",
        headers={"Origin": "https://evil.example", "X-Api-Key": api_key},
    )

    assert "Access-Control-Allow-Origin" not in response


def test_the_admin_gets_no_cors_headers():
    response = Client().get("/admin/login/", headers={"Origin": WIDGET})

    assert "Access-Control-Allow-Origin" not in response
