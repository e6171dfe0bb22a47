"""Staff find a checkout in the admin and act on it; the API docs render."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo, admin_login, start_checkout


def test_demo_staff_finds_a_reference_and_refreshes_its_checkout_from_stripe(
    page: Page, demo: Demo, step
):
    reference = start_checkout(page, demo, ui_mode="hosted")
    session_id = page.url.rsplit("/", 1)[1]

    admin_login(page, demo)
    expect(page.locator("#content-main")).to_contain_text("Checkouts")
    expect(page.locator("#content-main")).not_to_contain_text("Users")
    step(page, "admin-index")

    page.goto(f"{demo.url}/admin/checkouts/payable/")
    page.locator("#searchbar").fill(reference)
    page.locator("#searchbar").press("Enter")
    page.locator("#result_list").get_by_role("link", name=reference).click()
    expect(page.locator("#content h2", has_text="Sessions, newest first")).to_be_visible()
    sessions = page.locator(".inline-group tbody tr.has_original")
    expect(sessions).to_have_count(1)
    expect(sessions).to_contain_text("Open")
    step(page, "payable-with-sessions")

    page.goto(f"{demo.url}/admin/checkouts/checkout/?q={reference}")
    # The list shows the start of the id; its tooltip holds the whole of it.
    row = page.locator("#result_list tbody tr", has=page.locator(f'[title="{session_id}"]'))
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("refresh_from_stripe")
    page.get_by_role("button", name="Go").click()

    message = page.locator("ul.messagelist li.success")
    expect(message).to_contain_text(session_id, ignore_case=True)  # the admin capitalises it
    expect(message).to_contain_text("open (unpaid)")
    step(page, "refreshed-from-stripe")


def test_the_docs_page_shows_the_create_endpoint(page: Page, live_server, step):
    page.goto(f"{live_server.url}/docs/")

    operation = page.locator('.opblock-summary-path[data-path="/payment/stripe/v1/checkout"]')
    expect(operation.first).to_be_visible()
    step(page, "docs")
