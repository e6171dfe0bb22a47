import json

from django.core.management.base import BaseCommand

from articles.demo import seed_demo_company
from checkouts.models import CompanyApiKey

DEMO_KEY_NAME = "seed_demo"


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo company with enabled Stripe Checkout settings and "
        "articles of several types, and print its id, a fresh API key and its articles. "
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

    def handle(self, *args, base_url: str, as_json: bool, **options) -> None:
        company = seed_demo_company(base_url=base_url.rstrip("/"))
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
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(f"Demo company {company.name}: CompanyId {summary['CompanyId']}")
        self.stdout.write(f"API key (shown once): {api_key}")
        for article in summary["Articles"]:
            self.stdout.write(
                f"  ArticleTypeId {article['ArticleTypeId']} ArticleId {article['ArticleId']}: "
                f"{article['Name']}"
            )
