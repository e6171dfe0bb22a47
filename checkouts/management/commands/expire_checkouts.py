import re
from argparse import ArgumentTypeError
from datetime import timedelta
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from checkouts.expiry import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    DEFAULT_STRIPE_CALLS_PER_SECOND,
    ExpiryRun,
    checkouts_due,
    expire_due_checkouts,
    why_due,
)

DURATION = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")
DURATION_FORM = (
    "whole numbers with the units d, h, m or s, largest first, such as 90m, 2h, 1h30m or 1d"
)


def parse_duration(text: str) -> timedelta:
    """``90m``, ``2h``, ``1h30m``, ``1d``, ``45s``."""
    match = DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a duration: write {DURATION_FORM}")
    parts = {unit: int(value or 0) for unit, value in match.groupdict().items()}
    duration = timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])
    if not duration:
        raise ValueError(f"{text!r} is no time at all: the duration must be longer than zero")
    return duration


# Option types: argparse shows an ArgumentTypeError's own words, and only a generic
# "invalid <function> value" for anything else.


def duration_option(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise ArgumentTypeError(str(error)) from error


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ArgumentTypeError(f"{text!r} is not a number above 0, such as 20 or 2.5")
    return value


def company_id_option(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError as error:
        raise ArgumentTypeError(f"{text!r} is not a CompanyId (a UUID)") from error


class Command(BaseCommand):
    help = (
        "End on Stripe every checkout that should no longer be payable: superseded sessions "
        "whose expiry is still pending (retrying failures), open sessions past their "
        "expires_at, and with --older-than, open sessions older than that. A session Stripe "
        "reports as complete is recorded as paid. Connected accounts are served in turn, each "
        "at --rate. Idempotent, and safe to run from cron on several hosts at once. Exits "
        "non-zero if any Stripe call failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what is due and why; change nothing."
        )
        parser.add_argument(
            "--company", type=company_id_option, metavar="UUID", help="Only this CompanyId."
        )
        parser.add_argument(
            "--reference", metavar="ID", help="Only this payable's InternalReferenceId."
        )
        parser.add_argument(
            "--older-than",
            type=duration_option,
            metavar="DURATION",
            help="Also expire open sessions created longer ago than this: "
            f"{DURATION_FORM}. This releases the bookings they hold.",
        )
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=DEFAULT_BATCH_SIZE,
            metavar="N",
            help="Most checkouts claimed (and held in memory) at once, over all accounts "
            "(default %(default)s).",
        )
        parser.add_argument(
            "--concurrency",
            type=positive_int,
            default=DEFAULT_CONCURRENCY,
            metavar="N",
            help="Most Stripe calls in flight at once (default %(default)s); --rate paces them.",
        )
        parser.add_argument(
            "--rate",
            type=positive_float,
            default=DEFAULT_STRIPE_CALLS_PER_SECOND,
            metavar="PER_SECOND",
            help="Stripe calls per second per connected account, shared by every run on every "
            "host with REDIS_URL (default %(default)s; Stripe allows 25/s per endpoint).",
        )
        parser.add_argument(
            "--limit",
            type=positive_int,
            metavar="N",
            help="Handle at most this many checkouts in this run.",
        )

    def handle(self, *args, **options) -> None:
        run = ExpiryRun(
            now=timezone.now(),
            older_than=options["older_than"],
            company_id=options["company"],
            reference=options["reference"],
            batch_size=options["batch_size"],
            concurrency=options["concurrency"],
            calls_per_second=options["rate"],
            limit=options["limit"],
        )
        if options["dry_run"]:
            self._list_due(run)
            return

        due = checkouts_due(run).count()
        total = min(due, run.limit) if run.limit else due
        with tqdm(total=total, unit="session", disable=not self.stdout.isatty()) as progress:
            report = expire_due_checkouts(run, on_result=lambda *_: progress.update())
        self.stdout.write(report.summary())
        if report.failed:
            raise CommandError(f"{report.failed} Stripe call(s) failed.", returncode=1)

    def _list_due(self, run: ExpiryRun) -> None:
        count = 0
        for checkout in checkouts_due(run)[: run.limit].iterator(chunk_size=run.batch_size):
            count += 1
            self.stdout.write(
                f"would expire {checkout.stripe_session_id} on {checkout.connected_account_id} "
                f"({why_due(checkout, run)})"
            )
        self.stdout.write(f"{count} checkout(s) due; nothing changed (dry run).")
