import json

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from articles.demo import DEMO_STAFF_USERNAME, seed_demo_company, seed_demo_staff_user
from checkouts.models import CompanyApiKey

DEMO_KEY_NAME = "seed_demo"


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo company with enabled Stripe Checkout settings and "
        "articles of several types, and print its id, a fresh API key and its articles. "
        "With --staff-password, also the admin login 'demo' (staff, not a superuser). "
        "Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the service runs; the demo confirmation and cancel URLs point there.",
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )
        parser.add_argument(
            "--staff-password",
            help=(
                f"Create or update the staff user {DEMO_STAFF_USERNAME!r} with this password; it "
                "may view and act on checkouts, payables and webhook deliveries, and view the "
                "catalogue."
            ),
        )

    def handle(
        self, *args, base_url: str, as_json: bool, staff_password: str | None, **options
    ) -> None:
        if staff_password is not None:
            try:
                validate_password(staff_password)
            except ValidationError as error:
                raise CommandError("--staff-password: " + " ".join(error.messages)) from error
        company = seed_demo_company(base_url=base_url.rstrip("/"))
        staff = None if staff_password is None else seed_demo_staff_user(password=staff_password)
        _, api_key = CompanyApiKey.objects.create_key(company=company, name=DEMO_KEY_NAME)
        summary = {
            "CompanyId": str(company.id),
            "ApiKey": api_key,
            "Currency": company.currency,
            "Articles": [
                {
                    "ArticleTypeId": article.article_type,
                    "ArticleId": article.article_id,
                    "Name": article.name,
                    "UnitAmount": article.unit_amount,
                }
                for article in company.articles.filter(active=True)
            ],
        }
        if staff is not None:
            summary["StaffUsername"] = staff.get_username()
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(f"Demo company {company.name}: CompanyId {summary['CompanyId']}")
        self.stdout.write(f"API key (shown once): {api_key}")
        if staff is not None:
            self.stdout.write(f"Admin login: {summary['StaffUsername']} (staff, not a superuser)")
        for article in summary["Articles"]:
            self.stdout.write(
                f"  ArticleTypeId {article['ArticleTypeId']} ArticleId {article['ArticleId']}: "
                f"{article['Name']}"
            )
