"""X-Api-Key access: hashed per-company keys, 401, 403 and per-key throttling."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from checkouts.models import CompanyApiKey
from tests.support.api import CHECKOUT_URL, CREATE_SESSION, checkout_body
from tests.support.factories import make_api_key, make_article, make_company

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def post_with_key(company, key):
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_X_API_KEY=key)
    return client.post(CHECKOUT_URL, checkout_body(company), format="json")


def test_a_request_without_api_key_is_unauthorised(company, stripe_emulator):
    response = post_with_key(company, None)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "X-Api-Key"
    assert response.json()["ResponseStatus"] == {
        "ErrorCode": "Unauthorized",
        "Message": "An X-Api-Key header is required.",
        "Errors": [],
    }


@pytest.mark.parametrize("key", ["not-a-key", "abcdefgh.wrongsecretwrongsecretwrongsec", "."])
def test_an_unknown_api_key_is_unauthorised(company, stripe_emulator, key):
    make_api_key(company)

    response = post_with_key(company, key)

    assert response.status_code == 401


def test_a_key_with_the_right_prefix_but_wrong_secret_is_unauthorised(company, stripe_emulator):
    prefix = make_api_key(company).partition(".")[0]

    response = post_with_key(company, f"{prefix}.{'x' * 32}")

    assert response.status_code == 401


def test_a_revoked_api_key_is_unauthorised(company, api_key, stripe_emulator):
    CompanyApiKey.objects.update(revoked=True)

    response = post_with_key(company, api_key)

    assert response.status_code == 401


def test_an_expired_api_key_is_unauthorised(company, api_key, stripe_emulator):
    CompanyApiKey.objects.update(expiry_date=timezone.now() - timedelta(minutes=1))

    response = post_with_key(company, api_key)

    assert response.status_code == 401
    assert "expired" in response.json()["ResponseStatus"]["Message"]


def test_a_key_of_another_company_is_forbidden(company, stripe_emulator):
    other = make_company(name="Other salon", account="acct_1Other")
    make_article(other)
    other_key = make_api_key(other)

    response = post_with_key(company, other_key)

    assert response.status_code == 403
    assert response.json()["ResponseStatus"]["ErrorCode"] == "Forbidden"
    assert stripe_emulator.requests_to("POST", CREATE_SESSION) == []


def test_api_keys_are_stored_only_hashed(company):
    key = make_api_key(company)

    row = CompanyApiKey.objects.values().get()
    assert key not in str(row)
    assert row["hashed_key"].startswith("sha512$$")


def test_each_key_is_throttled_on_its_own(company, api_key, stripe_emulator, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "2/min"},
    }
    other_key = make_api_key(company)

    statuses = [post_with_key(company, api_key).status_code for _ in range(3)]
    other_status = post_with_key(company, other_key).status_code

    assert statuses == [200, 200, 429]
    assert other_status == 200


def test_throttled_requests_get_the_error_shape_and_retry_after(
    company, api_key, stripe_emulator, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "1/hour"},
    }
    post_with_key(company, api_key)

    response = post_with_key(company, api_key)

    assert response.status_code == 429
    assert response.json()["ResponseStatus"]["ErrorCode"] == "TooManyRequests"
    assert int(response["Retry-After"]) > 0
