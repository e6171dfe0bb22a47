"""Work per create does not grow with the request: a fixed number of SQL queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checkouts.models import Checkout, CheckoutStatus
from tests.support.factories import make_article

pytestmark = pytest.mark.django_db(transaction=True)


def captured_create(create_checkout, **overrides) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        response = create_checkout(**overrides)
    assert response.status_code == 200, response.json()
    return [query["sql"] for query in context.captured_queries]


@pytest.fixture
def fifty_articles(company):
    for article_id in range(100, 150):
        make_article(company, article_id=article_id, name=f"Treatment {article_id}")
    return [{"ArticleTypeId": 1, "ArticleId": article_id} for article_id in range(100, 150)]


def test_queries_are_the_same_for_one_and_fifty_articles(
    create_checkout, stripe_emulator, fifty_articles
):
    one = captured_create(create_checkout, InternalReferenceId="one", Articles=fifty_articles[:1])
    fifty = captured_create(create_checkout, InternalReferenceId="fifty", Articles=fifty_articles)

    assert len(one) == len(fifty)


def test_articles_are_loaded_in_one_query(create_checkout, stripe_emulator, fifty_articles):
    queries = captured_create(create_checkout, Articles=fifty_articles)

    assert len([sql for sql in queries if 'FROM "articles_article"' in sql]) == 1


def test_queries_are_the_same_without_and_with_twenty_earlier_sessions(
    create_checkout, stripe_emulator
):
    for _ in range(20):
        create_checkout(InternalReferenceId="busy")
    # Their time ran out, as Stripe would have reported.
    Checkout.objects.update(status=CheckoutStatus.EXPIRED)

    fresh = captured_create(create_checkout, InternalReferenceId="fresh")
    busy = captured_create(create_checkout, InternalReferenceId="busy")

    assert len(fresh) == len(busy)


def test_superseding_costs_the_same_for_one_and_twenty_earlier_sessions(
    create_checkout, stripe_emulator
):
    create_checkout(InternalReferenceId="once")
    for _ in range(20):
        create_checkout(InternalReferenceId="often")

    once = captured_create(create_checkout, InternalReferenceId="once")
    often = captured_create(create_checkout, InternalReferenceId="often")

    assert len(once) == len(often)
    superseding = [sql for sql in often if sql.startswith("UPDATE") and "superseded_at" in sql]
    assert len(superseding) == 1
