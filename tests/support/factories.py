"""Rows built straight through the ORM, for states the API can't make (or makes slowly).

Every test module and benchmark builds its companies, articles, API keys and
checkouts here. A checkout built here is inserted without firing the post-save
superseding hook, so a fixture never supersedes its own rows by accident; a
test of the hook saves the row itself.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from articles.models import Article, ArticleType, Company, StripeCheckoutSettings
from checkouts.models import (
    Checkout,
    CheckoutLine,
    CheckoutStatus,
    CompanyApiKey,
    Payable,
    PaymentStatus,
    UiMode,
)

DEFAULT_ACCOUNT = "acct_1SalongLugn"
# (quantity, name, unit amount in minor units)
DEFAULT_LINES = ((1, "Haircut", 45000),)


def make_company(
    *,
    name: str = "Salong Lugn",
    currency: str = "SEK",
    account: str = DEFAULT_ACCOUNT,
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


def make_api_key(company: Company) -> str:
    """A new key of ``company``, as the client sends it (only its hash is stored)."""
    _, key = CompanyApiKey.objects.create_key(company=company, name="test")
    return key


def make_payable(company: Company, reference: str = "booking-1001") -> Payable:
    return Payable.objects.create(company=company, internal_reference_id=reference)


def build_checkout(
    payable: Payable,
    *,
    lines: Sequence[tuple[int, str, int]] = DEFAULT_LINES,
    **fields,
) -> Checkout:
    """An unsaved open checkout of ``payable`` (nothing on Stripe); ``fields`` override."""
    values = {
        "stripe_session_id": f"cs_test_{uuid.uuid4().hex}",
        "lines": [
            CheckoutLine(
                article_type=ArticleType.SERVICE,
                article_id=position,
                name=name,
                quantity=quantity,
                unit_amount=unit_amount,
                vat_rate=Decimal("25.00"),
            ).to_json()
            for position, (quantity, name, unit_amount) in enumerate(lines, start=1)
        ],
        "company": payable.company,
        "payable": payable,
        "connected_account_id": payable.company.stripe_settings.connected_account_id,
        "ui_mode": UiMode.HOSTED,
        "country_code": "SE",
        "locale": "sv",
        "currency": payable.company.currency,
        "amount_total": sum(quantity * amount for quantity, _, amount in lines),
        "status": CheckoutStatus.OPEN,
        "payment_status": PaymentStatus.UNPAID,
        "expires_at": timezone.now() + timedelta(hours=1),
    }
    return Checkout(**{**values, **fields})


def make_checkout(
    payable: Payable,
    *,
    lines: Sequence[tuple[int, str, int]] = DEFAULT_LINES,
    created_at: datetime | None = None,
    **fields,
) -> Checkout:
    """A stored checkout with ``lines`` of (quantity, name, unit amount), inserted without
    the superseding hook (the database still refuses a second open one); ``created_at``
    backdates it."""
    (checkout,) = Checkout.objects.bulk_create([build_checkout(payable, lines=lines, **fields)])
    if created_at is not None:
        Checkout.objects.filter(pk=checkout.pk).update(created_at=created_at)
    checkout.refresh_from_db()
    return checkout


def make_paid_checkout(payable: Payable, **fields) -> Checkout:
    """A paid checkout; the payable's first one becomes its paid and current checkout."""
    checkout = make_checkout(
        payable,
        status=CheckoutStatus.COMPLETE,
        payment_status=PaymentStatus.PAID,
        paid_at=timezone.now(),
        **fields,
    )
    Payable.objects.filter(pk=payable.pk, paid_checkout__isnull=True).update(
        paid_checkout=checkout, current_checkout=checkout
    )
    payable.refresh_from_db()
    return checkout
