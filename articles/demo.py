"""The demo company that ``seed_demo`` creates, so a first run has something to sell,
and the demo staff login that looks after its payments in the admin."""

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Permission
from django.db import transaction
from django.db.models import Q

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

DEMO_STAFF_USERNAME = "demo"
# (app label, model, actions): browse and act on the payment records, browse the catalogue.
DEMO_STAFF_PERMISSIONS = [
    ("checkouts", "checkout", ("view", "change")),
    ("checkouts", "payable", ("view", "change")),
    ("checkouts", "webhookdelivery", ("view", "change")),
    ("articles", "company", ("view",)),
    ("articles", "stripecheckoutsettings", ("view",)),
    ("articles", "article", ("view",)),
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


@transaction.atomic
def seed_demo_staff_user(*, password: str) -> AbstractUser:
    """Create or refresh the staff user ``demo``: not a superuser, only the permissions above.

    Its password is set to ``password`` and its permissions are reset to exactly
    ``DEMO_STAFF_PERMISSIONS``. LookupError if a permission is missing (run migrate first).
    """
    wanted = Q()
    count = 0
    for app_label, model, actions in DEMO_STAFF_PERMISSIONS:
        for action in actions:
            wanted |= Q(
                content_type__app_label=app_label,
                content_type__model=model,
                codename=f"{action}_{model}",
            )
            count += 1
    permissions = list(Permission.objects.filter(wanted))
    if len(permissions) != count:
        raise LookupError("The demo staff permissions do not all exist yet; run migrate first.")
    user, _ = get_user_model().objects.update_or_create(
        username=DEMO_STAFF_USERNAME,
        defaults={"is_staff": True, "is_superuser": False, "is_active": True},
    )
    user.set_password(password)
    user.save(update_fields=["password"])
    user.user_permissions.set(permissions)
    return user
