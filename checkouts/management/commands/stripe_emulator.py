"""`manage.py stripe_emulator`: run the Stripe emulator in the foreground until Ctrl-C."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from checkouts.emulator import StripeEmulator


class Command(BaseCommand):
    help = "Run the Stripe API emulator (Checkout Sessions) until interrupted."
    requires_system_checks: list[str] = []  # the emulator needs neither models nor database

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        emulator = StripeEmulator(host=host, port=port)
        self.stdout.write(f"Stripe emulator listening on {emulator.url} (Ctrl-C to stop)")
        self.stdout.flush()
        try:
            emulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            emulator.stop()
