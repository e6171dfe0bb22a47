"""Read-only queries of the checkouts app."""

from collections.abc import Iterable
from uuid import UUID

from articles.models import Article, Company
from checkouts.models import IS_PAID, Checkout


def company_with_stripe_settings(company_id: UUID) -> Company:
    """The company and its Stripe settings in one query; ``Company.DoesNotExist`` if unknown."""
    return Company.objects.select_related("stripe_settings").get(pk=company_id)


def articles_by_key(
    company: Company, keys: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], Article]:
    """The company's articles among (ArticleTypeId, ArticleId) ``keys``, in one query."""
    keys = set(keys)
    article_ids = {article_id for _, article_id in keys}
    articles = Article.objects.filter(company=company, article_id__in=article_ids)
    return {
        (article.article_type, article.article_id): article
        for article in articles
        if (article.article_type, article.article_id) in keys
    }


def payable_is_paid(company: Company, internal_reference_id: str) -> bool:
    return Checkout.objects.filter(
        IS_PAID, company=company, payable__internal_reference_id=internal_reference_id
    ).exists()


def checkout_of_company(company: Company, session_id: str) -> Checkout:
    """The company's checkout for a Stripe session id; ``Checkout.DoesNotExist`` otherwise."""
    return Checkout.objects.select_related("payable").get(
        company=company, stripe_session_id=session_id
    )
