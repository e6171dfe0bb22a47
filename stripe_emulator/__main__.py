"""``python -m stripe_emulator``: run the emulator in the foreground until Ctrl-C.

With ``--webhook-url``, every event (checkout.session.completed, ...expired, ...)
is POSTed there, signed with ``--webhook-secret`` (generated and printed if not
given), like ``stripe listen --forward-to`` does.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys

from .server import StripeEmulator
from .state_file import StateFileError


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_emulator",
        description="Run the Stripe API emulator (Checkout Sessions) until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port.")
    parser.add_argument(
        "--webhook-url", help="POST every event to this URL (one endpoint, all accounts)."
    )
    parser.add_argument(
        "--webhook-secret",
        help="whsec_... to sign webhook events with (default: a new one, printed).",
    )
    parser.add_argument(
        "--state-file",
        help="Keep sessions, payments, events and webhook endpoints in this JSON file, and "
        "start from what it holds, so a restart forgets nothing (created if missing).",
    )
    arguments = parser.parse_args(argv)
    if arguments.webhook_secret and not arguments.webhook_url:
        parser.error("--webhook-secret needs --webhook-url")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        emulator = StripeEmulator(
            host=arguments.host, port=arguments.port, state_file=arguments.state_file
        )
    except StateFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Stripe emulator listening on {emulator.url} (Ctrl-C to stop)", flush=True)
    if arguments.state_file:
        print(f"Keeping its state in {arguments.state_file}", flush=True)
    if arguments.webhook_url:
        secret = arguments.webhook_secret or "whsec_" + secrets.token_hex(24)
        try:
            emulator.configure_webhook(arguments.webhook_url, secret)
        except ValueError as error:
            emulator.stop()
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"Sending webhook events to {arguments.webhook_url} signed with {secret}", flush=True)
    # A plain `kill` stops it as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
