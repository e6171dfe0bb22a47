"""A booking widget on another site (a second local port) creates a checkout with ``fetch``
in Chromium: the browser's CORS preflight passes without an API key, and the answer is
readable. A site not in CORS_ALLOWED_ORIGINS is blocked by the browser."""

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest
from playwright.sync_api import Page, expect

from checkouts.models import Checkout
from tests.support.api import CHECKOUT_URL, checkout_body

pytestmark = pytest.mark.django_db(transaction=True)

WIDGET_SCRIPT = """
const answer = document.getElementById("answer");
fetch(API_URL, {
  method: "POST",
  headers: {"Content-Type": "application/json", "X-Api-Key": API_KEY,
            "Idempotency-Key": "widget-booking-1"},
  body: JSON.stringify(BODY),
})
  .then(async (response) => {
    const body = await response.json();
    answer.dataset.status = String(response.status);
    answer.textContent = body.SessionId;
  })
  .catch((error) => { answer.dataset.status = "blocked"; answer.textContent = String(error); });
"""


class WidgetSite:
    """A second local web server, serving one booking-widget page on its own origin."""

    def __init__(self) -> None:
        self.page_html = b""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(site.page_html)))
                self.end_headers()
                self.wfile.write(site.page_html)

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve_widget(self, *, api_url: str, api_key: str, body: dict) -> str:
        """The widget page, calling the API at ``api_url``; returns its address."""
        constants = (
            f"const API_URL = {json.dumps(api_url)}; const API_KEY = {json.dumps(api_key)}; "
            f"const BODY = {json.dumps(body)};"
        )
        self.page_html = (
            "<!doctype html><title>Salong widget</title><p id='answer'>waiting</p>"
            f"<script>{constants}{WIDGET_SCRIPT}</script>"
        ).encode()
        return f"{self.origin}/widget"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def widget_site() -> Iterator[WidgetSite]:
    site = WidgetSite()
    yield site
    site.stop()


def test_a_widget_on_an_allowed_site_creates_a_checkout_from_the_browser(
    page: Page, live_server, widget_site, company, api_key, stripe_emulator, settings, step
):
    settings.CORS_ALLOWED_ORIGINS = [widget_site.origin]
    address = widget_site.serve_widget(
        api_url=f"{live_server.url}{CHECKOUT_URL}", api_key=api_key, body=checkout_body(company)
    )

    page.goto(address)

    answer = page.locator("#answer")
    expect(answer).to_have_attribute("data-status", "200")
    expect(answer).to_have_text(re.compile(r"^cs_test_\w+$"))
    step(page, "widget-created-checkout")
    assert Checkout.objects.get().stripe_session_id == answer.text_content()


def test_a_widget_on_another_site_is_blocked_by_the_browser(
    page: Page, live_server, widget_site, company, api_key, stripe_emulator, settings
):
    settings.CORS_ALLOWED_ORIGINS = ["https://booking.salong.example"]
    address = widget_site.serve_widget(
        api_url=f"{live_server.url}{CHECKOUT_URL}", api_key=api_key, body=checkout_body(company)
    )

    page.goto(address)

    expect(page.locator("#answer")).to_have_attribute("data-status", "blocked")
    assert not Checkout.objects.exists()
