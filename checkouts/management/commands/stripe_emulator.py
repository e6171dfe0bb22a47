"""`manage.py stripe_emulator`: run the Stripe emulator in the foreground until Ctrl-C.

With `--webhook-url`, every event (checkout.session.completed, ...expired, ...)
is POSTed there, signed with `--webhook-secret` (generated and printed if not
given), like `stripe listen --forward-to` does.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from checkouts.emulator import StripeEmulator


class Command(BaseCommand):
    help = "Run the Stripe API emulator (Checkout Sessions) until interrupted."
    requires_system_checks: list[str] = []  # the emulator needs neither models nor database

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
        parser.add_argument(
            "--webhook-url", help="POST every event to this URL (one endpoint, all accounts)"
        )
        parser.add_argument(
            "--webhook-secret",
            help="whsec_... to sign webhook events with (default: a new one, printed)",
        )

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        webhook_url: str | None,
        webhook_secret: str | None,
        **options: Any,
    ) -> None:
        if webhook_secret and not webhook_url:
            raise CommandError("--webhook-secret needs --webhook-url")
        emulator = StripeEmulator(host=host, port=port)
        self.stdout.write(f"Stripe emulator listening on {emulator.url} (Ctrl-C to stop)")
        if webhook_url:
            secret = webhook_secret or "whsec_" + secrets.token_hex(24)
            try:
                emulator.configure_webhook(webhook_url, secret)
            except ValueError as error:
                emulator.stop()
                raise CommandError(str(error)) from error
            self.stdout.write(f"Sending webhook events to {webhook_url} signed with {secret}")
        self.stdout.flush()
        try:
            emulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            emulator.stop()
