"""HTML of the customer-facing pages: self-contained (inline CSS, no external assets).

Elements browser tests rely on keep these ids: `merchant`, `line-items` (rows
`.line-item`), `total`, `email`, `pay`, `pay-delayed`, `cancel`, `error`,
`session-status` (with `data-status` = the session's status, or `cancelled`),
`return-link`. Every value from a session is HTML-escaped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

from .embedded_js import MESSAGE_TYPE
from .money import format_amount

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,
sans-serif;color:#1a1f36;background:#f6f9fc}
main{max-width:920px;margin:0 auto;padding:40px 24px;display:flex;flex-wrap:wrap;gap:48px}
main.embedded{padding:16px;gap:24px}
section{flex:1 1 340px}
.merchant{font-weight:600;margin:0 0 24px}
.badge{display:inline-block;margin-left:8px;padding:0 6px;border-radius:4px;font-size:11px;
font-weight:700;color:#a04100;background:#ffde92;text-transform:uppercase}
.label{color:#697386;margin:0}
.total{font-size:36px;font-weight:600;margin:0 0 24px}
table{width:100%;border-collapse:collapse}
td,th{padding:8px 0;text-align:left;vertical-align:top}
td.amount,th.amount{text-align:right}
tr.line-item td{border-bottom:1px solid #e3e8ee}
.quantity,.unit{color:#697386;font-size:13px}
tr.total-row th{padding-top:16px}
label{display:block;font-weight:500;margin:0 0 6px}
input{width:100%;padding:10px 12px;font:inherit;border:1px solid #cfd7df;border-radius:6px;
background:#fff}
input[readonly]{background:#f6f9fc;color:#697386}
button{width:100%;margin-top:20px;padding:12px;font:inherit;font-weight:600;border:0;
border-radius:6px;color:#fff;background:#635bff;cursor:pointer}
button.secondary{margin-top:10px;color:#635bff;background:#fff;border:1px solid #635bff}
button:disabled{opacity:.6;cursor:default}
.error{color:#df1b41;margin:12px 0 0}
.status{font-size:20px;font-weight:600;margin:0 0 12px}
a{color:#635bff}
.back{display:inline-block;margin-bottom:24px;text-decoration:none}
.card{padding:24px;border-radius:8px;background:#fff;box-shadow:0 2px 8px rgba(0,0,0,.08)}
"""


@dataclass(frozen=True)
class CheckoutView:
    """What a payment page shows; `form_action` None means the session can no longer be paid."""

    session: dict[str, Any]
    line_items: list[dict[str, Any]]
    account: str | None
    form_action: str | None
    cancel_href: str | None
    embedded: bool = False
    in_parent: bool = False  # embedded in a page running embedded-checkout.js
    email: str = ""
    error: str | None = None


def document(title: str, body: str, *, script: str = "") -> str:
    script_tag = f"<script>{script}</script>" if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{body}{script_tag}</body></html>\n"
    )


def checkout_page(view: CheckoutView) -> str:
    session = view.session
    main_class = ' class="embedded"' if view.embedded else ""
    body = (
        f"<main{main_class}>"
        f"<section>{_back_link(view)}{_merchant(view.account)}{_summary(view)}</section>"
        f'<section><div class="card">{_payment(view)}</div></section>'
        "</main>"
    )
    script = _embedded_script(view.in_parent) if view.embedded else ""
    return document(f"Pay {_merchant_name(view.account)} · {session['id']}", body, script=script)


def message_page(
    title: str, message: str, status: str, *, link: tuple[str, str] | None = None
) -> str:
    """A page that only says something: `message` in `#session-status[data-status=status]`."""
    link_html = ""
    if link is not None:
        href, text = link
        link_html = f'<p><a id="return-link" href="{escape(href)}">{escape(text)}</a></p>'
    body = (
        '<main><section><div class="card">'
        f'<p id="session-status" class="status" data-status="{escape(status)}">'
        f"{escape(message)}</p>{link_html}"
        "</div></section></main>"
    )
    return document(title, body)


def error_page(message: str) -> str:
    body = (
        '<main><section><div class="card">'
        '<p class="status">Something went wrong</p>'
        f'<p id="error" class="error">{escape(message)}</p>'
        "</div></section></main>"
    )
    return document("Checkout error", body)


def embedded_done_page(message: str, redirect_url: str | None, *, in_parent: bool) -> str:
    """After an embedded payment without JavaScript: tell the parent, or navigate the top."""
    link = (redirect_url, "Return to the merchant") if redirect_url else None
    page = message_page("Payment complete", message, "complete", link=link)
    if link is not None:
        page = page.replace('id="return-link"', 'id="return-link" target="_top"')
    script = _complete_script(redirect_url, in_parent=in_parent)
    return page.replace("</body>", f"<script>{script}</script></body>")


# --- pieces -------------------------------------------------------------------


def _merchant_name(account: str | None) -> str:
    return account or "Platform account"


def _merchant(account: str | None) -> str:
    return (
        f'<p id="merchant" class="merchant">{escape(_merchant_name(account))}'
        '<span class="badge">Test mode</span></p>'
    )


def _back_link(view: CheckoutView) -> str:
    if view.cancel_href is None:
        return ""
    return f'<a id="cancel" class="back" href="{escape(view.cancel_href)}">&larr; Back</a>'


