"""Work per create stays at the floor, whatever the request: at most 6 SQL statements
(transaction control aside) and one Stripe call before the response.

Counted with the production task backend, the database queue, whose enqueue is an
INSERT: everything the request runs counts, API key included. The sessions a create
supersedes are ended on Stripe afterwards, by the queue's worker.
"""

import pytest

from checkouts.models import Checkout, StripeExpiry
from tests.support.api import CHECKOUT_URL, checkout_body
from tests.support.emulator import EMULATOR_SECRET_KEY
from tests.support.factories import make_article
from tests.support.work import measured_work
from tests.support.worker import run_queued_tasks

pytestmark = pytest.mark.django_db(transaction=True)

STATEMENT_BUDGET = 6
CREATE_SESSION_CALL = "POST /v1/checkout/sessions"
FIRST_BULK_ARTICLE_ID = 100
IDEMPOTENCY_KEY_WRITES = [
    "INSERT INTO checkouts_clientidempotencykey",
    "UPDATE checkouts_clientidempotencykey",
]


@pytest.fixture(autouse=True)
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def articles(company):
    """Make ``count`` more articles of the company; the request's ``Articles`` for them."""

    def of(count: int) -> list[dict]:
        ids = range(FIRST_BULK_ARTICLE_ID, FIRST_BULK_ARTICLE_ID + count)
        for article_id in ids:
            make_article(company, article_id=article_id, name=f"Treatment {article_id}")
        return [{"ArticleTypeId": 1, "ArticleId": article_id, "Quantity": 2} for article_id in ids]

    return of


def session_id(response) -> str:
    assert response.status_code == 200, response.content
    return response.json()["SessionId"]


def older_sessions(create_checkout, count: int, reference: str) -> list[str]:
    return [session_id(create_checkout(InternalReferenceId=reference)) for _ in range(count)]


@pytest.mark.parametrize(
    ("article_count", "older_count"),
    [(1, 0), (10, 0), (100, 0), (1, 1), (100, 1), (1, 10), (1, 100)],
)
def test_a_create_runs_at_most_six_statements_and_one_stripe_call(
    create_checkout, stripe_emulator, articles, article_count, older_count
):
    older_sessions(create_checkout, older_count, "booking-busy")
    ordered = articles(article_count)

    with measured_work(stripe_emulator) as work:
        response = create_checkout(InternalReferenceId="booking-busy", Articles=ordered)

    session_id(response)
    assert len(work.statements) <= STATEMENT_BUDGET, "\n".join(work.statements)
    assert work.stripe_calls == [CREATE_SESSION_CALL]


def test_a_new_booking_supersedes_nothing_and_queues_nothing(create_checkout, stripe_emulator):
    with measured_work(stripe_emulator) as work:
        session_id(create_checkout(InternalReferenceId="booking-new"))

    assert work.writes == ["INSERT INTO checkouts_payable", "INSERT INTO checkouts_checkout"]


def test_a_create_that_supersedes_queues_one_task_to_end_the_older_session(
    create_checkout, stripe_emulator
):
    older_sessions(create_checkout, 10, "booking-busy")

    with measured_work(stripe_emulator) as work:
        session_id(create_checkout(InternalReferenceId="booking-busy"))

    assert work.writes == [
        "INSERT INTO checkouts_payable",
        "UPDATE checkouts_checkout",
        "INSERT INTO checkouts_checkout",
        "INSERT INTO django_tasks_database_dbtaskresult",
    ]


def test_an_idempotency_key_adds_its_claim_and_its_answer(api, company, stripe_emulator):
    def create(**headers):
        return api.post(
            CHECKOUT_URL,
            checkout_body(company, InternalReferenceId="booking-busy"),
            format="json",
            **headers,
        )

    session_id(create())
    with measured_work(stripe_emulator) as without_key:
        session_id(create())
    with measured_work(stripe_emulator) as with_key:
        session_id(create(HTTP_IDEMPOTENCY_KEY="booking-busy-attempt-3"))

    assert sorted(with_key.writes) == sorted(without_key.writes + IDEMPOTENCY_KEY_WRITES)
    assert with_key.stripe_calls == [CREATE_SESSION_CALL]


@pytest.mark.postgres(
    reason="PostgreSQL's counts: SQLite has no data-modifying WITH, so there every write "
    "is a statement of its own"
)
@pytest.mark.parametrize(
    ("older_count", "statements"),
    [
        # The key, the claim, the articles; the payable, the checkout and the answer.
        (0, 4),
        # The key, the claim, the articles; the payable; the older checkout's UPDATE, the
        # checkout and the answer; the task.
        (1, 6),
        (10, 6),
    ],
)
def test_a_create_with_an_idempotency_key_runs_at_most_six_statements(
    api, company, create_checkout, stripe_emulator, older_count, statements
):
    older_sessions(create_checkout, older_count, "booking-keyed")

    with measured_work(stripe_emulator) as work:
        response = api.post(
            CHECKOUT_URL,
            checkout_body(company, InternalReferenceId="booking-keyed"),
            format="json",
            HTTP_IDEMPOTENCY_KEY="booking-keyed-attempt-1",
        )

    session_id(response)
    assert len(work.statements) == statements <= STATEMENT_BUDGET, "\n".join(work.statements)
    assert work.stripe_calls == [CREATE_SESSION_CALL]


def test_the_superseded_sessions_end_on_stripe_after_the_response_by_the_worker(
    create_checkout, stripe_emulator
):
    superseded = older_sessions(create_checkout, 3, "booking-busy")
    newest = session_id(create_checkout(InternalReferenceId="booking-busy"))
    # The responses came before any of them was ended.
    assert [stripe_emulator.session(sid)["status"] for sid in superseded] == ["open"] * 3

    run_queued_tasks(stripe_api_base=stripe_emulator.url, stripe_secret_key=EMULATOR_SECRET_KEY)

    assert [stripe_emulator.session(sid)["status"] for sid in superseded] == ["expired"] * 3
    assert stripe_emulator.session(newest)["status"] == "open"
    assert set(
        Checkout.objects.filter(stripe_session_id__in=superseded).values_list(
            "stripe_expiry", flat=True
        )
    ) == {StripeExpiry.EXPIRED}
