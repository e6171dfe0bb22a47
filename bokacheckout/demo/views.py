"""The demo pages. Thin: the page is HTML, and its script calls the real API from the browser.

The API key never reaches these views: ``dev.py`` hands it to the page in the
URL's fragment (``/demo/#key=...``), which browsers do not send, and the script
keeps it in the tab's ``sessionStorage``.
"""

import functools
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from articles.demo import DEMO_COMPANY_ID
from articles.models import Company
from articles.money import ISO_EXPONENTS, currency_exponent, format_money
from bokacheckout.demo import selectors


def demo_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve the view only when ``DEMO_PAGES_ENABLED`` is on; a 404 otherwise."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.DEMO_PAGES_ENABLED:
            raise Http404("The demo pages are not enabled.")
        return view(request, *args, **kwargs)

    return wrapper


def company_id_of(request: HttpRequest) -> uuid.UUID:
    """``?company=<uuid>``, or the demo company's id."""
    value = request.GET.get("company")
    if not value:
        return DEMO_COMPANY_ID
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404("company must be a UUID.") from None


def page_context(request: HttpRequest, company_id: uuid.UUID) -> dict:
    """What every page's script needs: the API's URLs and the company to ask about."""
    return {
        "company_id": company_id,
        "checkout_url": reverse("checkout-create"),
        "status_url": reverse("checkout-status"),
        "currency_exponents": ISO_EXPONENTS,
    }


@demo_page
def checkout_page(request: HttpRequest) -> HttpResponse:
    """``/demo/``: the company's articles, to check out as hosted or embedded."""
    company_id = company_id_of(request)
    try:
        company, articles = selectors.catalogue(company_id)
    except Company.DoesNotExist:
        raise Http404(f"No company {company_id}.") from None
    context = {
        **page_context(request, company_id),
        "company": company,
        "exponent": currency_exponent(company.currency),
        "articles": [
            {"article": article, "price": format_money(article.unit_amount, company.currency)}
            for article in articles
        ],
        "stripe_js": selectors.stripe_js(),
    }
    return render(request, "demo/checkout.html", context)


@demo_page
def confirmation_page(request: HttpRequest) -> HttpResponse:
    """``/demo/confirmation?session_id=...``: the checkout's status, asked of the API."""
    return render(request, "demo/confirmation.html", page_context(request, company_id_of(request)))


@demo_page
def cancel_page(request: HttpRequest) -> HttpResponse:
    """``/demo/cancel``: the customer went back from the payment page."""
    return render(request, "demo/cancel.html", page_context(request, company_id_of(request)))
