from django.core.management.base import BaseCommand, CommandError, CommandParser

from checkouts.exceptions import StripeGatewayError
from checkouts.webhook_endpoints import create_webhook_endpoint


class Command(BaseCommand):
    help = (
        "Create a Connect webhook endpoint on Stripe that sends URL the Checkout Session events "
        "this service handles, from every connected account, and print its signing secret "
        "(shown this once) to set as STRIPE_WEBHOOK_SECRET. Run it once per deployment; each "
        "run creates another endpoint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "url",
            help="The service's webhook URL, such as "
            "https://pay.example.com/payment/stripe/v1/webhook.",
        )

    def handle(self, *args, url: str, **options) -> None:
        try:
            endpoint = create_webhook_endpoint(url=url)
        except StripeGatewayError as error:
            raise CommandError(f"Stripe did not create the endpoint: {error}") from error
        self.stdout.write(f"Created Connect webhook endpoint {endpoint.id} for {endpoint.url}")
        self.stdout.write(f"Events: {', '.join(endpoint.enabled_events)}")
        self.stdout.write(f"Signing secret (Stripe shows it only this once): {endpoint.secret}")
        self.stdout.write(
            "Set STRIPE_WEBHOOK_SECRET to it in the service's environment and restart the service."
        )
