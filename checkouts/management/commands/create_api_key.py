from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from articles.models import Company
from checkouts.models import CompanyApiKey


class Command(BaseCommand):
    help = (
        "Create an X-Api-Key for a company and print it. The key is shown only "
        "this once; only its hash is stored."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("company_id", help="The company's CompanyId (UUID).")
        parser.add_argument("--name", default="api", help="A label for the key (max 50 chars).")

    def handle(self, *args, company_id: str, name: str, **options) -> None:
        try:
            company = Company.objects.get(pk=company_id)
        except (Company.DoesNotExist, ValidationError):
            raise CommandError(f"No company with id {company_id!r}.") from None
        _, key = CompanyApiKey.objects.create_key(company=company, name=name[:50])
        self.stdout.write(key)
