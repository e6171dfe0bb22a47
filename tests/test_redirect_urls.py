"""ConfirmationUrl and CancelUrl are read as browsers read them (the WHATWG URL standard):
what a browser would read differently from a server is refused, naming the field, and
the host checked is the host a browser goes to."""

import pytest

from articles.models import StripeCheckoutSettings
from checkouts.models import Checkout
from tests.support.api import CREATE_SESSION

pytestmark = pytest.mark.django_db

# Each URL, and a word of the message that says what is wrong with it.
REFUSED = {
    "backslash-before-userinfo": ("https://evil.example\\@app.example.com/x", "backslash"),
    "backslash-in-the-path": ("https://app.example.com\\evil.example/x", "backslash"),
    "user-name": ("https://user@app.example.com/x", "user name"),
    "user-name-and-password": ("https://user:secret@app.example.com/x", "user name"),
    "empty-user-name": ("https://@app.example.com/x", "user name"),
    "host-in-the-user-name": ("https://app.example.com@evil.example/x", "user name"),
    "space-in-the-path": ("https://app.example.com/a b", "whitespace"),
    "tab-in-the-host": ("https://app.exa\tmple.com/x", "whitespace"),
    "newline-at-the-end": ("https://app.example.com/x\n", "whitespace"),
    "leading-space": (" https://app.example.com/x", "whitespace"),
    "nul": ("https://app.example.com/x\x00", "control"),
    "zero-width-space-in-the-host": ("https://app.example.com\u200b.evil.example/", "control"),
    "right-to-left-override": ("https://app.example.com/\u202ex", "control"),
    "encoded-dot-in-the-host": ("https://app.example.com%2eevil.example/", "percent-encode"),
    "encoded-letter-in-the-host": ("https://%61pp.example.com/x", "percent-encode"),
    "one-slash": ("https:/app.example.com/x", "absolute"),
    "no-slash": ("https:app.example.com/x", "absolute"),
    "protocol-relative": ("//app.example.com/x", "absolute"),
    "javascript": ("javascript:alert(1)", "absolute"),
    "data": ("data:text/html,<script>alert(1)</script>", "absolute"),
    "invalid-port": ("https://app.example.com:99999/x", "valid"),
    "no-host": ("https:///x", "host"),
}


@pytest.mark.parametrize("field", ["ConfirmationUrl", "CancelUrl"])
@pytest.mark.parametrize("case", list(REFUSED))
def test_a_url_browsers_could_read_otherwise_is_refused_naming_the_field(
    create_checkout, stripe_emulator, field, case
):
    url, reason = REFUSED[case]

    response = create_checkout(**{field: url})

    assert response.status_code == 400
    (error,) = response.json()["ResponseStatus"]["Errors"]
    assert (error["FieldName"], error["ErrorCode"]) == (field, "Invalid")
    assert reason in error["Message"]
    assert stripe_emulator.requests_to("POST", CREATE_SESSION) == []
    assert not Checkout.objects.exists()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        # A browser goes to evil.example: the backslash ends the host.
        ("https://evil.example\\@127.0.0.1/x", False),
        ("https://127.0.0.1/x", True),
        ("https://127.1/x", True),
        ("https://2130706433/x", True),
        ("HTTPS://APP.Example.COM/x", True),
        ("https://app.example.com:8443/x", True),
        ("https://app.example.com./x", False),
        ("https://book.salong.example/x", True),
        ("https://salong.example/x", False),
        ("https://evilsalong.example/x", False),
        ("https://bokning.exämple.se/x", True),
        ("https://bokning.xn--exmple-cua.se/x", True),
        ("https://app.example.com@127.0.0.1/x", False),
    ],
)
def test_the_allowed_host_is_the_host_a_browser_goes_to(company, url, allowed):
    settings = company.stripe_settings
    settings.allowed_redirect_hosts = (
        "127.0.0.1\napp.example.com\n*.salong.example\nbokning.exämple.se"
    )

    assert settings.allows_redirect_to(url) is allowed


def test_the_default_urls_hosts_are_allowed_as_browsers_read_them(company):
    StripeCheckoutSettings.objects.filter(company=company).update(
        allowed_redirect_hosts="",
        default_confirmation_url="https://Bokning.Exämple.SE/ok",
        default_cancel_url="",
    )
    company.refresh_from_db()

    assert company.stripe_settings.allows_redirect_to("https://bokning.xn--exmple-cua.se/done")
    assert not company.stripe_settings.allows_redirect_to("https://exämple.se/done")


def test_an_allowed_url_is_sent_to_stripe_as_the_client_wrote_it(create_checkout, stripe_emulator):
    url = "https://app.example.com/booking/{CHECKOUT_SESSION_ID}/done?x=%41"

    response = create_checkout(ConfirmationUrl=url)

    assert response.status_code == 200
    (created,) = stripe_emulator.requests_to("POST", CREATE_SESSION)
    assert created.params["success_url"] == url
