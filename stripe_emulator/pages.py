"""The customer's side of Checkout in a browser, served by the emulator.

    GET  /c/pay/{id}                       hosted payment page (ui_mode hosted_page)
    POST /c/pay/{id}/pay                   pay (form: email, payment_status=paid|unpaid)
                                           -> 303 to success_url, {CHECKOUT_SESSION_ID} filled in
    GET  /c/pay/{id}/cancel                the customer goes back -> 303 to cancel_url
                                           (the session stays open, as on Stripe)
    GET  /c/embedded/{client_secret}       the form inside embedded Checkout's iframe
                                           (?account=acct_... must match the session's owner;
                                           ?parent=1 when embedded-checkout.js mounted it)
    POST /c/embedded/{client_secret}/pay   pay; JSON {redirect_url} when Accept asks for JSON,
                                           else a page that navigates the top window
    GET  /v3/embedded-checkout.js          the Stripe.js stand-in (also at /v3 and /v3/)

Paying goes through `StripeEmulator.complete_session`, so it changes the
session and emits `checkout.session.completed` exactly as the Python and
control APIs do. These requests are not API requests: they are not recorded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode

from . import embedded_js, rules, templates
from .lifecycle import SessionStateError
from .templates import CheckoutView

if TYPE_CHECKING:
    from .server import StripeEmulator

HTML = "text/html; charset=utf-8"
JSON = "application/json"
JAVASCRIPT = "text/javascript; charset=utf-8"
SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"

_HOSTED = re.compile(r"/c/pay/(?P<id>[^/]+)(?P<action>/pay|/cancel)?")
_EMBEDDED = re.compile(r"/c/embedded/(?P<secret>[^/]+)(?P<action>/pay)?")
_SCRIPT_PATHS = frozenset({"/v3", "/v3/", "/v3/embedded-checkout.js"})


@dataclass
class Page:
    status: int
    body: bytes
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)


def is_page_path(path: str) -> bool:
    return path.startswith("/c/") or path in _SCRIPT_PATHS


def handle(
    emulator: StripeEmulator,
    method: str,
    path: str,
    query: str,
    body: bytes,
    headers: Mapping[str, str],
) -> Page:
    """Answer one browser request for a page, a form post or the script."""
    if path in _SCRIPT_PATHS and method == "GET":
        return Page(
            200,
            embedded_js.render(emulator.url),
            JAVASCRIPT,
            {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"},
        )
    args = {key: values[-1] for key, values in parse_qs(query).items()}
    form = {key: values[-1] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    hosted = _HOSTED.fullmatch(path)
    if hosted:
        return _hosted(emulator, method, hosted["id"], hosted["action"], form)
    embedded = _EMBEDDED.fullmatch(path)
    if embedded:
        wants_json = "application/json" in headers.get("Accept", "")
        return _embedded(
            emulator, method, embedded["secret"], embedded["action"], args, form, wants_json
        )
    return _html(404, templates.error_page("This page does not exist."))


# --- hosted -------------------------------------------------------------------


def _hosted(
    emulator: StripeEmulator, method: str, session_id: str, action: str | None, form: dict[str, str]
) -> Page:
    try:
        session = emulator.session(session_id)
    except KeyError:
        session = None
    if session is None or session["ui_mode"] != "hosted_page":
        return _html(404, templates.error_page("This checkout session does not exist."))
    base = f"/c/pay/{quote(session_id)}"
    if action == "/cancel" and method in ("GET", "POST"):
        emulator.cancel_session(session_id)
        if session.get("cancel_url"):
            return _redirect(session["cancel_url"])
        return _html(
            200,
            templates.message_page(
                "Payment cancelled",
                "The payment was cancelled.",
                "cancelled",
                link=(base, "Back to the payment page"),
            ),
        )
    if action == "/pay" and method == "POST":
        paid, status, error = _pay(emulator, session, form)
        if paid is None:
            return _html(status, _hosted_page(emulator, session_id, base, form, error))
        if paid.get("success_url"):
            return _redirect(_with_session_id(paid["success_url"], session_id))
        return _html(
            200, templates.message_page("Payment complete", "Payment complete", "complete")
        )
    if action is None and method == "GET":
        return _html(200, _hosted_page(emulator, session_id, base, {}, None))
    return _html(405, templates.error_page("Method not allowed."))


def _hosted_page(
    emulator: StripeEmulator, session_id: str, base: str, form: dict[str, str], error: str | None
) -> str:
    session = emulator.session(session_id)
    view = CheckoutView(
        session=session,
        line_items=emulator.line_items(session_id),
        account=emulator.store.session_snapshot(session_id).account,
        form_action=f"{base}/pay" if session["status"] == "open" else None,
        cancel_href=f"{base}/cancel",
        email=form.get("email", ""),
        error=error,
    )
    return templates.checkout_page(view)


# --- embedded -----------------------------------------------------------------


def _embedded(
    emulator: StripeEmulator,
    method: str,
    secret: str,
    action: str | None,
    args: dict[str, str],
    form: dict[str, str],
    wants_json: bool,
) -> Page:
    account = args.get("account") or None
    in_parent = args.get("parent") == "1"
    stored = emulator.store.find_by_client_secret(secret)
    problem = None
    if stored is None or stored.account != account:
        owner = f"account {account}" if account else "the platform account"
        problem = f"No checkout session with this client secret exists on {owner}."
    elif stored.session["ui_mode"] != "embedded_page":
        problem = (
            f"This client secret belongs to a `{stored.session['ui_mode']}` session, "
            "not an `embedded_page` one."
        )
    if problem is not None:
        if wants_json:
            return _json(404, {"error": problem})
        return _html(404, templates.error_page(problem))
    assert stored is not None
    session_id = stored.session["id"]
    # The form posts back with the same query, so the answer knows its frame.
    query = urlencode({key: args[key] for key in ("parent", "account") if args.get(key)})
    action_url = f"/c/embedded/{quote(secret)}/pay" + (f"?{query}" if query else "")

    def page(status: int, error: str | None) -> Page:
        session = emulator.session(session_id)
        view = CheckoutView(
            session=session,
            line_items=emulator.line_items(session_id),
            account=account,
            form_action=action_url if session["status"] == "open" else None,
            cancel_href=None,
            embedded=True,
            in_parent=in_parent,
            email=form.get("email", ""),
            error=error,
        )
        return _html(status, templates.checkout_page(view))

    if action is None and method == "GET":
        return page(200, None)
    if action == "/pay" and method == "POST":
        paid, status, error = _pay(emulator, emulator.session(session_id), form)
        if paid is None:
            return _json(status, {"error": error}) if wants_json else page(status, error)
        redirect_url = _embedded_redirect(paid)
        if wants_json:
            return _json(
                200, {"status": "complete", "session_id": session_id, "redirect_url": redirect_url}
            )
        message = "Payment complete" + (". Returning to the merchant…" if redirect_url else "")
        return _html(200, templates.embedded_done_page(message, redirect_url, in_parent=in_parent))
    return _html(405, templates.error_page("Method not allowed."))


def _embedded_redirect(session: dict[str, Any]) -> str | None:
    """Where the top window goes after paying: return_url when the session always redirects.

    With `if_required` a card payment needs no redirect, and `never` never does.
    """
    if session.get("redirect_on_completion") != "always" or not session.get("return_url"):
        return None
    return _with_session_id(session["return_url"], session["id"])


# --- paying ---------------------------------------------------------------------


def _pay(
    emulator: StripeEmulator, session: dict[str, Any], form: dict[str, str]
) -> tuple[dict[str, Any] | None, int, str | None]:
    """Complete the session from the form: (the paid session, 200, None) or (None, status, why)."""
    if session["status"] != "open":
        return None, 409, _closed_reason(session)
    email = (session.get("customer_email") or form.get("email", "")).strip()
    if not rules.is_email(email):
        return None, 400, "Enter a valid email address."
    payment_status = form.get("payment_status", "paid")
    if payment_status not in ("paid", "unpaid"):
        return None, 400, "Choose a way to pay."
    try:
        paid = emulator.complete_session(
            session["id"], payment_status=payment_status, customer_email=email
        )
    except SessionStateError:
        return None, 409, _closed_reason(emulator.session(session["id"]))
    except ValueError as error:
        return None, 400, str(error)
    return paid, 200, None


def _closed_reason(session: dict[str, Any]) -> str:
    if session["status"] == "expired":
        return "This checkout session has expired"
    return "This checkout session has already been paid"


# --- responses ------------------------------------------------------------------


def _with_session_id(url: str, session_id: str) -> str:
    return url.replace(SESSION_ID_PLACEHOLDER, session_id)


def _html(status: int, html: str) -> Page:
    return Page(status, html.encode(), HTML, {"Cache-Control": "no-store"})


def _json(status: int, body: dict[str, Any]) -> Page:
    return Page(status, json.dumps(body).encode(), JSON, {"Cache-Control": "no-store"})


def _redirect(location: str) -> Page:
    return Page(303, b"", HTML, {"Location": location, "Cache-Control": "no-store"})
