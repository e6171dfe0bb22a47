"""The emulator's customer pages: hosted payment page, embedded iframe, Stripe.js stand-in."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
import requests
import stripe

from stripe_emulator.money import format_amount
from tests.support.stripe_sdk import (
    NOW,
    SHOP,
    create_hosted,
    embedded_params,
    hosted_params,
    line_item,
)


def create_embedded(client: stripe.StripeClient, account: str | None = SHOP, **params):
    options = {"stripe_account": account} if account else None
    return client.v1.checkout.sessions.create(params=embedded_params(**params), options=options)


class Elements(HTMLParser):
    """Each element's attributes and text, by id (and the `.line-item` rows, in order)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str]] = {}
        self.text: dict[str, str] = {}
        self.line_items: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        element_id = attributes.get("id")
        if element_id:
            self.by_id[element_id] = attributes
            self.text[element_id] = ""
        if "line-item" in attributes.get("class", "").split():
            self.line_items.append("")
            element_id = "__line_item__"
        if tag not in ("input", "meta", "br"):
            self._open.append((tag, element_id))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id == "__line_item__":
                self.line_items[-1] += data + " "
            elif element_id:
                self.text[element_id] += data


def page(url: str) -> tuple[requests.Response, Elements]:
    response = requests.get(url, timeout=5)
    return response, Elements(response.text)


def post(url: str, data: dict[str, str] | None = None, **headers: str) -> requests.Response:
    return requests.post(url, data=data or {}, headers=headers, allow_redirects=False, timeout=5)


# --- hosted page ------------------------------------------------------------------------


def test_payment_page_shows_merchant_items_and_total(stripe_emulator, client):
    session = create_hosted(
        client,
        line_items=[
            line_item(unit_amount=25000, product_data={"name": "Haircut"}),
            {**line_item(unit_amount=4950, product_data={"name": "Wax"}), "quantity": 2},
        ],
    )

    response, elements = page(session.url)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert SHOP in elements.text["merchant"]
    assert [" ".join(row.split()) for row in elements.line_items] == [
        "Haircut Qty 1 SEK 250.00",
        "Wax Qty 2 SEK 49.50 each SEK 99.00",
    ]
    assert elements.text["total"] == "SEK 349.00"
    assert elements.by_id["session-status"]["data-status"] == "open"
    assert elements.by_id["email"]["type"] == "email"
    assert elements.by_id["pay-form"]["action"] == f"/c/pay/{session.id}/pay"
    assert elements.by_id["cancel"]["href"] == f"/c/pay/{session.id}/cancel"
    assert "pay" in elements.by_id
    assert "<script src" not in response.text
    assert "<link" not in response.text


def test_zero_decimal_currencies_have_no_decimals(stripe_emulator, client):
    session = create_hosted(
        client, line_items=[{**line_item(currency="jpy", unit_amount=1500), "quantity": 2}]
    )

    _, elements = page(session.url)

    assert elements.text["total"] == "JPY 3,000"
    assert "JPY 1,500 each" in elements.line_items[0]


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (10000, "sek", "SEK 100.00"),
        (123456789, "usd", "USD 1,234,567.89"),
        (1500, "jpy", "JPY 1,500"),
        (50000, "krw", "KRW 50,000"),
        (1234, "kwd", "KWD 1.234"),
        (5, "eur", "EUR 0.05"),
    ],
)
def test_amounts_are_formatted_by_the_currencys_decimals(amount, currency, shown):
    assert format_amount(amount, currency) == shown


def test_a_prefilled_customer_email_is_shown_read_only(stripe_emulator, client):
    session = create_hosted(client, customer_email="kund@example.se")

    _, elements = page(session.url)

    assert elements.by_id["email"]["value"] == "kund@example.se"
    assert "readonly" in elements.by_id["email"]


