from uuid import UUID

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from checkouts.expiry import DEFAULT_STRIPE_CALLS_PER_SECOND
from checkouts.management.commands.expire_checkouts import (
    parse_duration,
    positive_float,
    positive_int,
)
from checkouts.reconcile import DEFAULT_CONCURRENCY, ReconcileRun, reconcile_checkouts


class Command(BaseCommand):
    help = (
        "Compare the Checkout Sessions each connected account created in a window with what "
        "this service recorded: record every payment or expiry it missed (lost webhooks), and "
        "end on Stripe every open session it never stored (a create whose answer was lost). "
        "Sessions the company made some other way are left alone. Run it from cron every few "
        "minutes, with --since longer than the interval; safe on several hosts at once. Exits "
        "non-zero if a Stripe call failed or a paid session is unknown here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            type=parse_duration,
            required=True,
            help="How far back to look at sessions' creation (90m, 2h, 1d).",
        )
        parser.add_argument("--company", type=UUID, help="Only this CompanyId's account.")
        parser.add_argument(
            "--concurrency",
            type=positive_int,
            default=DEFAULT_CONCURRENCY,
            help="Accounts listed in parallel.",
        )
        parser.add_argument(
            "--rate",
            type=positive_float,
            default=DEFAULT_STRIPE_CALLS_PER_SECOND,
            help="Stripe calls per second per connected account (Stripe allows 25/s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what it would do, change nothing."
        )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        run = ReconcileRun(
            now=now,
            since=now - options["since"],
            grace=settings.UNRECORDED_SESSION_GRACE,
            company_id=options["company"],
            concurrency=options["concurrency"],
            calls_per_second=options["rate"],
            dry_run=options["dry_run"],
        )
        report = reconcile_checkouts(run)
        self.stdout.write(report.summary() + (" (dry run, nothing changed)" if run.dry_run else ""))
        if report.needs_attention:
            raise CommandError(
                f"{report.needs_attention} session(s) need attention; see the log.", returncode=1
            )
