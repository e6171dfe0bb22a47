"""Read-only queries of the checkouts app."""

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db.models import Exists

from articles.models import Article, Company
from checkouts.models import Checkout, Payable


def company_with_stripe_settings(company_id: UUID) -> Company:
    """The company and its Stripe settings in one query; ``Company.DoesNotExist`` if unknown."""
    return Company.objects.select_related("stripe_settings").get(pk=company_id)


@dataclass(frozen=True)
class CatalogueForCheckout:
    """What a create reads before it calls Stripe."""

    articles: dict[tuple[int, int], Article]
    payable_is_paid: bool


def catalogue_for_checkout(
    company: Company, keys: Iterable[tuple[int, int]], internal_reference_id: str
) -> CatalogueForCheckout:
    """The company's articles among (ArticleTypeId, ArticleId) ``keys``, and whether the
    payable is already paid, in one query: each article row carries the payable's state.

    With no matching article the request is refused anyway, so the state is not needed.
    """
    keys = set(keys)
    article_ids = {article_id for _, article_id in keys}
    paid = Payable.objects.filter(
        company=company,
        internal_reference_id=internal_reference_id,
        paid_checkout__isnull=False,
    )
    articles = list(
        Article.objects.filter(company=company, article_id__in=article_ids).annotate(
            payable_is_paid=Exists(paid)
        )
    )
    return CatalogueForCheckout(
        articles={
            (article.article_type, article.article_id): article
            for article in articles
            if (article.article_type, article.article_id) in keys
        },
        payable_is_paid=any(article.payable_is_paid for article in articles),
    )


def checkout_of_company(company: Company, session_id: str) -> Checkout:
    """The company's checkout for a Stripe session id; ``Checkout.DoesNotExist`` otherwise."""
    return Checkout.objects.select_related("payable").get(
        company=company, stripe_session_id=session_id
    )


def checkout_to_refund(
    company: Company, *, session_id: str | None = None, internal_reference_id: str | None = None
) -> Checkout:
    """The checkout a refund names: its session, or the payable's paid checkout (else its
    current one, which is then refused as not paid). ``Checkout.DoesNotExist`` if the
    company has no such checkout; with both, the session must be the payable's."""
    checkouts = Checkout.objects.select_related("payable", "company__stripe_settings").filter(
        company=company
    )
    if internal_reference_id is not None:
        checkouts = checkouts.filter(payable__internal_reference_id=internal_reference_id)
    if session_id is not None:
        return checkouts.get(stripe_session_id=session_id)
    payable = Payable.objects.filter(
        company=company, internal_reference_id=internal_reference_id
    ).first()
    if payable is None:
        raise Checkout.DoesNotExist
    chosen = payable.paid_checkout_id or payable.current_checkout_id
    return checkouts.get(pk=chosen) if chosen else checkouts.latest("created_at")