def test_pay_completes_and_redirects_to_success_url_with_the_id(stripe_emulator, client):
    session = create_hosted(client)

    response = post(f"{stripe_emulator.url}/c/pay/{session.id}/pay", {"email": "anna@example.se"})

    assert response.status_code == 303
    assert response.headers["Location"] == (f"https://shop.example/success?session_id={session.id}")
    stored = stripe_emulator.session(session.id)
    assert (stored["status"], stored["payment_status"]) == ("complete", "paid")
    assert stored["customer_details"]["email"] == "anna@example.se"
    assert [e["type"] for e in stripe_emulator.events] == ["checkout.session.completed"]


def test_pay_with_a_delayed_method_completes_unpaid(stripe_emulator, client):
    session = create_hosted(client)

    response = post(
        f"{stripe_emulator.url}/c/pay/{session.id}/pay",
        {"email": "anna@example.se", "payment_status": "unpaid"},
    )

    assert response.status_code == 303
    assert stripe_emulator.session(session.id)["payment_status"] == "unpaid"


def test_pay_without_a_valid_email_shows_an_error_and_leaves_it_open(stripe_emulator, client):
    session = create_hosted(client)

    response = post(f"{stripe_emulator.url}/c/pay/{session.id}/pay", {"email": "nope"})

    assert response.status_code == 400
    assert Elements(response.text).text["error"] == "Enter a valid email address."
    assert stripe_emulator.session(session.id)["status"] == "open"