def _summary(view: CheckoutView) -> str:
    session = view.session
    rows = "".join(_line_item_row(item) for item in view.line_items)
    total = session.get("amount_total")
    currency = session.get("currency")
    if total is None or currency is None:
        total_text = "No payment due"
    else:
        total_text = format_amount(total, currency)
    label = "Set up payment details" if session["mode"] == "setup" else "Pay"
    return (
        f'<p class="label">{label}</p>'
        f'<p id="total" class="total">{escape(total_text)}</p>'
        f'<table id="line-items"><tbody>{rows}</tbody>'
        f'<tfoot><tr class="total-row"><th>Total due</th>'
        f'<th id="total-due" class="amount">{escape(total_text)}</th></tr></tfoot></table>'
    )


def _line_item_row(item: dict[str, Any]) -> str:
    currency = item["currency"]
    quantity = item["quantity"]
    unit = item["price"].get("unit_amount")
    unit_text = ""
    if quantity > 1 and unit is not None:
        unit_text = f'<div class="unit">{escape(format_amount(unit, currency))} each</div>'
    return (
        f'<tr class="line-item" data-line-item-id="{escape(item["id"])}">'
        f'<td><div class="name">{escape(item["description"] or "")}</div>'
        f'<div class="quantity">Qty {quantity}</div>{unit_text}</td>'
        f'<td class="amount">{escape(format_amount(item["amount_total"], currency))}</td></tr>'
    )


def _payment(view: CheckoutView) -> str:
    session = view.session
    status = session["status"]
    if view.form_action is None:
        return (
            f'<p id="session-status" class="status" data-status="{escape(status)}">'
            f"{escape(_closed_message(session))}</p>"
        )
    prefilled = session.get("customer_email")
    email = prefilled or view.email
    readonly = " readonly" if prefilled else ""
    error = f'<p id="error" class="error">{escape(view.error)}</p>' if view.error else ""
    delayed = ""
    if session["mode"] != "setup":
        delayed = (
            '<button id="pay-delayed" class="secondary" type="submit" name="payment_status" '
            'value="unpaid">Pay with a delayed payment method</button>'
        )
    return (
        f'<p id="session-status" class="status" data-status="{escape(status)}">'
        "Contact information</p>"
        f'<form id="pay-form" method="post" action="{escape(view.form_action)}">'
        '<label for="email">Email</label>'
        f'<input id="email" name="email" type="email" autocomplete="email" required'
        f' placeholder="you@example.com" value="{escape(email)}"{readonly}>'
        f"{error}"
        '<button id="pay" type="submit" name="payment_status" value="paid">Pay</button>'
        f"{delayed}</form>"
    )


def _closed_message(session: dict[str, Any]) -> str:
    if session["status"] == "expired":
        return "This checkout session has expired"
    if session["payment_status"] == "unpaid":
        return "This checkout session is complete; its payment is still processing"
    return "This checkout session has already been paid"


def _js(value: Any) -> str:
    """A JSON literal that is safe inside a <script> element."""
    return json.dumps(value).replace("</", "<\\/")


def _embedded_script(in_parent: bool) -> str:
    return f"""
(function () {{
  var MESSAGE = {_js(MESSAGE_TYPE)};
  var inParent = {_js(in_parent)} && window.parent !== window;
  function send(message) {{ message.type = MESSAGE; window.parent.postMessage(message, "*"); }}
  function resize() {{
    if (inParent) send({{event: "resize", height: document.body.scrollHeight}});
  }}
  resize();
  var form = document.getElementById("pay-form");
  window.addEventListener("load", function () {{
    resize();
    // Scripts (and tests) driving the page know when a click on Pay is handled here,
    // once the frame has its final size.
    if (form) form.setAttribute("data-ready", "true");
  }});
  if (!form) return;
  form.addEventListener("submit", function (event) {{
    event.preventDefault();
    var data = new URLSearchParams(new FormData(form));
    if (event.submitter && event.submitter.name) {{
      data.append(event.submitter.name, event.submitter.value);
    }}
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (button) {{ button.disabled = true; }});
    fetch(form.action, {{method: "POST", body: data, headers: {{"Accept": "application/json"}}}})
      .then(function (response) {{
        return response.json().then(function (body) {{ return {{ok: response.ok, body: body}}; }});
      }})
      .then(function (result) {{
        if (!result.ok) throw new Error(result.body.error || "Payment failed");
        var status = document.getElementById("session-status");
        status.textContent = "Payment complete";
        status.setAttribute("data-status", "complete");
        form.remove();
        var url = result.body.redirect_url;
        if (inParent) send({{event: "complete", returnUrl: url}});
        else if (url) window.top.location.href = url;
      }})
      .catch(function (error) {{
        var box = document.getElementById("error");
        if (!box) {{
          box = document.createElement("p");
          box.id = "error";
          box.className = "error";
          form.insertBefore(box, form.querySelector("button"));
        }}
        box.textContent = error.message;
        buttons.forEach(function (button) {{ button.disabled = false; }});
      }});
  }});
}})();
"""


def _complete_script(redirect_url: str | None, *, in_parent: bool) -> str:
    return f"""
(function () {{
  var url = {_js(redirect_url)};
  var message = {{type: {_js(MESSAGE_TYPE)}, event: "complete", returnUrl: url}};
  if ({_js(in_parent)} && window.parent !== window) {{
    window.parent.postMessage(message, "*");
  }} else if (url) {{
    window.top.location.href = url;
  }}
}})();
"""
