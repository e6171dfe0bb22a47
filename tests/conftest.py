"""Fixtures that build the world: a company with Stripe settings, articles, an API key.

Plain helpers live in ``tests/support/``: row factories, request bodies and paths,
the emulator's fixtures and the SDK's test client.
"""

import os

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient

from articles.models import ArticleType, Company
from checkouts.lifecycle import refresh_checkout_from_stripe
from checkouts.models import Checkout
from tests.support.api import CHECKOUT_URL, checkout_body
from tests.support.factories import make_api_key, make_article, make_company

pytest_plugins = ["tests.support.emulator", "tests.support.redis"]


@pytest.fixture(autouse=True)
def fresh_local_cache():
    """Each test starts with an empty local-memory cache, so that no throttle count carries
    over: every test client is 127.0.0.1, whose failed key attempts are limited. (Tests on
    Redis get a key prefix of their own instead.)"""
    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture
def company(db) -> Company:
    company = make_company()
    make_article(company, article_id=1, name="Haircut", unit_amount=45000)
    make_article(
        company,
        article_type=ArticleType.REBATE_CODE_TYPE,
        article_id=7,
        name="Ten-visit card",
        unit_amount=380000,
    )
    return company


@pytest.fixture
def api_key(company) -> str:
    return make_api_key(company)


@pytest.fixture
def api(api_key) -> APIClient:
    """An API client that sends the company's X-Api-Key."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    return client


@pytest.fixture
def create_checkout(api, company, stripe_emulator):
    """POST a checkout request (JSON) for ``company``; keyword arguments override body fields."""

    def post(**overrides):
        return api.post(CHECKOUT_URL, checkout_body(company, **overrides), format="json")

    return post


@pytest.fixture
def paid_checkout(create_checkout, stripe_emulator):
    """Create a checkout through the API and have the customer pay it on the emulator; it is
    recorded as paid (as the status endpoint would). Keyword arguments override body fields."""

    def pay(**overrides) -> Checkout:
        response = create_checkout(**overrides)
        assert response.status_code == 200, response.content
        checkout = Checkout.objects.get(stripe_session_id=response.json()["SessionId"])
        stripe_emulator.complete_session(
            checkout.stripe_session_id, customer_email="kund@example.se"
        )
        return refresh_checkout_from_stripe(checkout)

    return pay


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/browser/conftest.py: pytest reads options only from conftests it
    # loads at startup.
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        default=None,
        help="Browser tests save a screenshot of every step (and of failures) under DIR.",
    )


SQLITE_SERIALISES_WRITERS = (
    "needs PostgreSQL: SQLite serialises writers, so this race cannot happen there and the "
    "test would pass whether the guard exists or not"
)


def pytest_sessionstart(session: pytest.Session) -> None:
    # CI's PostgreSQL run sets this, so that it fails rather than skip the locking tests.
    from django.db import connection

    if os.environ.get("BOKACHECKOUT_REQUIRE_POSTGRES") and connection.vendor != "postgresql":
        pytest.exit("BOKACHECKOUT_REQUIRE_POSTGRES is set but the database is not PostgreSQL", 1)
    # CI sets this too, so that the tests of limits shared across hosts never skip.
    from tests.support.redis import REDIS_TEST_URL, redis_is_reachable

    if os.environ.get("BOKACHECKOUT_REQUIRE_REDIS") and not redis_is_reachable():
        pytest.exit(f"BOKACHECKOUT_REQUIRE_REDIS is set but {REDIS_TEST_URL} is unreachable", 1)


def pytest_runtest_setup(item: pytest.Item) -> None:
    from django.db import connection

    marker = item.get_closest_marker("postgres")
    if marker and connection.vendor != "postgresql":
        pytest.skip(marker.kwargs.get("reason", SQLITE_SERIALISES_WRITERS))
