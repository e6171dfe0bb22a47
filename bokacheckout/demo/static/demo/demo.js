/* bokacheckout demo pages: a booking widget that pays through the real API. Plain JavaScript.
 *
 * The API key arrives in the URL's fragment (#key=...), which browsers never send to a
 * server, and stays in this tab's sessionStorage. It goes only to the API, as X-Api-Key.
 */
(function () {
  "use strict";

  var STORE = {
    key: "bokacheckout-demo:api-key",
    reference: "bokacheckout-demo:reference",
    company: "bokacheckout-demo:company",
  };

  // --- storage ---------------------------------------------------------------

  function load(name) {
    try {
      return window.sessionStorage.getItem(name);
    } catch (error) {
      return null;
    }
  }

  function save(name, value) {
    try {
      if (value) window.sessionStorage.setItem(name, value);
      else window.sessionStorage.removeItem(name);
    } catch (error) {
      /* storage disabled: the key field still works for this page */
    }
  }

  /* #key=... sets the API key; the fragment is then removed from the address bar. */
  function takeKeyFromFragment() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var key = params.get("key");
    if (!key) return;
    save(STORE.key, key.trim());
    params.delete("key");
    var rest = params.toString();
    var url = window.location.pathname + window.location.search + (rest ? "#" + rest : "");
    window.history.replaceState(null, "", url);
  }

  // --- page helpers ----------------------------------------------------------

  function byId(id) {
    return document.getElementById(id);
  }

  function setText(id, value) {
    var element = byId(id);
    if (element) element.textContent = value === null || value === undefined ? "—" : value;
  }

  function showError(error) {
    var box = byId("error");
    if (!box) return;
    box.textContent = "";
    var title = document.createElement("strong");
    title.textContent = error.message;
    box.appendChild(title);
    if (error.details && error.details.length) {
      var list = document.createElement("ul");
      error.details.forEach(function (detail) {
        var item = document.createElement("li");
        item.textContent = detail;
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    box.hidden = false;
  }

  function clearError() {
    var box = byId("error");
    if (box) {
      box.hidden = true;
      box.textContent = "";
    }
  }

  var exponents = (function () {
    var element = byId("currency-exponents");
    try {
      return element ? JSON.parse(element.textContent) : {};
    } catch (error) {
      return {};
    }
  })();

  /* 45000, "SEK" -> "450.00 SEK", as the service's format_money writes it. */
  function formatMoney(amount, currency) {
    if (amount === null || amount === undefined || !currency) return null;
    currency = currency.toUpperCase();
    var digits = Object.prototype.hasOwnProperty.call(exponents, currency) ? exponents[currency] : 2;
    var text = String(Math.abs(amount));
    while (text.length <= digits) text = "0" + text;
    var whole = digits ? text.slice(0, text.length - digits) : text;
    var fraction = digits ? "." + text.slice(text.length - digits) : "";
    return (amount < 0 ? "-" : "") + whole + fraction + " " + currency;
  }

  // --- the API ---------------------------------------------------------------

  function apiError(status, body) {
    var response = body && body.ResponseStatus;
    var error = new Error(
      response ? status + " " + response.ErrorCode + ": " + response.Message : "HTTP " + status
    );
    error.details = ((response && response.Errors) || []).map(function (field) {
      return (field.FieldName ? field.FieldName + ": " : "") + field.Message;
    });
    return error;
  }

  /* POST a JSON body with the tab's API key; resolves with the response body. */
  function callApi(url, body) {
    var key = load(STORE.key);
    if (!key) {
      return Promise.reject(new Error("No API key yet: paste one in the API key box below."));
    }
    return fetch(url, {
      method: "POST",
      headers: {
        "X-Api-Key": key,
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return null;
        })
        .then(function (data) {
          if (!response.ok) throw apiError(response.status, data);
          return data;
        });
    });
  }

  // --- the API key box -------------------------------------------------------

  function setUpKeyPanel(onChange) {
    var form = byId("key-form");
    var field = byId("api-key");
    function describe() {
      var key = load(STORE.key);
      setText(
        "key-state",
        key
          ? "This tab uses the API key " + key.split(".")[0] + ".…"
          : "No API key in this tab yet: paste one here."
      );
      byId("key-panel").classList.toggle("missing", !key);
    }
    describe();
    // A #key=... link opened on this same page changes only the fragment: no reload.
    window.addEventListener("hashchange", function () {
      takeKeyFromFragment();
      describe();
      if (onChange) onChange();
    });
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!field.value.trim()) return;
      save(STORE.key, field.value.trim());
      field.value = "";
      describe();
      if (onChange) onChange();
    });
  }

  // --- /demo/: choose, create the checkout, pay ------------------------------

  function newReference() {
    var bytes = new Uint8Array(4);
    window.crypto.getRandomValues(bytes);
    return (
      "demo-" +
      Array.prototype.map
        .call(bytes, function (byte) {
          return byte.toString(16).padStart(2, "0");
        })
        .join("")
    );
  }

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var existing = document.querySelector('script[data-stripe-js="1"]');
      if (existing && typeof window.Stripe === "function") return resolve();
      var script = document.createElement("script");
      script.src = url;
      script.dataset.stripeJs = "1";
      script.onload = function () {
        resolve();
      };
      script.onerror = function () {
        reject(new Error("Could not load Stripe.js from " + url));
      };
      document.head.appendChild(script);
    });
  }

  function initCheckoutPage(root) {
    var form = byId("checkout-form");
    var reference = byId("reference");
    var button = byId("create-checkout");
    var rows = Array.prototype.slice.call(document.querySelectorAll("#articles tr.article"));
    var embedded = null;

    reference.value = load(STORE.reference) || newReference();
    byId("new-reference").addEventListener("click", function () {
      reference.value = newReference();
      save(STORE.reference, null);
    });

    function quantityOf(row) {
      var value = parseInt(row.querySelector("input.quantity").value, 10);
      return isNaN(value) || value < 0 ? 0 : value;
    }

    function updateTotal() {
      var total = rows.reduce(function (sum, row) {
        return sum + quantityOf(row) * parseInt(row.dataset.unitAmount, 10);
      }, 0);
      setText("total", formatMoney(total, root.dataset.currency));
    }
    rows.forEach(function (row) {
      row.querySelector("input.quantity").addEventListener("input", updateTotal);
    });
    updateTotal();

    function mountEmbedded(checkout) {
      var url = root.dataset.stripeJs;
      var publishableKey = root.dataset.publishableKey;
      if (!publishableKey) {
        return Promise.reject(new Error("Embedded mode needs STRIPE_PUBLISHABLE_KEY."));
      }
      return loadScript(url)
        .then(function () {
          if (typeof window.Stripe !== "function") {
            throw new Error("Stripe.js from " + url + " did not define Stripe().");
          }
          if (embedded) {
            embedded.destroy();
            embedded = null;
          }
          var stripe = window.Stripe(publishableKey, { stripeAccount: checkout.StripeAccount });
          return stripe.initEmbeddedCheckout({
            fetchClientSecret: function () {
              return Promise.resolve(checkout.ClientSecret);
            },
          });
        })
        .then(function (instance) {
          embedded = instance;
          byId("checkout-panel").hidden = false;
          instance.mount("#checkout");
          byId("checkout-panel").scrollIntoView({ behavior: "smooth", block: "start" });
        });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearError();
      var articles = rows
        .filter(function (row) {
          return quantityOf(row) > 0;
        })
        .map(function (row) {
          return {
            ArticleTypeId: parseInt(row.dataset.articleTypeId, 10),
            ArticleId: parseInt(row.dataset.articleId, 10),
            Quantity: quantityOf(row),
          };
        });
      var uiMode = form.querySelector('input[name="ui_mode"]:checked').value;
      var body = {
        CompanyId: root.dataset.companyId,
        CountryCode: byId("country").value.trim(),
        Articles: articles,
        InternalReferenceId: reference.value.trim(),
        UiMode: uiMode,
      };
      button.disabled = true;
      setText("progress", "Creating the checkout…");
      callApi(root.dataset.checkoutUrl, body)
        .then(function (checkout) {
          save(STORE.reference, body.InternalReferenceId);
          save(STORE.company, body.CompanyId);
          root.dataset.sessionId = checkout.SessionId;
          if (uiMode === "embedded") {
            setText("progress", "Checkout " + checkout.SessionId + ": pay below.");
            return mountEmbedded(checkout);
          }
          setText("progress", "Checkout " + checkout.SessionId + ": going to the payment page…");
          window.location.assign(checkout.Url);
        })
        .catch(function (error) {
          setText("progress", "");
          showError(error);
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  // --- /demo/confirmation: ask the status endpoint ----------------------------

  function initConfirmationPage(root) {
    var sessionId = new URLSearchParams(window.location.search).get("session_id");
    var named = new URLSearchParams(window.location.search).get("company");
    var company = named || load(STORE.company) || root.dataset.companyId;

    function refresh() {
      clearError();
      if (!sessionId) {
        showError(new Error("This address has no session_id."));
        return;
      }
      callApi(root.dataset.statusUrl, { CompanyId: company, SessionId: sessionId })
        .then(function (checkout) {
          setText("status", checkout.Status);
          setText("payment-status", checkout.PaymentStatus);
          setText("customer-email", checkout.CustomerEmail);
          setText("amount", formatMoney(checkout.AmountTotal, checkout.Currency));
          setText("reference", checkout.InternalReferenceId);
          setText("session-id", sessionId);
          byId("checkout-status").hidden = false;
          // A paid booking is done: the next one on this tab gets a new reference.
          var paid = checkout.Status === "complete" && checkout.PaymentStatus === "paid";
          if (paid && load(STORE.reference) === checkout.InternalReferenceId) {
            save(STORE.reference, null);
          }
        })
        .catch(showError);
    }

    setUpKeyPanel(refresh);
    byId("refresh-status").addEventListener("click", refresh);
    refresh();
  }

  // --- every page --------------------------------------------------------------

  takeKeyFromFragment();
  var root = byId("demo");
  if (!root) return;
  var company = load(STORE.company);
  var back = byId("back-link");
  if (back && company && company !== root.dataset.companyId) {
    back.href += "?company=" + encodeURIComponent(company);
  }
  if (root.dataset.page === "checkout") {
    setUpKeyPanel(null);
    initCheckoutPage(root);
  } else if (root.dataset.page === "confirmation") {
    initConfirmationPage(root);
  }
})();
