"""The production server's settings (gunicorn.conf.py) fit the Stripe client's time budget.

A hanging Stripe ends in the service's own 503, in ServiceStack's shape, and no
session the service already handed out is touched.
"""

import os
import runpy

import pytest
import requests
from django.db import connection

from checkouts.models import Checkout, Payable
from tests.support.api import CHECKOUT_URL, CREATE_SESSION, checkout_body
from tests.support.servers import GUNICORN_CONF, gunicorn_server


def load_server_settings(monkeypatch, **environment) -> dict:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_the_default_stripe_budget_fits_well_inside_the_worker_timeout(monkeypatch):
    for name in ("STRIPE_TIMEOUT_SECONDS", "STRIPE_MAX_NETWORK_RETRIES", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)

    server = load_server_settings(monkeypatch)

    assert server["worker_class"] == "gthread"
    assert server["stripe_budget"] == 8 * 2 + 0.5
    assert server["stripe_budget"] <= 0.6 * server["timeout"]


def test_the_server_refuses_stripe_settings_that_outlast_its_workers(monkeypatch):
    with pytest.raises(RuntimeError, match="more than 60% of the worker timeout"):
        load_server_settings(
            monkeypatch, STRIPE_TIMEOUT_SECONDS="20", STRIPE_MAX_NETWORK_RETRIES="2"
        )


def database_url() -> str:
    """The test database, for a server in another process."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


@pytest.fixture
def production_server(stripe_emulator):
    """gunicorn with gunicorn.conf.py and the production settings module, on the test database."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bokacheckout.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": "production-server-test",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "STRIPE_API_BASE": stripe_emulator.url,
        "STRIPE_SECRET_KEY": "sk_test_emulator",
        # Short tries keep the test quick; the server checks that they fit its timeout.
        "STRIPE_TIMEOUT_SECONDS": "1",
        "STRIPE_MAX_NETWORK_RETRIES": "1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
    }
    with gunicorn_server(environment) as url:
        yield url


@pytest.mark.django_db(transaction=True)
def test_a_hanging_stripe_gets_a_servicestack_503_and_the_current_session_stays_open(
    production_server, company, api_key, stripe_emulator
):
    headers = {"X-Api-Key": api_key}
    body = checkout_body(company)
    first = requests.post(production_server + CHECKOUT_URL, json=body, headers=headers, timeout=10)
    assert first.status_code == 200
    stripe_emulator.inject_fault(
        "timeout", method="POST", path=CREATE_SESSION, seconds=60, times=None
    )

    hung = requests.post(production_server + CHECKOUT_URL, json=body, headers=headers, timeout=10)

    assert hung.status_code == 503
    assert hung.headers["Content-Type"] == "application/json"
    assert hung.json()["ResponseStatus"]["ErrorCode"] == "StripeUnavailable"
    assert int(hung.headers["Retry-After"]) > 0
    current = Payable.objects.get().current_checkout
    assert current.stripe_session_id == first.json()["SessionId"]
    assert stripe_emulator.session(current.stripe_session_id)["status"] == "open"
    assert Checkout.objects.count() == 1
