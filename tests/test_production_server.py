"""The production server: its settings (gunicorn.conf.py) and its database connections.

Its settings fit the Stripe client's time budget: a hanging Stripe ends in the service's
own 503, in ServiceStack's shape, and no session the service already handed out is
touched. Each server process takes PostgreSQL connections from a pool of
DATABASE_POOL_MAX_SIZE, and a create holds none while it waits on Stripe.
"""

import os
import runpy
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection, transaction

from checkouts.models import Checkout, CompanyApiKey, Payable, Refund, RefundStatus
from tests.support.api import (
    CHECKOUT_URL,
    CREATE_REFUND,
    CREATE_SESSION,
    PAYMENTS_URL,
    REFUND_URL,
    RETRIEVE_SESSION,
    STATUS_URL,
    checkout_body,
)
from tests.support.concurrency import GATE_TIMEOUT, backends_waiting_on_a_lock, wait_until
from tests.support.database import database_url
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


def test_by_default_two_threaded_workers_each_accept_on_a_socket_of_their_own(monkeypatch):
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)

    server = load_server_settings(monkeypatch)

    assert (server["workers"], server["threads"]) == (2, 48)
    assert server["reuse_port"] is True
    assert server["control_socket_disable"] is True


def test_workers_and_threads_come_from_the_environment(monkeypatch):
    server = load_server_settings(monkeypatch, WEB_CONCURRENCY="3", GUNICORN_THREADS="16")

    assert (server["workers"], server["threads"]) == (3, 16)


def test_the_server_refuses_stripe_settings_that_outlast_its_workers(monkeypatch):
    with pytest.raises(RuntimeError, match="more than 60% of the worker timeout"):
        load_server_settings(
            monkeypatch, STRIPE_TIMEOUT_SECONDS="20", STRIPE_MAX_NETWORK_RETRIES="2"
        )


def production_environment(stripe_emulator, **overrides: str) -> dict[str, str]:
    """The production settings module on the test database, with ``overrides`` on top."""
    return {
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
        **overrides,
    }


@pytest.fixture
def production_server(stripe_emulator):
    """gunicorn with gunicorn.conf.py and the production settings module, on the test database."""
    with gunicorn_server(production_environment(stripe_emulator)) as url:
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


NEEDS_THE_POOL = "needs PostgreSQL: the pool is psycopg's, configured for PostgreSQL only"
# The server's connections, told apart from the test's own in pg_stat_activity.
SERVER_APPLICATION_NAME = "bokacheckout-pool-test"


def list_payments(url: str, company, api_key: str) -> requests.Response:
    """A request that needs the database and not Stripe."""
    return requests.get(
        url + PAYMENTS_URL,
        params={"CompanyId": str(company.id)},
        headers={"X-Api-Key": api_key},
        timeout=GATE_TIMEOUT,
    )


