"""The demo pages without a browser: when they are served, what they show, the staff login."""

import io
import json
import os
import re
import subprocess
import sys
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from articles.demo import DEMO_COMPANY_ID, DEMO_STAFF_USERNAME, seed_demo_company
from articles.models import Article
from tests.support.factories import make_article

pytestmark = pytest.mark.django_db

DEMO_PAGES = ["/demo/", "/demo/confirmation?session_id=cs_test_1", "/demo/cancel"]


@pytest.fixture
def demo_pages(settings):
    settings.DEMO_PAGES_ENABLED = True
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"
    settings.STRIPE_PUBLISHABLE_KEY = ""
    return settings


@pytest.fixture
def demo_company():
    return seed_demo_company(base_url="http://testserver")


def seed(*args: str) -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("path", DEMO_PAGES)
def test_the_demo_pages_are_a_404_unless_enabled(client, settings, demo_company, path):
    settings.DEMO_PAGES_ENABLED = False

    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", DEMO_PAGES)
def test_the_demo_pages_are_served_when_enabled_with_debug_off(
    client, demo_pages, demo_company, path
):
    demo_pages.DEBUG = False

    assert client.get(path).status_code == 200


def test_the_script_is_served_as_javascript_with_debug_off(client, demo_pages):
    demo_pages.DEBUG = False

    response = client.get("/static/demo/demo.js")

    assert response["Content-Type"].startswith("text/javascript")
    assert b"X-Api-Key" in b"".join(response.streaming_content)


