"""Browser tests: Playwright drives the system Chromium through the demo pages, the Stripe
emulator's payment pages, the admin and the API docs, against a live service.

Chromium comes from Debian (`sudo apt-get install chromium chromium-driver`); these tests
never download a browser (never run `playwright install`). Without Chromium they fail.

Each test gets a fresh browser context (`page`). A failed test leaves a screenshot in
`.pytest_screenshots/` (or the `--screenshots` directory); with `--screenshots DIR`,
`step(page, name)` also saves one per step, under `DIR/<test>/`.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect, sync_playwright

from stripe_emulator import StripeEmulator

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
INSTALL_CHROMIUM = "sudo apt-get install chromium chromium-driver"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 15_000
FAILURE_SCREENSHOTS = Path(".pytest_screenshots")

expect.set_options(timeout=TIMEOUT_MS)


# --- screenshots -------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the item, so `page` knows at teardown if the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def file_name(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_")


def screenshot_dir(config: pytest.Config) -> Path | None:
    directory = config.getoption("screenshots", None)
    return Path(directory) if directory else None


@pytest.fixture
def step(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """`step(page, "hosted-confirmation")`: a screenshot of this step, when `--screenshots`."""
    directory = screenshot_dir(request.config)
    numbers = itertools.count(1)

    def take(page: Page, name: str) -> None:
        if directory is None:
            return
        path = (
            directory / file_name(request.node.name) / f"{next(numbers):02d}-{file_name(name)}.png"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)

    return take


# --- the browser --------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """The system Chromium, headless, for every test of this package."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}); the browser tests need it. "
            f"Install it with: {INSTALL_CHROMIUM}",
            pytrace=False,
        )
    # Playwright's sync API runs an event loop in this thread, so Django would refuse the
    # tests' ORM calls (SynchronousOnlyOperation). Django's documented way out, while
    # the browser runs; the loop and the variable end with this package.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield chromium
            finally:
                chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A new tab in a fresh context (no cookies, no sessionStorage); a screenshot if it failed."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            directory = screenshot_dir(request.config) or FAILURE_SCREENSHOTS
            path = directory / f"{file_name(request.node.name)}-failed.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(path), full_page=True)
            print(f"Screenshot of the failure: {path}")
        context.close()


# --- the service, the emulator and the demo data --------------------------------------


@dataclass(frozen=True)
class Demo:
    """The live service with demo pages on, seeded, and the emulator sending it webhooks."""

    url: str
    api_key: str
    company_id: str
    staff_username: str
    staff_password: str
    emulator: StripeEmulator

    def demo_page(self, path: str = "/demo/") -> str:
        """A demo page's address, handing it the API key in the fragment (as dev.py does)."""
        return f"{self.url}{path}#key={self.api_key}"

    @property
    def payment_page(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.emulator.url) + r"/c/pay/cs_\w+")

    @property
    def confirmation_page(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.url) + r"/demo/confirmation\?session_id=cs_\w+")


@pytest.fixture
def demo(live_server, stripe_emulator, settings, transactional_db) -> Demo:
    settings.DEMO_PAGES_ENABLED = True
    stripe_emulator.configure_webhook(
        f"{live_server.url}/payment/stripe/v1/webhook", settings.STRIPE_WEBHOOK_SECRET
    )
    password = secrets.token_urlsafe(12)
    out = io.StringIO()
    call_command(
        "seed_demo",
        "--json",
        "--base-url",
        live_server.url,
        f"--staff-password={password}",  # it may start with "-"
        stdout=out,
    )
    summary = json.loads(out.getvalue())
    return Demo(
        url=live_server.url,
        api_key=summary["ApiKey"],
        company_id=summary["CompanyId"],
        staff_username=summary["StaffUsername"],
        staff_password=password,
        emulator=stripe_emulator,
    )


# --- steps shared by the tests --------------------------------------------------------


def set_quantity(page: Page, article_name: str, quantity: int) -> None:
    page.locator("tr.article", has_text=article_name).locator("input.quantity").fill(str(quantity))


def start_checkout(page: Page, demo: Demo, *, ui_mode: str = "hosted", reference: str = "") -> str:
    """On the demo page: pick the mode (and the reference, if given), create the checkout.

    Returns the InternalReferenceId used. Hosted: returns on the emulator's payment page.
    """
    if not page.url.startswith(f"{demo.url}/demo/"):
        page.goto(demo.demo_page())
    if reference:
        page.locator("#reference").fill(reference)
    reference = page.locator("#reference").input_value()
    page.locator(f"#ui-{ui_mode}").check()
    page.locator("#create-checkout").click()
    if ui_mode == "hosted":
        page.wait_for_url(demo.payment_page)
    return reference


def admin_login(page: Page, demo: Demo) -> None:
    """Log in to the admin through its login form, as the demo staff user."""
    page.goto(f"{demo.url}/admin/login/?next=/admin/")
    page.locator("#id_username").fill(demo.staff_username)
    page.locator("#id_password").fill(demo.staff_password)
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{demo.url}/admin/")