def server_connections() -> int:
    with connection.cursor() as cursor:
        # Statistics are a snapshot per transaction; the caller may be inside one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [SERVER_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def while_stripe_holds(
    stripe_emulator,
    company,
    api_key,
    *,
    stripe_call: tuple[str, str],
    path: str,
    body: dict,
    headers: dict | None = None,
) -> tuple[requests.Response, requests.Response]:
    """POST ``body`` to ``path`` on a server whose pool has one connection, and while its
    ``stripe_call`` (method, path) waits at the emulator's gate, list the payments (which
    needs the database). Both answers: the listing's, then the POST's.

    A request that kept its connection through Stripe's answer would leave the listing
    none, and the listing would give up after a second with 503."""
    method, stripe_path = stripe_call
    gate = stripe_emulator.inject_fault("pass_through", method=method, path=stripe_path, hold=True)
    with (
        gunicorn_server(
            production_environment(
                stripe_emulator, DATABASE_POOL_MAX_SIZE="1", DATABASE_POOL_TIMEOUT_SECONDS="1"
            )
        ) as url,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        waiting = pool.submit(
            requests.post,
            url + path,
            json=body,
            headers={"X-Api-Key": api_key, **(headers or {})},
            timeout=GATE_TIMEOUT,
        )
        gate.wait_until_held(GATE_TIMEOUT)
        meanwhile = list_payments(url, company, api_key)
        gate.release()
        return meanwhile, waiting.result()


@pytest.mark.postgres(reason=NEEDS_THE_POOL)
@pytest.mark.django_db(transaction=True)
def test_a_create_waiting_on_stripe_leaves_its_pooled_connection_to_other_requests(
    company, api_key, stripe_emulator
):
    meanwhile, created = while_stripe_holds(
        stripe_emulator,
        company,
        api_key,
        stripe_call=("POST", CREATE_SESSION),
        path=CHECKOUT_URL,
        body=checkout_body(company),
    )

    assert meanwhile.status_code == 200, meanwhile.text
    assert created.status_code == 200, created.text
    assert Checkout.objects.get().stripe_session_id == created.json()["SessionId"]


@pytest.mark.postgres(reason=NEEDS_THE_POOL)
@pytest.mark.django_db(transaction=True)
def test_a_replay_waiting_on_stripe_leaves_its_pooled_connection_to_other_requests(
    api, company, api_key, stripe_emulator
):
    body = checkout_body(company)
    first = api.post(CHECKOUT_URL, body, format="json", headers={"Idempotency-Key": "booking-1"})

    meanwhile, replayed = while_stripe_holds(
        stripe_emulator,
        company,
        api_key,
        stripe_call=("GET", RETRIEVE_SESSION),
        path=CHECKOUT_URL,
        body=body,
        headers={"Idempotency-Key": "booking-1"},
    )

    assert meanwhile.status_code == 200, meanwhile.text
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["SessionId"] == first.json()["SessionId"]


@pytest.mark.postgres(reason=NEEDS_THE_POOL)
@pytest.mark.django_db(transaction=True)
def test_a_status_refresh_waiting_on_stripe_leaves_its_pooled_connection_to_other_requests(
    create_checkout, company, api_key, stripe_emulator
):
    session_id = create_checkout().json()["SessionId"]

    meanwhile, status = while_stripe_holds(
        stripe_emulator,
        company,
        api_key,
        stripe_call=("GET", RETRIEVE_SESSION),
        path=STATUS_URL,
        body={"CompanyId": str(company.id), "SessionId": session_id},
    )

    assert meanwhile.status_code == 200, meanwhile.text
    assert status.status_code == 200, status.text
    assert status.json()["Status"] == "open"


@pytest.mark.postgres(reason=NEEDS_THE_POOL)
@pytest.mark.django_db(transaction=True)
def test_a_refund_waiting_on_stripe_leaves_its_pooled_connection_to_other_requests(
    paid_checkout, company, api_key, stripe_emulator
):
    checkout = paid_checkout()

    meanwhile, refunded = while_stripe_holds(
        stripe_emulator,
        company,
        api_key,
        stripe_call=("POST", CREATE_REFUND),
        path=REFUND_URL,
        body={"CompanyId": str(company.id), "SessionId": checkout.stripe_session_id},
    )

    assert meanwhile.status_code == 200, meanwhile.text
    assert refunded.status_code == 200, refunded.text
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED


@pytest.mark.postgres(reason=NEEDS_THE_POOL)
@pytest.mark.django_db(transaction=True)
def test_a_server_process_holds_at_most_its_pool_and_answers_503_when_all_are_busy(
    company, api_key, stripe_emulator
):
    with (
        gunicorn_server(
            production_environment(
                stripe_emulator,
                DATABASE_URL=f"{database_url()}?application_name={SERVER_APPLICATION_NAME}",
                DATABASE_POOL_MAX_SIZE="2",
                DATABASE_POOL_TIMEOUT_SECONDS="1",
            )
        ) as url,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        with transaction.atomic():
            # Every API request reads its key first: each one now waits, on a connection.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {CompanyApiKey._meta.db_table} IN ACCESS EXCLUSIVE MODE"
                )
            waiting = [pool.submit(list_payments, url, company, api_key) for _ in range(2)]
            wait_until(lambda: backends_waiting_on_a_lock() == 2, "two requests on the lock")
            refused = list_payments(url, company, api_key)
            connections_while_busy = server_connections()
        answered = [future.result() for future in waiting]

    assert refused.status_code == 503
    assert refused.json()["ResponseStatus"]["ErrorCode"] == "DatabaseBusy"
    assert "Retry-After" in refused.headers
    assert connections_while_busy == 2
    assert [response.status_code for response in answered] == [200, 200]
