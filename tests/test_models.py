"""What the database itself guarantees about the catalogue and the checkouts."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from articles.models import Article, Company, StripeCheckoutSettings
from checkouts.constants import COUNTRY_LOCALES
from checkouts.models import Payable
from tests.support.factories import make_article, make_checkout, make_company

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("minutes", [29, 24 * 60 + 1])
def test_checkout_lifetime_outside_stripes_limits_is_rejected_by_the_database(minutes):
    company = Company.objects.create(name="Salon", currency="SEK")
    with pytest.raises(IntegrityError):
        StripeCheckoutSettings.objects.create(
            company=company,
            connected_account_id="acct_1X",
            default_confirmation_url="https://example.com/ok",
            checkout_lifetime_minutes=minutes,
        )


def test_an_article_key_is_unique_per_company():
    company = make_company()
    make_article(company, article_id=5)
    with pytest.raises(IntegrityError):
        make_article(company, article_id=5)


def test_the_same_article_key_may_exist_in_two_companies():
    make_article(make_company(name="A"), article_id=5)
    make_article(make_company(name="B", account="acct_1B"), article_id=5)

    assert Article.objects.count() == 2


def test_a_payable_is_unique_per_company_and_reference():
    company = make_company()
    Payable.objects.create(company=company, internal_reference_id="booking-1")
    with pytest.raises(IntegrityError):
        Payable.objects.create(company=company, internal_reference_id="booking-1")


def test_a_checkout_is_current_for_at_most_one_payable():
    company = make_company()
    first = Payable.objects.create(company=company, internal_reference_id="a")
    second = Payable.objects.create(company=company, internal_reference_id="b")
    checkout = make_checkout(first)
    Payable.objects.filter(pk=first.pk).update(current_checkout=checkout)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payable.objects.filter(pk=second.pk).update(current_checkout=checkout)


def test_an_unknown_currency_is_not_a_valid_company():
    company = Company(name="Salon", currency="XYZ")
    with pytest.raises(ValidationError):
        company.full_clean()


def test_an_article_price_stripe_cannot_charge_is_not_valid():
    company = make_company(currency="MGA")
    article = Article(company=company, article_type=1, article_id=1, name="x", unit_amount=150)
    with pytest.raises(ValidationError):
        article.full_clean()


def test_every_mapped_locale_is_one_stripe_accepts():
    from stripe.params.checkout._session_create_params import SessionCreateParams

    accepted = SessionCreateParams.__annotations__["locale"].__args__[0].__forward_arg__
    for locale in set(COUNTRY_LOCALES.values()):
        assert f"'{locale}'" in accepted
