"""The demo company that ``seed_demo`` creates, so a first run has something to sell."""

import uuid

from django.db import transaction

from articles.models import Article, ArticleType, Company, StripeCheckoutSettings

DEMO_COMPANY_ID = uuid.UUID("0d3e6a4c-5b1f-4d8e-9c2a-7f6b5e4d3c2b")
DEMO_CONNECTED_ACCOUNT = "acct_1DemoSalonBokaMera"
DEMO_ARTICLES = [
    (ArticleType.SERVICE, 1, "Haircut, 45 minutes", 45000, "25.00"),
    (ArticleType.SERVICE, 2, "Beard trim", 25000, "25.00"),
    (ArticleType.REBATE_CODE_TYPE, 1, "Ten-visit rebate code", 380000, "25.00"),
    (ArticleType.GIFT_CARD, 1, "Gift card 500 kr", 50000, "0.00"),
    (ArticleType.PUNCH_TICKET, 1, "Punch ticket, 5 visits", 200000, "25.00"),
    (ArticleType.VALUE_CARD, 1, "Value card 1000 kr", 100000, "0.00"),
]


@transaction.atomic
def seed_demo_company(*, base_url: str) -> Company:
    """Create or refresh the demo company, its enabled Stripe settings and its articles."""
    company, _ = Company.objects.update_or_create(
        pk=DEMO_COMPANY_ID, defaults={"name": "Demo Salon", "currency": "SEK"}
    )
    StripeCheckoutSettings.objects.update_or_create(
        company=company,
        defaults={
            "enabled": True,
            "connected_account_id": DEMO_CONNECTED_ACCOUNT,
            "default_confirmation_url": f"{base_url}/demo/confirmation",
            "default_cancel_url": f"{base_url}/demo/cancel",
            "allowed_redirect_hosts": "localhost\n127.0.0.1",
            "checkout_lifetime_minutes": 60,
        },
    )
    for article_type, article_id, name, unit_amount, vat_rate in DEMO_ARTICLES:
        Article.objects.update_or_create(
            company=company,
            article_type=article_type,
            article_id=article_id,
            defaults={
                "name": name,
                "unit_amount": unit_amount,
                "vat_rate": vat_rate,
                "active": True,
            },
        )
    return company
