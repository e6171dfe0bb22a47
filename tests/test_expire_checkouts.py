"""manage.py expire_checkouts: ending on Stripe what should no longer be payable."""

import io
import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from checkouts.expiry import ExpiryRun, expire_due_checkouts
from checkouts.management.commands.expire_checkouts import parse_duration
from checkouts.models import Checkout, CheckoutStatus, PaymentStatus, StripeExpiry
from tests.support.api import EXPIRE_SESSION
from tests.support.database import database_url
from tests.support.servers import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def run_command(*args) -> str:
    out = io.StringIO()
    call_command("expire_checkouts", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def superseded_pending(create_checkout, stripe_emulator, settings):
    """Make ``count`` checkouts whose expiry on Stripe failed when they were superseded."""
    settings.STRIPE_MAX_NETWORK_RETRIES = 0

    def make(count: int, reference: str = "booking-1") -> list[Checkout]:
        stripe_emulator.inject_fault(
            "error", method="POST", path=EXPIRE_SESSION, status=503, times=None
        )
        for _ in range(count + 1):
            assert create_checkout(InternalReferenceId=reference).status_code == 200
        stripe_emulator.clear_faults()
        pending = list(
            Checkout.objects.filter(
                stripe_expiry=StripeExpiry.PENDING, payable__internal_reference_id=reference
            )
        )
        assert len(pending) == count
        return pending

    return make


def expire_calls(emulator) -> Counter:
    """Successful expiries on the emulator, by session id."""
    return Counter(
        request.path.split("/")[4]
        for request in emulator.requests_to("POST", EXPIRE_SESSION)
        if request.status == 200
    )


def test_superseded_sessions_whose_expiry_failed_are_expired(superseded_pending, stripe_emulator):
    pending = superseded_pending(2)

    output = run_command()

    for checkout in pending:
        checkout.refresh_from_db()
        assert stripe_emulator.session(checkout.stripe_session_id)["status"] == "expired"
        assert checkout.stripe_expiry == StripeExpiry.EXPIRED
        assert checkout.status == CheckoutStatus.EXPIRED
        assert checkout.stripe_expiry_error == ""
    assert output.strip() == "expired 2, already complete 0, already expired 0, failed 0"


def test_failures_are_counted_kept_pending_and_exit_non_zero(superseded_pending, stripe_emulator):
    (checkout,) = superseded_pending(1)
    stripe_emulator.inject_fault(
        "error", method="POST", path=EXPIRE_SESSION, status=500, times=None
    )

    with pytest.raises(CommandError) as failure:
        run_command()

    assert failure.value.returncode == 1
    checkout.refresh_from_db()
    assert checkout.stripe_expiry == StripeExpiry.PENDING
    assert checkout.stripe_expiry_error
    assert checkout.expiry_lease_until is None


def test_a_later_run_finishes_what_failed(superseded_pending, stripe_emulator):
    (checkout,) = superseded_pending(1)
    stripe_emulator.inject_fault(
        "error", method="POST", path=EXPIRE_SESSION, status=500, times=None
    )
    with pytest.raises(CommandError):
        run_command()
    stripe_emulator.clear_faults()

    run_command()

    checkout.refresh_from_db()
    assert checkout.stripe_expiry == StripeExpiry.EXPIRED
    assert stripe_emulator.session(checkout.stripe_session_id)["status"] == "expired"


def test_a_passing_rate_limit_is_backed_off_and_retried(superseded_pending, stripe_emulator):
    (checkout,) = superseded_pending(1)
    stripe_emulator.inject_fault("error", method="POST", path=EXPIRE_SESSION, status=429, times=2)

    output = run_command()

    assert output.strip().startswith("expired 1,")
    assert stripe_emulator.session(checkout.stripe_session_id)["status"] == "expired"


def test_a_persistent_rate_limit_is_a_failure(superseded_pending, stripe_emulator):
    superseded_pending(1)
    stripe_emulator.inject_fault(
        "error", method="POST", path=EXPIRE_SESSION, status=429, times=None
    )

    with pytest.raises(CommandError):
        run_command()


def test_a_session_stripe_reports_complete_is_recorded_as_paid_never_expired(
    superseded_pending, stripe_emulator
):
    (checkout,) = superseded_pending(1)
    stripe_emulator.complete_session(checkout.stripe_session_id)

    output = run_command()

    checkout.refresh_from_db()
    assert "already complete 1" in output
    assert stripe_emulator.session(checkout.stripe_session_id)["status"] == "complete"
    assert (checkout.status, checkout.payment_status) == (
        CheckoutStatus.COMPLETE,
        PaymentStatus.PAID,
    )
    assert checkout.stripe_expiry == StripeExpiry.ALREADY_COMPLETE
    assert checkout.paid_while_superseded


def test_open_sessions_past_expires_at_are_synced(create_checkout, stripe_emulator):
    session_id = create_checkout().json()["SessionId"]
    checkout = Checkout.objects.get()
    # Its time has run out, here and on Stripe, which expired it by itself.
    stripe_emulator.set_time(checkout.expires_at.timestamp() + 1)
    Checkout.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    output = run_command()

    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.EXPIRED
    assert stripe_emulator.session(session_id)["status"] == "expired"
    assert "already expired 1" in output


def test_older_than_expires_open_sessions_older_than_that(create_checkout, stripe_emulator):
    old_id = create_checkout(InternalReferenceId="old").json()["SessionId"]
    young_id = create_checkout(InternalReferenceId="young").json()["SessionId"]
    Checkout.objects.filter(stripe_session_id=old_id).update(
        created_at=timezone.now() - timedelta(minutes=91)
    )

    run_command("--older-than", "90m")

    assert stripe_emulator.session(old_id)["status"] == "expired"
    assert stripe_emulator.session(young_id)["status"] == "open"
    assert Checkout.objects.get(stripe_session_id=old_id).status == CheckoutStatus.EXPIRED


def test_without_older_than_open_current_sessions_are_left_alone(create_checkout, stripe_emulator):
    create_checkout()
    Checkout.objects.update(created_at=timezone.now() - timedelta(days=1))

    output = run_command()

    assert output.strip() == "expired 0, already complete 0, already expired 0, failed 0"
    assert stripe_emulator.requests_to("POST", EXPIRE_SESSION) == []


def test_dry_run_lists_and_changes_nothing(superseded_pending, stripe_emulator):
    pending = superseded_pending(2)

    output = run_command("--dry-run")

    for checkout in pending:
        assert f"would expire {checkout.stripe_session_id}" in output
        assert "(superseded)" in output
    assert expire_calls(stripe_emulator) == Counter()
    assert Checkout.objects.filter(stripe_expiry=StripeExpiry.PENDING).count() == 2


def test_reference_and_company_narrow_the_run(superseded_pending, stripe_emulator, company):
    (mine,) = superseded_pending(1, reference="mine")
    (theirs,) = superseded_pending(1, reference="theirs")

    run_command("--reference", "mine", "--company", str(company.id))

    assert stripe_emulator.session(mine.stripe_session_id)["status"] == "expired"
    assert stripe_emulator.session(theirs.stripe_session_id)["status"] == "open"


def test_another_company_is_not_touched(superseded_pending, stripe_emulator):
    superseded_pending(1)

    run_command("--company", "00000000-0000-0000-0000-000000000000")

    assert expire_calls(stripe_emulator) == Counter()


def test_limit_caps_how_many_are_handled(superseded_pending, stripe_emulator):
    superseded_pending(3)

    run_command("--limit", "2")

    assert sum(expire_calls(stripe_emulator).values()) == 2
    assert Checkout.objects.filter(stripe_expiry=StripeExpiry.PENDING).count() == 1


def test_a_second_run_has_nothing_to_do(superseded_pending, stripe_emulator):
    superseded_pending(2)
    run_command()
    calls_after_first_run = len(stripe_emulator.requests)

    output = run_command()

    assert output.strip() == "expired 0, already complete 0, already expired 0, failed 0"
    assert len(stripe_emulator.requests) == calls_after_first_run


def test_work_is_claimed_in_batches(superseded_pending, stripe_emulator):
    superseded_pending(5)

    with CaptureQueriesContext(connection) as queries:
        run_command("--batch-size", "2", "--concurrency", "2")

    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    # A claim writes the lease and nothing else; recording an outcome writes more.
    claims = [sql for sql in updates if "expiry_lease_until" in sql and "stripe_expiry" not in sql]
    assert len(claims) == 3
    assert sum(expire_calls(stripe_emulator).values()) == 5


def test_a_run_leaves_alone_what_another_run_is_expiring(superseded_pending, stripe_emulator):
    pending = superseded_pending(3)
    calls_before = len(stripe_emulator.requests_to("POST", EXPIRE_SESSION))
    run = ExpiryRun(now=timezone.now(), batch_size=3, concurrency=3, calls_per_second=1000)
    # The first run's three calls wait inside Stripe while a second run starts.
    gate = stripe_emulator.inject_fault(
        "pass_through", method="POST", path=EXPIRE_SESSION, hold=True, times=3
    )

    def first_run():
        try:
            return expire_due_checkouts(run)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(first_run)
        gate.wait_until_held(timeout=10, count=3)
        second = expire_due_checkouts(run)
        gate.release()
        first = running.result()

    calls = stripe_emulator.requests_to("POST", EXPIRE_SESSION)[calls_before:]
    every_call = Counter(request.path.split("/")[4] for request in calls)
    assert every_call == Counter({checkout.stripe_session_id: 1 for checkout in pending})
    assert (first.total, second.total) == (3, 0)
    assert not Checkout.objects.filter(stripe_expiry=StripeExpiry.PENDING).exists()


def test_the_summary_is_one_plain_line_when_not_on_a_terminal(superseded_pending, stripe_emulator):
    superseded_pending(1)

    output = run_command()

    assert output.splitlines() == ["expired 1, already complete 0, already expired 0, failed 0"]


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("90m", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_durations_read_as_operators_write_them(text, duration):
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["", "90", "m", "1.5h", "0m", "-5m"])
def test_nonsense_durations_are_refused(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_every_option_says_what_it_does():
    command = load_command_class("checkouts", "expire_checkouts")
    parser = command.create_parser("manage.py", "expire_checkouts")

    assert [action.dest for action in parser._actions if not action.help] == []


@pytest.mark.parametrize(
    ("option", "value", "explanation"),
    [
        ("--older-than", "soon", "'soon' is not a duration: write whole numbers with the units"),
        ("--older-than", "1.5h", "such as 90m, 2h, 1h30m or 1d"),
        ("--older-than", "0m", "the duration must be longer than zero"),
        ("--limit", "ten", "'ten' is not a whole number of 1 or more"),
        ("--rate", "0", "'0' is not a number above 0"),
        ("--company", "acme", "'acme' is not a CompanyId"),
    ],
)
def test_a_bad_option_value_is_explained_in_words(option, value, explanation):
    with pytest.raises(CommandError, match=f"argument {option}: .*{explanation}"):
        call_command("expire_checkouts", option, value)


def test_on_a_terminal_progress_is_shown(superseded_pending, stripe_emulator, capsys):
    superseded_pending(2)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    call_command("expire_checkouts", stdout=Terminal())

    assert "2/2" in capsys.readouterr().err


NEEDS_THE_POOL = "needs PostgreSQL: the pool is psycopg's, configured for PostgreSQL only"


@pytest.mark.postgres(reason=NEEDS_THE_POOL)
def test_in_its_own_process_a_pool_smaller_than_its_threads_serves_them_all(
    superseded_pending, stripe_emulator
):
    superseded_pending(8)
    # Its dispatcher and 4 recording threads share 2 pooled connections, as a deployment's
    # 3 by default: a thread that kept one between its transactions would leave another
    # waiting until the pool gave up on it, after a second.
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bokacheckout.settings",
        "DJANGO_SECRET_KEY": "expire-checkouts-test",
        "DATABASE_URL": database_url(),
        "DATABASE_POOL_MAX_SIZE": "2",
        "DATABASE_POOL_TIMEOUT_SECONDS": "1",
        "STRIPE_API_BASE": stripe_emulator.url,
        "STRIPE_SECRET_KEY": "sk_test_emulator",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "expire_checkouts"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "expired 8, already complete 0, already expired 0, failed 0"
