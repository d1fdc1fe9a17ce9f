/*
 * Stand-in for Stripe.js v3, served by the Stripe simulator at /js/v3/.
 *
 * Supports the subset MAIS uses: Stripe(publishableKey), stripe.elements({clientSecret}),
 * elements.create("payment").mount(selectorOrElement), elements.submit(),
 * stripe.confirmPayment({elements, confirmParams: {return_url}, redirect}) and
 * stripe.retrievePaymentIntent(clientSecret).
 *
 * Differences from the real thing, on purpose: the card form is rendered directly in the page
 * (no iframe) so tests can fill it by its labels, and the card number travels to the simulator
 * as payment_method_data. The API base is the origin this script was loaded from, unless
 * window.STRIPE_SIM_API_BASE is set before it loads.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var API_BASE = window.STRIPE_SIM_API_BASE ||
    (script && script.src ? new URL(script.src).origin : window.location.origin);
  var uid = 0;

  var STYLE = [
    ".sim-pe{font:16px/1.4 system-ui,-apple-system,sans-serif;color:#1a1a1a;display:grid;gap:12px}",
    ".sim-pe label{display:block;font-size:14px;font-weight:600;margin-bottom:4px}",
    ".sim-pe input{box-sizing:border-box;width:100%;min-height:44px;padding:10px 12px;",
    "font-size:16px;border:1px solid #8a8f98;border-radius:6px;background:#fff;color:inherit}",
    ".sim-pe input:focus{outline:3px solid #635bff55;border-color:#635bff}",
    ".sim-pe input[aria-invalid=true]{border-color:#c0392b}",
    ".sim-pe .sim-row{display:flex;flex-wrap:wrap;gap:12px}",
    ".sim-pe .sim-row>div{flex:1 1 120px;min-width:0}",
    ".sim-pe .sim-error{color:#b3261e;font-size:14px;margin:0;min-height:1em}"
  ].join("");

  function injectStyle() {
    if (document.getElementById("sim-stripe-style")) return;
    var el = document.createElement("style");
    el.id = "sim-stripe-style";
    el.textContent = STYLE;
    document.head.appendChild(el);
  }

  // Stripe's form encoding: nested objects become key[sub]=value.
  function encode(params, prefix, out) {
    out = out || [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      var key = prefix ? prefix + "[" + k + "]" : k;
      if (v === undefined || v === null) return;
      if (typeof v === "object") encode(v, key, out);
      else out.push(encodeURIComponent(key) + "=" + encodeURIComponent(String(v)));
    });
    return out.join("&");
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = +digits[digits.length - 1 - i];
      if (i % 2) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function validationError(code, message, field) {
    return { type: "validation_error", code: code, message: message, param: field };
  }

  function PaymentElement(elements) {
    this._elements = elements;
    this._handlers = {};
    this._root = null;
  }

  PaymentElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };

  PaymentElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).forEach(function (h) { h(payload); });
  };

  PaymentElement.prototype.mount = function (target) {
    var host = typeof target === "string" ? document.querySelector(target) : target;
    if (!host) throw new Error("IntegrationError: mount target not found: " + target);
    injectStyle();
    var n = ++uid;
    var root = document.createElement("div");
    root.className = "sim-pe";
    root.setAttribute("data-testid", "payment-element");
    root.innerHTML =
      '<div><label for="sim-number-' + n + '">Card number</label>' +
      '<input id="sim-number-' + n + '" name="cardnumber" inputmode="numeric" ' +
      'autocomplete="cc-number" placeholder="1234 1234 1234 1234" maxlength="23" ' +
      'aria-describedby="sim-error-' + n + '"></div>' +
      '<div class="sim-row"><div><label for="sim-exp-' + n + '">Expiration date (MM / YY)</label>' +
      '<input id="sim-exp-' + n + '" name="exp-date" inputmode="numeric" autocomplete="cc-exp" ' +
      'placeholder="MM / YY" maxlength="7" aria-describedby="sim-error-' + n + '"></div>' +
      '<div><label for="sim-cvc-' + n + '">CVC</label>' +
      '<input id="sim-cvc-' + n + '" name="cvc" inputmode="numeric" autocomplete="cc-csc" ' +
      'placeholder="CVC" maxlength="4" aria-describedby="sim-error-' + n + '"></div></div>' +
      '<p class="sim-error" id="sim-error-' + n + '" role="alert" aria-live="polite"></p>';
    host.appendChild(root);
    this._root = root;
    this._number = root.querySelector("[name=cardnumber]");
    this._exp = root.querySelector("[name=exp-date]");
    this._cvc = root.querySelector("[name=cvc]");
    this._error = root.querySelector(".sim-error");
    var self = this;
    this._number.addEventListener("input", function () {
      var d = self._number.value.replace(/\D/g, "").slice(0, 19);
      self._number.value = d.replace(/(\d{4})(?=\d)/g, "$1 ");
      self._changed();
    });
    this._exp.addEventListener("input", function (e) {
      var d = self._exp.value.replace(/\D/g, "").slice(0, 4);
      var deleting = e.inputType && e.inputType.indexOf("delete") === 0;
      self._exp.value = d.length > 2 || (d.length === 2 && !deleting) ?
        d.slice(0, 2) + " / " + d.slice(2) : d;
      self._changed();
    });
    this._cvc.addEventListener("input", function () {
      self._cvc.value = self._cvc.value.replace(/\D/g, "").slice(0, 4);
      self._changed();
    });
    setTimeout(function () { self._emit("ready", { elementType: "payment" }); }, 0);
    return this;
  };

  PaymentElement.prototype._changed = function () {
    var v = this._values();
    var err = this._validate(v, false);
    this._showError(null);
    this._emit("change", {
      elementType: "payment", empty: !v.number && !v.exp && !v.cvc,
      complete: !err, value: { type: "card" }
    });
  };

  PaymentElement.prototype._values = function () {
    return {
      number: this._number.value.replace(/\D/g, ""),
      exp: this._exp.value.replace(/\D/g, ""),
      cvc: this._cvc.value.replace(/\D/g, "")
    };
  };

  // Returns the first problem with the typed card, or null when it is complete and plausible.
  PaymentElement.prototype._validate = function (v) {
    if (v.number.length < 13) return validationError("incomplete_number", "Your card number is incomplete.", "number");
    if (!luhn(v.number)) return validationError("invalid_number", "Your card number is invalid.", "number");
    if (v.exp.length < 4) return validationError("incomplete_expiry", "Your card's expiration date is incomplete.", "exp");
    var month = +v.exp.slice(0, 2), year = 2000 + +v.exp.slice(2, 4), now = new Date();
    if (month < 1 || month > 12) return validationError("invalid_expiry_month", "Your card's expiration month is invalid.", "exp");
    if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1))
      return validationError("invalid_expiry_year_past", "Your card's expiration year is in the past.", "exp");
    if (v.cvc.length < 3) return validationError("incomplete_cvc", "Your card's security code is incomplete.", "cvc");
    return null;
  };

  PaymentElement.prototype._showError = function (err) {
    var fields = { number: this._number, exp: this._exp, cvc: this._cvc };
    Object.keys(fields).forEach(function (k) {
      fields[k].setAttribute("aria-invalid", err && err.param === k ? "true" : "false");
    });
    this._error.textContent = err ? err.message : "";
  };

  PaymentElement.prototype._cardData = function () {
    var v = this._values();
    var err = this._validate(v);
    this._showError(err);
    if (err) return { error: err };
    return { card: { number: v.number, exp_month: +v.exp.slice(0, 2), exp_year: 2000 + +v.exp.slice(2, 4), cvc: v.cvc } };
  };

  PaymentElement.prototype.focus = function () { if (this._number) this._number.focus(); };
  PaymentElement.prototype.clear = function () {
    [this._number, this._exp, this._cvc].forEach(function (i) { if (i) i.value = ""; });
  };
  PaymentElement.prototype.update = function () { return this; };
  PaymentElement.prototype.unmount = function () {
    if (this._root && this._root.parentNode) this._root.parentNode.removeChild(this._root);
  };
  PaymentElement.prototype.destroy = PaymentElement.prototype.unmount;

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = options || {};
    this._clientSecret = this._options.clientSecret;
    this._payment = null;
  }

  Elements.prototype.create = function (type) {
    if (type !== "payment" && type !== "card") {
      throw new Error("IntegrationError: the simulator supports only the payment element");
    }
    this._payment = new PaymentElement(this);
    return this._payment;
  };
  Elements.prototype.getElement = function (type) {
    return type === "payment" || type === "card" ? this._payment : null;
  };
  Elements.prototype.update = function (opts) {
    Object.assign(this._options, opts || {});
    if (opts && opts.clientSecret) this._clientSecret = opts.clientSecret;
  };
  Elements.prototype.fetchUpdates = function () { return Promise.resolve({}); };
  Elements.prototype.submit = function () {
    if (!this._payment) return Promise.resolve({ error: validationError("missing_element", "No payment element is mounted.") });
    var data = this._payment._cardData();
    return Promise.resolve(data.error ? { error: data.error } : {});
  };

  function makeStripe(publishableKey, stripeOptions) {
    // Stripe(pk, {stripeAccount}) acts on a connected account (direct charges).
    var stripeAccount = stripeOptions && stripeOptions.stripeAccount;
    if (!publishableKey || publishableKey.indexOf("pk_") !== 0) {
      throw new Error("IntegrationError: Stripe() needs a publishable key (pk_test_...)");
    }

    function call(method, path, params) {
      var body = encode(Object.assign({ key: publishableKey }, params));
      var url = API_BASE + path + (method === "GET" ? "?" + body : "");
      var headers = method === "GET" ? {} : { "Content-Type": "application/x-www-form-urlencoded" };
      if (stripeAccount) headers["Stripe-Account"] = stripeAccount;
      var init = method === "GET" ? { method: "GET", headers: headers } : {
        method: "POST", body: body, headers: headers
      };
      return fetch(url, init).then(function (resp) {
        return resp.json();
      }).catch(function (e) {
        return { error: { type: "api_connection_error", message: "Could not reach the payment service: " + e } };
      });
    }

    function piId(clientSecret) { return String(clientSecret || "").split("_secret_")[0]; }

    return {
      _publishableKey: publishableKey,
      elements: function (options) { return new Elements(this, options); },

      retrievePaymentIntent: function (clientSecret) {
        return call("GET", "/v1/payment_intents/" + piId(clientSecret), { client_secret: clientSecret })
          .then(function (json) { return json.error ? { error: json.error } : { paymentIntent: json }; });
      },

      confirmPayment: function (opts) {
        opts = opts || {};
        var elements = opts.elements;
        var confirmParams = opts.confirmParams || {};
        var redirect = opts.redirect || "always";
        var clientSecret = opts.clientSecret || (elements && elements._clientSecret);
        if (!clientSecret) return Promise.reject(new Error("IntegrationError: missing clientSecret"));
        if (redirect !== "if_required" && !confirmParams.return_url) {
          return Promise.reject(new Error("IntegrationError: stripe.confirmPayment(): expected confirmParams.return_url"));
        }
        var element = elements && elements._payment;
        if (!element) return Promise.reject(new Error("IntegrationError: mount a payment element first"));
        var data = element._cardData();
        if (data.error) return Promise.resolve({ error: data.error });
        var params = {
          client_secret: clientSecret,
          payment_method_data: { type: "card", card: data.card }
        };
        if (confirmParams.return_url) params.return_url = confirmParams.return_url;
        if (confirmParams.receipt_email) params.receipt_email = confirmParams.receipt_email;
        return call("POST", "/v1/payment_intents/" + piId(clientSecret) + "/confirm", params)
          .then(function (json) {
            if (json.error) return { error: json.error };
            var pi = json;
            if (redirect === "if_required" && pi.status !== "requires_action") {
              return { paymentIntent: pi };
            }
            var status = pi.status === "succeeded" ? "succeeded" :
              pi.status === "processing" ? "processing" : "failed";
            var url = new URL(confirmParams.return_url, window.location.href);
            url.searchParams.set("payment_intent", pi.id);
            url.searchParams.set("payment_intent_client_secret", clientSecret);
            url.searchParams.set("redirect_status", status);
            window.location.assign(url.toString());
            return new Promise(function () {});  // like Stripe.js: never resolves on redirect
          });
      }
    };
  }

  window.Stripe = makeStripe;
})();