def test_cancel_redirects_to_cancel_url_and_the_session_stays_open(stripe_emulator, client):
    session = create_hosted(client)
    _, elements = page(session.url)

    response = requests.get(
        urljoin(session.url, elements.by_id["cancel"]["href"]), allow_redirects=False, timeout=5
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "https://shop.example/cancel"
    assert stripe_emulator.session(session.id)["status"] == "open"
    assert stripe_emulator.events == []


def test_cancel_without_cancel_url_says_the_payment_was_cancelled(stripe_emulator, client):
    session = client.v1.checkout.sessions.create(
        params={k: v for k, v in hosted_params().items() if k != "cancel_url"}
    )

    response, elements = page(f"{stripe_emulator.url}/c/pay/{session.id}/cancel")

    assert response.status_code == 200
    assert elements.by_id["session-status"]["data-status"] == "cancelled"
    assert elements.text["session-status"] == "The payment was cancelled."
    assert elements.by_id["return-link"]["href"] == f"/c/pay/{session.id}"


def test_an_expired_session_page_says_so_and_cannot_be_paid(stripe_emulator, client):
    stripe_emulator.set_time(NOW)
    session = create_hosted(client, expires_at=NOW + 1800)
    stripe_emulator.set_time(NOW + 1800)

    response, elements = page(session.url)
    pay = post(f"{stripe_emulator.url}/c/pay/{session.id}/pay", {"email": "anna@example.se"})

    assert response.status_code == 200
    assert elements.text["session-status"] == "This checkout session has expired"
    assert elements.by_id["session-status"]["data-status"] == "expired"
    assert "pay" not in elements.by_id
    assert "email" not in elements.by_id
    assert pay.status_code == 409
    assert stripe_emulator.session(session.id)["status"] == "expired"


def test_a_paid_session_page_says_it_was_already_paid(stripe_emulator, client):
    session = create_hosted(client)
    stripe_emulator.complete_session(session.id)

    _, elements = page(f"{stripe_emulator.url}/c/pay/{session.id}")

    assert elements.text["session-status"] == "This checkout session has already been paid"
    assert "pay" not in elements.by_id


def test_an_unknown_session_page_is_a_404(stripe_emulator):
    response, elements = page(f"{stripe_emulator.url}/c/pay/cs_test_nope")

    assert response.status_code == 404
    assert "does not exist" in elements.text["error"]


def test_page_requests_are_not_recorded_as_api_requests(stripe_emulator, client):
    session = create_hosted(client)

    page(session.url)

    assert stripe_emulator.requests_to("GET", r"/c/.*") == []


# --- embedded -----------------------------------------------------------------------------


def test_embedded_page_shows_the_payment_form_for_its_client_secret(stripe_emulator, client):
    session = create_embedded(client)

    response, elements = page(
        f"{stripe_emulator.url}/c/embedded/{session.client_secret}?parent=1&account={SHOP}"
    )

    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert elements.text["total"] == "SEK 100.00"
    assert SHOP in elements.text["merchant"]
    assert "cancel" not in elements.by_id
    assert elements.by_id["pay-form"]["action"] == (
        f"/c/embedded/{session.client_secret}/pay?parent=1&account={SHOP}"
    )


@pytest.mark.parametrize("account", [None, "acct_1Other"])
def test_embedded_page_refuses_a_secret_of_another_account(stripe_emulator, client, account):
    session = create_embedded(client)
    query = f"?account={account}" if account else ""

    response, elements = page(f"{stripe_emulator.url}/c/embedded/{session.client_secret}{query}")

    assert response.status_code == 404
    assert "No checkout session with this client secret" in elements.text["error"]


def test_embedded_page_with_an_unknown_secret_shows_an_error(stripe_emulator):
    response, elements = page(f"{stripe_emulator.url}/c/embedded/cs_test_x_secret_y")

    assert response.status_code == 404
    assert "error" in elements.by_id


def test_embedded_pay_answers_json_with_the_return_url(stripe_emulator, client):
    session = create_embedded(client)

    response = post(
        f"{stripe_emulator.url}/c/embedded/{session.client_secret}/pay?parent=1&account={SHOP}",
        {"email": "anna@example.se"},
        Accept="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "status": "complete",
        "session_id": session.id,
        "redirect_url": f"https://shop.example/return?session_id={session.id}",
    }
    assert stripe_emulator.session(session.id)["status"] == "complete"


def test_embedded_pay_without_javascript_navigates_the_top_window(stripe_emulator, client):
    session = create_embedded(client)

    response = post(
        f"{stripe_emulator.url}/c/embedded/{session.client_secret}/pay?account={SHOP}",
        {"email": "anna@example.se"},
    )

    return_url = f"https://shop.example/return?session_id={session.id}"
    elements = Elements(response.text)
    assert response.status_code == 200
    assert elements.by_id["return-link"] == {
        "id": "return-link",
        "href": return_url,
        "target": "_top",
    }
    assert re.search(r"window\.top\.location\.href = url", response.text)
    assert f'"{return_url}"' in response.text


def test_embedded_session_that_never_redirects_has_no_redirect_url(stripe_emulator, client):
    session = client.v1.checkout.sessions.create(
        params={
            **{k: v for k, v in embedded_params().items() if k != "return_url"},
            "redirect_on_completion": "never",
        }
    )

    response = post(
        f"{stripe_emulator.url}/c/embedded/{session.client_secret}/pay",
        {"email": "anna@example.se"},
        Accept="application/json",
    )

    assert response.json()["redirect_url"] is None


def test_embedded_pay_of_a_paid_session_is_a_409(stripe_emulator, client):
    session = create_embedded(client)
    stripe_emulator.complete_session(session.id)

    response = post(
        f"{stripe_emulator.url}/c/embedded/{session.client_secret}/pay?account={SHOP}",
        {"email": "anna@example.se"},
        Accept="application/json",
    )

    assert response.status_code == 409
    assert response.json() == {"error": "This checkout session has already been paid"}


def test_a_hosted_sessions_id_has_no_embedded_page_and_vice_versa(stripe_emulator, client):
    embedded = create_embedded(client)

    response, _ = page(f"{stripe_emulator.url}/c/pay/{embedded.id}")

    assert response.status_code == 404


def test_embedded_checkout_js_is_served_cross_origin(stripe_emulator):
    response = requests.get(f"{stripe_emulator.url}/v3/embedded-checkout.js", timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    script = response.text
    for needle in (
        "window.Stripe = Stripe",
        "initEmbeddedCheckout",
        "fetchClientSecret",
        "prototype.mount",
        '"/c/embedded/"',
        "window.top.location.href",
        f'"{stripe_emulator.url}"',
    ):
        assert needle in script
    assert requests.get(f"{stripe_emulator.url}/v3/", timeout=5).text == script
