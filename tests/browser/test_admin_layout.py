"""The admin fits a laptop: at 1280 px the lists show their key columns, no sideways scroll."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo, admin_login, start_checkout

LAPTOP = {"width": 1280, "height": 800}
# A BokaMera booking reference is a GUID: the longest reference a list usually shows.
GUID_REFERENCE = "7d9f2c8e-4b1a-4e6f-9c3d-2a5b8e1f0c47"

# Each list and the column headers staff need from it.
KEY_COLUMNS = {
    "checkout": ["Session", "Reference", "Status", "Payment status", "Amount", "Created"],
    "payable": ["Reference", "Current session", "Current status", "Paid", "Created"],
    "webhookdelivery": ["Event", "Type", "Account", "Outcome", "Received"],
}


@pytest.fixture
def paid_and_superseded(page: Page, demo: Demo) -> None:
    """A booking with a superseded session and a paid one, and the webhooks they caused."""
    start_checkout(page, demo, reference=GUID_REFERENCE)
    start_checkout(page, demo, reference=GUID_REFERENCE)
    page.locator("#email").fill("kund@example.com")
    page.locator("#pay").click()
    page.wait_for_url(demo.confirmation_page)
    assert {d.status for d in demo.emulator.drain_webhooks()} == {200}


@pytest.mark.parametrize("model", KEY_COLUMNS)
def test_each_list_shows_its_key_columns_without_scrolling_sideways(
    page: Page, demo: Demo, paid_and_superseded, model: str, step
):
    page.set_viewport_size(LAPTOP)
    admin_login(page, demo)

    page.goto(f"{demo.url}/admin/checkouts/{model}/")
    headers = page.locator("#result_list thead th").all_inner_texts()
    for column in KEY_COLUMNS[model]:
        assert column.upper() in [header.strip().upper() for header in headers]
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    # The admin scrolls a wide table inside its own box (.results), not the page.
    overflow = page.evaluate(
        """() => {
            const page = document.documentElement, results = document.querySelector('.results');
            return {
                page: page.scrollWidth - page.clientWidth,
                table: results.scrollWidth - results.clientWidth,
            };
        }"""
    )
    step(page, f"{model}-at-1280")
    assert overflow["page"] <= 0, f"the page scrolls {overflow['page']} px sideways"
    assert overflow["table"] <= 0, f"the table scrolls {overflow['table']} px sideways"


def test_a_shortened_session_id_leads_to_the_full_one(page: Page, demo: Demo, paid_and_superseded):
    page.set_viewport_size(LAPTOP)
    admin_login(page, demo)

    page.goto(f"{demo.url}/admin/checkouts/checkout/")
    short = page.locator("#result_list tbody tr th.field-session a").first
    full_id = short.locator("[title]").get_attribute("title")
    assert full_id.startswith("cs_")
    assert short.inner_text().rstrip("…") != full_id
    assert full_id.startswith(short.inner_text().rstrip("…"))
    short.click()
    expect(page.locator(".field-stripe_session_id .readonly")).to_have_text(full_id)


def test_the_header_says_bokacheckout(page: Page, demo: Demo):
    admin_login(page, demo)

    expect(page.locator("#site-name")).to_have_text("bokacheckout")
    assert page.title().endswith("bokacheckout")
