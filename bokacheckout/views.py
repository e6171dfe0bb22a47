"""The landing page at ``/``: where a newcomer goes from the service's address."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Links to the API docs, the demo (when its pages are on) and the admin."""
    return render(request, "bokacheckout/home.html", {"demo_pages": settings.DEMO_PAGES_ENABLED})
