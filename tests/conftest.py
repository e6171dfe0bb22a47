"""Fixtures that build the world: a company with Stripe settings, articles, an API key."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from articles.models import Article, ArticleType, Company, StripeCheckoutSettings
from checkouts.models import Checkout, CheckoutStatus, CompanyApiKey, Payable, PaymentStatus

pytest_plugins = ["tests.support.emulator"]

CHECKOUT_URL = "/payment/stripe/v1/checkout"


def make_company(
    *,
    name: str = "Salong Lugn",
    currency: str = "SEK",
    account: str = "acct_1SalongLugn",
    enabled: bool = True,
    lifetime_minutes: int = 60,
) -> Company:
    company = Company.objects.create(name=name, currency=currency)
    StripeCheckoutSettings.objects.create(
        company=company,
        enabled=enabled,
        connected_account_id=account,
        default_confirmation_url="https://booking.example.com/confirmed",
        default_cancel_url="https://booking.example.com/cancelled",
        allowed_redirect_hosts="app.example.com\n*.salong.example",
        checkout_lifetime_minutes=lifetime_minutes,
    )
    return company


def make_article(
    company: Company,
    *,
    article_type: int = ArticleType.SERVICE,
    article_id: int = 1,
    name: str = "Haircut",
    unit_amount: int = 45000,
    vat_rate: str = "25.00",
    active: bool = True,
) -> Article:
    return Article.objects.create(
        company=company,
        article_type=article_type,
        article_id=article_id,
        name=name,
        unit_amount=unit_amount,
        vat_rate=vat_rate,
        active=active,
    )


def make_checkout(payable: Payable, **overrides) -> Checkout:
    """A stored checkout as if created earlier, without Stripe (for states the API can't make)."""
    values = {
        "stripe_session_id": f"cs_test_{uuid.uuid4().hex}",
        "company": payable.company,
        "payable": payable,
        "connected_account_id": "acct_1SalongLugn",
        "ui_mode": "hosted",
        "country_code": "SE",
        "locale": "sv",
        "currency": payable.company.currency,
        "amount_total": 45000,
        "status": CheckoutStatus.OPEN,
        "payment_status": PaymentStatus.UNPAID,
        "expires_at": timezone.now() + timedelta(hours=1),
    }
    return Checkout.objects.create(**{**values, **overrides})


def make_api_key(company: Company) -> str:
    _, key = CompanyApiKey.objects.create_key(company=company, name="test")
    return key


def checkout_body(company: Company, **overrides) -> dict:
    body = {
        "CompanyId": str(company.id),
        "CountryCode": "SE",
        "Articles": [{"ArticleId": 1, "ArticleTypeId": ArticleType.SERVICE, "Quantity": 1}],
        "InternalReferenceId": "booking-1001",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


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


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/browser/conftest.py: pytest reads options only from conftests it
    # loads at startup.
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        default=None,
        help="Browser tests save a screenshot of every step (and of failures) under DIR.",
    )