def test_the_demo_page_lists_the_demo_companys_active_articles(client, demo_pages, demo_company):
    Article.objects.filter(company=demo_company, name="Beard trim").update(active=False)

    response = client.get("/demo/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Demo Salon" in html
    active = Article.objects.filter(company=demo_company, active=True)
    assert html.count('<tr class="article"') == active.count() == 5
    assert "Haircut, 45 minutes" in html
    assert "450.00 SEK" in html
    assert 'data-article-type-id="1"' in html
    assert "Beard trim" not in html
    assert f'data-company-id="{DEMO_COMPANY_ID}"' in html
    assert 'data-checkout-url="/payment/stripe/v1/checkout"' in html


def test_the_demo_page_shows_the_company_named_in_the_query(client, demo_pages, company):
    response = client.get(f"/demo/?company={company.id}")

    html = response.content.decode()
    assert "Salong Lugn" in html
    assert "Haircut" in html
    assert "Ten-visit card" in html
    assert f'data-company-id="{company.id}"' in html


def test_the_demo_page_of_a_company_without_articles_says_so(client, demo_pages, company):
    company.articles.update(active=False)

    response = client.get(f"/demo/?company={company.id}")

    assert 'id="no-articles"' in response.content.decode()


@pytest.mark.parametrize("company_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_the_demo_page_of_an_unknown_company_is_a_404(client, demo_pages, company_id):
    assert client.get(f"/demo/?company={company_id}").status_code == 404


def test_with_stripe_api_base_the_page_loads_the_emulators_stripe_js(client, demo_pages):
    seed_demo_company(base_url="http://testserver")

    html = client.get("/demo/").content.decode()

    assert 'data-stripe-js="http://127.0.0.1:12111/v3/embedded-checkout.js"' in html
    assert 'data-publishable-key="pk_test_emulator"' in html
    assert "the Stripe emulator" in html


def test_without_stripe_api_base_the_page_loads_stripe_js_with_the_publishable_key(
    client, demo_pages
):
    seed_demo_company(base_url="http://testserver")
    demo_pages.STRIPE_API_BASE = ""
    demo_pages.STRIPE_PUBLISHABLE_KEY = "pk_test_51Demo"

    html = client.get("/demo/").content.decode()

    assert 'data-stripe-js="https://js.stripe.com/v3/"' in html
    assert 'data-publishable-key="pk_test_51Demo"' in html
    assert 'id="no-publishable-key"' not in html


def test_without_a_publishable_key_real_stripe_embedded_mode_is_flagged(client, demo_pages):
    seed_demo_company(base_url="http://testserver")
    demo_pages.STRIPE_API_BASE = ""

    html = client.get("/demo/").content.decode()

    assert 'id="no-publishable-key"' in html


@pytest.mark.parametrize("path", DEMO_PAGES[:3])
def test_the_pages_load_nothing_from_another_host(client, demo_pages, demo_company, path):
    html = client.get(path).content.decode()

    sources = re.findall(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert sources, "the page has its script"
    assert all(source.startswith("/") for source in sources), sources


def test_the_confirmation_page_asks_the_status_endpoint(client, demo_pages):
    html = client.get("/demo/confirmation?session_id=cs_test_1").content.decode()

    assert 'data-status-url="/payment/stripe/v1/checkout/status"' in html
    assert f'data-company-id="{DEMO_COMPANY_ID}"' in html
    assert 'id="payment-status"' in html


def test_the_cancel_page_says_the_checkout_is_still_open(client, demo_pages):
    html = client.get("/demo/cancel").content.decode()

    assert "Payment cancelled" in html
    assert "still open" in html
    assert 'href="/demo/"' in html


def demo_settings_from(**environ) -> dict:
    """DEMO_PAGES_ENABLED and STRIPE_PUBLISHABLE_KEY as bokacheckout.settings reads them."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "STRIPE_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="bokacheckout.settings", DJANGO_SECRET_KEY="x" * 50)
    env.update(environ)
    script = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.DEMO_PAGES_ENABLED, s.STRIPE_PUBLISHABLE_KEY]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_the_demo_pages_are_off_unless_the_environment_turns_them_on():
    assert demo_settings_from() == [False, ""]
    assert demo_settings_from(DJANGO_DEMO_PAGES="1", STRIPE_PUBLISHABLE_KEY="pk_test_1") == [
        True,
        "pk_test_1",
    ]


# --- the demo staff login ----------------------------------------------------------------


def test_seed_demo_without_a_staff_password_creates_no_user():
    summary = seed()

    assert "StaffUsername" not in summary
    assert not get_user_model().objects.exists()


def test_the_seed_demo_staff_user_can_log_in_to_the_admin_but_is_no_superuser(client):
    summary = seed("--staff-password", "correct-horse-battery")

    assert summary["StaffUsername"] == DEMO_STAFF_USERNAME
    user = get_user_model().objects.get(username=DEMO_STAFF_USERNAME)
    assert user.is_staff
    assert user.is_active
    assert not user.is_superuser
    login = client.post(
        "/admin/login/?next=/admin/",
        {"username": DEMO_STAFF_USERNAME, "password": "correct-horse-battery"},
    )
    assert login.status_code == 302
    assert login["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/checkouts/checkout/").status_code == 200
    assert client.get("/admin/articles/article/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/articles/article/add/").status_code == 403


def test_the_demo_staff_user_may_act_on_payments_and_only_view_the_catalogue():
    seed("--staff-password", "correct-horse-battery")

    user = get_user_model().objects.get(username=DEMO_STAFF_USERNAME)
    for model in ("checkout", "payable", "webhookdelivery"):
        assert user.has_perm(f"checkouts.view_{model}")
        assert user.has_perm(f"checkouts.change_{model}")
        assert not user.has_perm(f"checkouts.delete_{model}")
    for model in ("company", "stripecheckoutsettings", "article"):
        assert user.has_perm(f"articles.view_{model}")
        assert not user.has_perm(f"articles.change_{model}")
    assert not user.has_perm("checkouts.view_companyapikey")
    assert not user.has_perm("auth.view_user")


def test_seeding_again_sets_the_new_password_and_keeps_one_user(client):
    seed("--staff-password", "correct-horse-battery")
    seed("--staff-password", "another-long-passphrase")

    assert get_user_model().objects.count() == 1
    assert not client.login(username=DEMO_STAFF_USERNAME, password="correct-horse-battery")
    assert client.login(username=DEMO_STAFF_USERNAME, password="another-long-passphrase")


def test_a_weak_staff_password_is_refused():
    with pytest.raises(CommandError, match="--staff-password"):
        seed("--staff-password", "demo")

    assert not get_user_model().objects.exists()


def test_the_demo_staff_user_is_not_made_a_superuser_even_if_it_was_one():
    get_user_model().objects.create_superuser(DEMO_STAFF_USERNAME, password="x")

    seed("--staff-password", "correct-horse-battery")

    assert not get_user_model().objects.get(username=DEMO_STAFF_USERNAME).is_superuser


def test_the_demo_page_reads_the_catalogue_on_every_request(client, demo_pages, demo_company):
    make_article(demo_company, article_id=99, name="Scalp massage", unit_amount=12000)

    assert "Scalp massage" in client.get("/demo/").content.decode()


def test_a_staff_password_may_start_with_a_dash_when_given_with_equals(client):
    # dev.py passes a random token_urlsafe password, which may start with "-".
    seed("--staff-password=-starts-with-a-dash")

    assert client.login(username=DEMO_STAFF_USERNAME, password="-starts-with-a-dash")
