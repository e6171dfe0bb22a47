"""The Stripe client takes its proxies from the environment once, when it is made."""

import socket

import pytest

from checkouts import stripe_gateway

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unreachable_proxy() -> str:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{closed.getsockname()[1]}"


@pytest.fixture
def new_stripe_client(settings):
    """The next call makes a new client, and later tests do not get this test's."""
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_gateway._client.cache_clear()
    yield
    stripe_gateway._client.cache_clear()


def test_a_proxy_in_the_environment_carries_the_calls(
    create_checkout, new_stripe_client, unreachable_proxy, monkeypatch
):
    monkeypatch.setenv("HTTP_PROXY", unreachable_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    response = create_checkout()

    assert response.status_code == 503
    assert response.json()["ResponseStatus"]["ErrorCode"] == "StripeUnavailable"


def test_no_proxy_in_the_environment_exempts_stripes_address(
    create_checkout, new_stripe_client, unreachable_proxy, monkeypatch
):
    monkeypatch.setenv("HTTP_PROXY", unreachable_proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    assert create_checkout().status_code == 200


def test_the_environment_is_not_read_again_on_each_call(
    create_checkout, new_stripe_client, unreachable_proxy, monkeypatch
):
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    assert create_checkout().status_code == 200

    monkeypatch.setenv("HTTP_PROXY", unreachable_proxy)

    assert create_checkout().status_code == 200
