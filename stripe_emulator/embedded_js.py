"""The JavaScript served at `/v3/embedded-checkout.js`: Stripe.js's embedded Checkout, offline.

It mimics the part of Stripe.js a merchant page uses for embedded Checkout:

    const stripe = Stripe("pk_test_anything", {stripeAccount: "acct_..."});
    const checkout = await stripe.initEmbeddedCheckout({clientSecret});  // or fetchClientSecret
    checkout.mount("#checkout");   // also unmount(), destroy()

`mount` renders an iframe (name `embedded-checkout`) of the emulator's page
`/c/embedded/{client_secret}`. When the customer pays there, the iframe
tells this script (postMessage), which calls `onComplete` if given and, when
the session redirects on completion, navigates `window.top` to its return_url.
The emulator's address is taken from this script's own `src`.
"""

from __future__ import annotations

import json

MESSAGE_TYPE = "stripe-emulator:embedded-checkout"

_SCRIPT = r"""/* Stripe emulator: stand-in for Stripe.js embedded Checkout. Not Stripe.js. */
(function () {
  "use strict";
  var script = document.currentScript;
  var source = script && script.src ? script.src : __EMULATOR_URL__;
  var ORIGIN = new URL(source, window.location.href).origin;
  var MESSAGE = __MESSAGE_TYPE__;
  var active = null;

  function integrationError(message) {
    var error = new Error(message);
    error.name = "IntegrationError";
    return error;
  }

  function EmbeddedCheckout(clientSecret, account, onComplete) {
    var self = this;
    this._secret = clientSecret;
    this._account = account;
    this._onComplete = onComplete;
    this._iframe = null;
    this._destroyed = false;
    this._onMessage = function (event) {
      if (!self._iframe || event.source !== self._iframe.contentWindow) return;
      var data = event.data || {};
      if (data.type !== MESSAGE) return;
      if (data.event === "resize" && data.height) {
        self._iframe.style.height = Math.ceil(data.height) + "px";
      }
      if (data.event === "complete") {
        if (typeof self._onComplete === "function") self._onComplete();
        if (data.returnUrl) window.top.location.href = data.returnUrl;
      }
    };
    window.addEventListener("message", this._onMessage);
  }

  EmbeddedCheckout.prototype.mount = function (target) {
    if (this._destroyed) {
      throw integrationError("This Embedded Checkout object has been destroyed.");
    }
    if (this._iframe) throw integrationError("Embedded Checkout is already mounted.");
    var element = typeof target === "string" ? document.querySelector(target) : target;
    if (!element || !element.appendChild) {
      throw integrationError("mount(): no DOM element matches " + String(target) + ".");
    }
    var src = ORIGIN + "/c/embedded/" + encodeURIComponent(this._secret) + "?parent=1";
    if (this._account) src += "&account=" + encodeURIComponent(this._account);
    var iframe = document.createElement("iframe");
    iframe.name = "embedded-checkout";
    iframe.title = "Secure checkout (Stripe emulator)";
    iframe.src = src;
    iframe.setAttribute("allow", "payment *");
    iframe.style.cssText = "display:block;width:100%;height:560px;border:0;";
    element.appendChild(iframe);
    this._iframe = iframe;
  };

  EmbeddedCheckout.prototype.unmount = function () {
    if (this._iframe && this._iframe.parentNode) this._iframe.parentNode.removeChild(this._iframe);
    this._iframe = null;
  };

  EmbeddedCheckout.prototype.destroy = function () {
    this.unmount();
    window.removeEventListener("message", this._onMessage);
    this._destroyed = true;
    if (active === this) active = null;
  };

  function Stripe(key, options) {
    if (!(this instanceof Stripe)) return new Stripe(key, options);
    if (typeof key !== "string" || !key) {
      throw integrationError("Please call Stripe() with your publishable key.");
    }
    this._account = (options && options.stripeAccount) || null;
  }

  Stripe.prototype.initEmbeddedCheckout = function (options) {
    var account = this._account;
    options = options || {};
    if (active) {
      return Promise.reject(integrationError(
        "You cannot have multiple Embedded Checkout objects. Call destroy() on the first one."));
    }
    if (options.clientSecret && options.fetchClientSecret) {
      return Promise.reject(integrationError(
        "Pass either clientSecret or fetchClientSecret to initEmbeddedCheckout, not both."));
    }
    var secret;
    if (options.clientSecret) secret = Promise.resolve(options.clientSecret);
    else if (typeof options.fetchClientSecret === "function") {
      secret = Promise.resolve().then(options.fetchClientSecret);
    } else {
      return Promise.reject(integrationError(
        "initEmbeddedCheckout needs clientSecret or fetchClientSecret."));
    }
    active = true;  // claimed while the secret is fetched
    return secret.then(function (value) {
      if (typeof value !== "string" || !value) {
        throw integrationError("The client secret must be a non-empty string.");
      }
      active = new EmbeddedCheckout(value, account, options.onComplete);
      return active;
    }).catch(function (error) {
      active = null;
      throw error;
    });
  };

  window.Stripe = Stripe;
})();
"""


def render(emulator_url: str) -> bytes:
    """The script, with `emulator_url` as the fallback address when `src` is unknown."""
    return (
        _SCRIPT.replace("__EMULATOR_URL__", json.dumps(emulator_url))
        .replace("__MESSAGE_TYPE__", json.dumps(MESSAGE_TYPE))
        .encode()
    )
