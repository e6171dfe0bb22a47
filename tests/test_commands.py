"""create_api_key and seed_demo, as an operator runs them."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from articles.demo import DEMO_COMPANY_ID
from articles.models import Article, Company
from checkouts.models import CompanyApiKey
from tests.support.api import CHECKOUT_URL, SEED_RESPONSE_FIELDS

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_api_key_prints_a_working_key_once_and_stores_its_hash(company):
    key = run("create_api_key", str(company.id), "--name", "front desk").strip()

    stored = CompanyApiKey.objects.get()
    assert stored.company == company
    assert stored.name == "front desk"
    assert CompanyApiKey.objects.get_from_key(key) == stored
    assert key not in str(CompanyApiKey.objects.values().get())


@pytest.mark.parametrize("company_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_create_api_key_for_an_unknown_company_fails(company_id):
    with pytest.raises(CommandError):
        run("create_api_key", company_id)


def test_seed_demo_creates_a_company_that_can_take_payments():
    summary = json.loads(run("seed_demo", "--json"))

    company = Company.objects.get(pk=summary["CompanyId"])
    assert str(company.id) == str(DEMO_COMPANY_ID)
    assert company.stripe_settings.enabled
    assert CompanyApiKey.objects.get_from_key(summary["ApiKey"]).company == company
    types = {article["ArticleTypeId"] for article in summary["Articles"]}
    assert len(types) >= 4


def test_seed_demo_is_idempotent():
    first = json.loads(run("seed_demo", "--json"))
    second = json.loads(run("seed_demo", "--json"))

    assert first["CompanyId"] == second["CompanyId"]
    assert first["Articles"] == second["Articles"]
    assert Company.objects.count() == 1
    assert Article.objects.count() == len(first["Articles"])
    assert first["ApiKey"] != second["ApiKey"]


@pytest.mark.django_db(transaction=True)
def test_the_seed_sample_request_with_demo_ids_returns_the_seed_response(stripe_emulator):
    summary = json.loads(run("seed_demo", "--json"))
    article = summary["Articles"][0]
    client = APIClient()
    body = {
        "CompanyId": summary["CompanyId"],
        "CountryCode": "SE",
        "Articles": [
            {
                "ArticleId": article["ArticleId"],
                "ArticleTypeId": article["ArticleTypeId"],
                "Quantity": 1,
            }
        ],
        "InternalReferenceId": "demo-booking-1",
        "ConfirmationUrl": "http://localhost:8000/demo/confirmation",
        "CancelUrl": "http://localhost:8000/demo/cancel",
        "UiMode": "hosted",
    }

    response = client.post(
        CHECKOUT_URL, body, format="json", HTTP_X_API_KEY=summary["ApiKey"], HTTP_ACCEPT="text/csv"
    )

    assert response.status_code == 200
    header = response.content.decode().split("\r\n")[0].split(",")
    assert header == SEED_RESPONSE_FIELDS
    (session,) = stripe_emulator.sessions_on("acct_1DemoSalonBokaMera")
    assert session["status"] == "open"
