"""A customer on the demo page: checks out hosted or embedded, pays, cancels, pays again."""

from playwright.sync_api import Page, expect

from checkouts.models import Checkout, CheckoutStatus
from tests.browser.conftest import Demo, admin_login, set_quantity, start_checkout


def expect_paid_confirmation(page: Page, demo: Demo, reference: str, amount: str) -> None:
    page.wait_for_url(demo.confirmation_page)
    expect(page.locator("#status")).to_have_text("complete")
    expect(page.locator("#payment-status")).to_have_text("paid")
    expect(page.locator("#customer-email")).to_have_text("kund@example.com")
    expect(page.locator("#amount")).to_have_text(amount)
    expect(page.locator("#reference")).to_have_text(reference)


def expect_paid_in_the_admin(page: Page, demo: Demo, reference: str) -> None:
    """The signed webhook reached the service, and the admin shows the payable as paid."""
    deliveries = demo.emulator.drain_webhooks()
    assert [d.status for d in deliveries if d.event_type == "checkout.session.completed"] == [200]
    admin_login(page, demo)
    page.goto(f"{demo.url}/admin/checkouts/webhookdelivery/")
    delivery = page.locator("#result_list tbody tr", has_text="checkout.session.completed")
    expect(delivery).to_contain_text("Processed")
    page.goto(f"{demo.url}/admin/checkouts/payable/?q={reference}")
    row = page.locator("#result_list tbody tr", has_text=reference)
    expect(row.locator("td.field-paid img")).to_have_attribute("alt", "True")
    expect(row.locator("td.field-current_status")).to_have_text("Complete")


def test_hosted_checkout_from_the_demo_page_to_paid_in_the_admin(page: Page, demo: Demo, step):
    page.goto(demo.demo_page())
    expect(page.locator("#company-name")).to_have_text("Demo Salon")
    expect(page.locator("#key-state")).to_contain_text(demo.api_key.split(".")[0])
    assert "#key=" not in page.url, "the key is taken out of the address bar"
    set_quantity(page, "Beard trim", 2)
    expect(page.locator("#total")).to_have_text("950.00 SEK")
    step(page, "demo-page")

    reference = start_checkout(page, demo, ui_mode="hosted")
    expect(page.locator("#line-items .line-item")).to_have_count(2)
    step(page, "payment-page")
    page.locator("#email").fill("kund@example.com")
    page.locator("#pay").click()

    expect_paid_confirmation(page, demo, reference, "950.00 SEK")
    step(page, "confirmation")
    expect_paid_in_the_admin(page, demo, reference)
    step(page, "admin-paid")


def test_embedded_checkout_from_the_demo_page_to_paid_in_the_admin(page: Page, demo: Demo, step):
    page.goto(demo.demo_page())
    reference = start_checkout(page, demo, ui_mode="embedded")

    frame = page.frame_locator("#checkout iframe")
    expect(frame.locator("#line-items .line-item")).to_have_count(1)
    # Loaded and sized: a click before then may land before the form's script runs.
    expect(frame.locator("#pay-form[data-ready]")).to_be_attached()
    step(page, "embedded-checkout")
    frame.locator("#email").fill("kund@example.com")
    # From the keyboard: a mouse click aims at where the button was, and the parent page
    # may still move the frame (it resizes it to its content) between aim and click.
    frame.locator("#pay").press("Enter")

    expect_paid_confirmation(page, demo, reference, "450.00 SEK")
    step(page, "confirmation")
    expect_paid_in_the_admin(page, demo, reference)
    step(page, "admin-paid")


def test_cancel_returns_to_the_cancel_page_and_the_checkout_stays_open(
    page: Page, demo: Demo, step
):
    reference = start_checkout(page, demo, ui_mode="hosted")
    session_id = page.url.rsplit("/", 1)[1]
    page.locator("#cancel").click()

    page.wait_for_url(f"{demo.url}/demo/cancel")
    expect(page.locator("#cancelled")).to_have_text("Payment cancelled")
    expect(page.locator("#cancel-message")).to_contain_text("still open")
    step(page, "cancel-page")
    checkout = Checkout.objects.get(stripe_session_id=session_id)
    assert checkout.status == CheckoutStatus.OPEN
    assert checkout.payable.internal_reference_id == reference
    assert demo.emulator.session(session_id)["status"] == "open"

    # Back on the booking, the same booking is still the one to pay.
    page.locator("#back-link").click()
    expect(page.locator("#reference")).to_have_value(reference)


def test_a_second_checkout_for_the_same_reference_expires_the_first(page: Page, demo: Demo, step):
    reference = start_checkout(page, demo, ui_mode="hosted")
    first_payment_page = page.url

    page.goto(demo.demo_page())
    expect(page.locator("#reference")).to_have_value(reference)
    start_checkout(page, demo, ui_mode="hosted", reference=reference)
    assert page.url != first_payment_page
    expect(page.locator("#pay")).to_be_visible()
    step(page, "second-payment-page")

    page.goto(first_payment_page)
    status = page.locator("#session-status")
    expect(status).to_have_attribute("data-status", "expired")
    expect(status).to_contain_text("expired")
    expect(page.locator("#pay")).to_have_count(0)
    step(page, "first-payment-page-expired")


def test_the_demo_page_shows_the_apis_errors(page: Page, demo: Demo, step):
    page.goto(demo.demo_page())
    page.locator("#country").fill("XX")
    page.locator("#create-checkout").click()

    error = page.locator("#error")
    expect(error).to_contain_text("400 InvalidCountryCode")
    expect(error).to_contain_text("CountryCode:")
    step(page, "error")


def test_without_a_key_the_page_asks_for_one_and_takes_a_pasted_key(page: Page, demo: Demo, step):
    page.goto(f"{demo.url}/demo/")
    expect(page.locator("#key-state")).to_contain_text("No API key")
    page.locator("#create-checkout").click()
    expect(page.locator("#error")).to_contain_text("No API key yet")
    step(page, "no-key")

    page.locator("#api-key").fill(demo.api_key)
    page.locator("#save-key").click()
    expect(page.locator("#key-state")).to_contain_text(demo.api_key.split(".")[0])
    start_checkout(page, demo, ui_mode="hosted")
