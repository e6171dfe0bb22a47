"""Read-only queries of the demo pages."""

from dataclasses import dataclass
from uuid import UUID

from django.conf import settings

from articles.models import Article, Company

STRIPE_JS_URL = "https://js.stripe.com/v3/"
EMULATOR_SCRIPT_PATH = "/v3/embedded-checkout.js"
# The emulator's Stripe.js stand-in wants a key, and any will do.
EMULATOR_PUBLISHABLE_KEY = "pk_test_emulator"


@dataclass(frozen=True)
class StripeJs:
    """Where the page loads Stripe.js from, and the publishable key it calls ``Stripe()`` with."""

    script_url: str
    publishable_key: str
    emulated: bool


def catalogue(company_id: UUID) -> tuple[Company, list[Article]]:
    """The company and its active articles; ``Company.DoesNotExist`` if unknown."""
    company = Company.objects.get(pk=company_id)
    return company, list(
        company.articles.filter(active=True).order_by("article_type", "article_id")
    )


def stripe_js() -> StripeJs:
    """The emulator's stand-in when ``STRIPE_API_BASE`` is set; otherwise Stripe.js itself."""
    if settings.STRIPE_API_BASE:
        return StripeJs(
            script_url=settings.STRIPE_API_BASE.rstrip("/") + EMULATOR_SCRIPT_PATH,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY or EMULATOR_PUBLISHABLE_KEY,
            emulated=True,
        )
    return StripeJs(
        script_url=STRIPE_JS_URL, publishable_key=settings.STRIPE_PUBLISHABLE_KEY, emulated=False
    )
