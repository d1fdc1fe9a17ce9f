/*
 * Stand-in for Stripe.js v3, served by the Stripe simulator at /js/v3/.
 *
 * Supports the subset MAIS uses: Stripe(publishableKey), stripe.elements({clientSecret}),
 * elements.create("payment").mount(selectorOrElement), elements.submit(),
 * stripe.confirmPayment({elements?, clientSecret?, confirmParams: {return_url, payment_method?},
 * redirect}), stripe.confirmSetup(same shape, for a SetupIntent), stripe.retrievePaymentIntent,
 * stripe.retrieveSetupIntent(clientSecret) and stripe.handleNextAction({clientSecret}).
 *
 * When an intent answers status "requires_action" (a card asking for 3D Secure), an in-page
 * dialog (role="dialog", buttons "Complete authentication" / "Fail authentication"; Escape
 * fails) stands in for the bank's challenge and posts the answer to the simulator's
 * /v1/<payment|setup>_intents/<id>/_authenticate route, then the call resolves or redirects as
 * Stripe.js does: a failed authentication resolves with {error} (code
 * payment_intent_authentication_failure / setup_intent_authentication_failure).
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
    ".sim-pe .sim-error{color:#b3261e;font-size:14px;margin:0;min-height:1em}",
    ".sim-3ds-backdrop{position:fixed;inset:0;z-index:2147483647;display:flex;",
    "align-items:center;justify-content:center;background:rgba(0,0,0,.5)}",
    ".sim-3ds{box-sizing:border-box;width:calc(100% - 32px);max-width:380px;padding:20px;",
    "border-radius:10px;background:#fff;color:#1a1a1a;font:16px/1.4 system-ui,sans-serif}",
    ".sim-3ds h2{font-size:20px;margin:0 0 8px}.sim-3ds p{margin:0 0 16px}",
    ".sim-3ds button{display:block;width:100%;min-height:44px;margin-top:8px;font:inherit;",
    "border-radius:6px;border:1px solid #635bff;cursor:pointer}",
    ".sim-3ds .sim-3ds-ok{background:#635bff;color:#fff}",
    ".sim-3ds .sim-3ds-fail{background:#fff;color:#3d35c7}",
    ".sim-3ds button:focus{outline:3px solid #635bff88;outline-offset:2px}"
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

  // The bank's 3D Secure challenge: resolves "complete" or "fail" with the cardholder's choice.
  function authenticationDialog(kind) {
    injectStyle();
    var n = ++uid;
    var what = kind === "setup_intents" ? "card" : "payment";
    var backdrop = document.createElement("div");
    backdrop.className = "sim-3ds-backdrop";
    backdrop.innerHTML =
      '<div class="sim-3ds" role="dialog" aria-modal="true" aria-labelledby="sim-3ds-title-' + n +
      '" aria-describedby="sim-3ds-text-' + n + '">' +
      '<h2 id="sim-3ds-title-' + n + '">Authenticate this ' + what + '</h2>' +
      '<p id="sim-3ds-text-' + n + '">Your bank asks you to confirm it is you (test mode: ' +
      'the simulator stands in for 3D Secure).</p>' +
      '<button type="button" class="sim-3ds-ok">Complete authentication</button>' +
      '<button type="button" class="sim-3ds-fail">Fail authentication</button></div>';
    var opener = document.activeElement;
    document.body.appendChild(backdrop);
    return new Promise(function (resolve) {
      function answer(result) {
        document.removeEventListener("keydown", onKey, true);
        backdrop.parentNode.removeChild(backdrop);
        if (opener && opener.focus) opener.focus();
        resolve(result);
      }
      var ok = backdrop.querySelector(".sim-3ds-ok"), fail = backdrop.querySelector(".sim-3ds-fail");
      function onKey(e) {
        if (e.key === "Escape") { e.preventDefault(); answer("fail"); }
        if (e.key === "Tab") {  // keep focus inside the modal dialog
          e.preventDefault();
          (document.activeElement === ok ? fail : ok).focus();
        }
      }
      document.addEventListener("keydown", onKey, true);
      ok.addEventListener("click", function () { answer("complete"); });
      fail.addEventListener("click", function () { answer("fail"); });
      ok.focus();
    });
  }

  // "pi_..._secret_..." or "seti_..._secret_..." -> where the intent lives in the API.
  function intentOf(clientSecret) {
    var id = String(clientSecret || "").split("_secret_")[0];
    var kind = id.indexOf("seti_") === 0 ? "setup_intents" : "payment_intents";
    return { id: id, kind: kind, path: "/v1/" + kind + "/" + id,
             key: kind === "setup_intents" ? "setupIntent" : "paymentIntent",
             param: kind === "setup_intents" ? "setup_intent" : "payment_intent" };
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

    function retrieve(clientSecret) {
      var intent = intentOf(clientSecret);
      return call("GET", intent.path, { client_secret: clientSecret }).then(function (json) {
        if (json.error) return { error: json.error };
        var out = {};
        out[intent.key] = json;
        return out;
      });
    }

    // Show the bank's challenge when the intent asks for it; resolves the intent's final JSON.
    function nextAction(intent, json, clientSecret) {
      if (json.error || json.status !== "requires_action") return Promise.resolve(json);
      return authenticationDialog(intent.kind).then(function (result) {
        return call("POST", intent.path + "/_authenticate",
                    { client_secret: clientSecret, result: result });
      });
    }

    // Stripe.js's answer: {error} (with the intent), {paymentIntent|setupIntent}, or a redirect.
    function settle(intent, json, clientSecret, redirect, returnUrl) {
      if (json.error) return { error: json.error };
      var failure = json.last_payment_error || json.last_setup_error;
      if (json.status === "requires_payment_method" && failure) {
        var error = Object.assign({}, failure);
        error[intent.param] = json;
        return { error: error };
      }
      if (redirect === "if_required") {
        var out = {};
        out[intent.key] = json;
        return out;
      }
      var status = json.status === "succeeded" ? "succeeded" :
        json.status === "processing" ? "processing" : "failed";
      var url = new URL(returnUrl, window.location.href);
      url.searchParams.set(intent.param, json.id);
      url.searchParams.set(intent.param + "_client_secret", clientSecret);
      url.searchParams.set("redirect_status", status);
      window.location.assign(url.toString());
      return new Promise(function () {});  // like Stripe.js: never resolves on redirect
    }

    // confirmPayment and confirmSetup: a saved payment_method, or the card typed in the element.
    function confirmIntent(opts, name) {
      opts = opts || {};
      var elements = opts.elements;
      var confirmParams = opts.confirmParams || {};
      var redirect = opts.redirect || "always";
      var clientSecret = opts.clientSecret || (elements && elements._clientSecret);
      if (!clientSecret) return Promise.reject(new Error("IntegrationError: missing clientSecret"));
      if (redirect !== "if_required" && !confirmParams.return_url) {
        return Promise.reject(new Error("IntegrationError: stripe." + name + "(): expected confirmParams.return_url"));
      }
      var params = { client_secret: clientSecret };
      if (confirmParams.payment_method) {
        params.payment_method = confirmParams.payment_method;
      } else {
        var element = elements && elements._payment;
        if (!element) return Promise.reject(new Error("IntegrationError: mount a payment element first"));
        var data = element._cardData();
        if (data.error) return Promise.resolve({ error: data.error });
        params.payment_method_data = { type: "card", card: data.card };
      }
      if (confirmParams.return_url) params.return_url = confirmParams.return_url;
      if (confirmParams.receipt_email) params.receipt_email = confirmParams.receipt_email;
      var intent = intentOf(clientSecret);
      return call("POST", intent.path + "/confirm", params)
        .then(function (json) { return nextAction(intent, json, clientSecret); })
        .then(function (json) {
          return settle(intent, json, clientSecret, redirect, confirmParams.return_url);
        });
    }

    return {
      _publishableKey: publishableKey,
      elements: function (options) { return new Elements(this, options); },
      retrievePaymentIntent: retrieve,
      retrieveSetupIntent: retrieve,
      confirmPayment: function (opts) { return confirmIntent(opts, "confirmPayment"); },
      confirmSetup: function (opts) { return confirmIntent(opts, "confirmSetup"); },

      // After a server-side confirm answered requires_action: run the challenge in the page.
      handleNextAction: function (opts) {
        var clientSecret = opts && opts.clientSecret;
        var intent = intentOf(clientSecret);
        return call("GET", intent.path, { client_secret: clientSecret })
          .then(function (json) { return nextAction(intent, json, clientSecret); })
          .then(function (json) { return settle(intent, json, clientSecret, "if_required"); });
      }
    };
  }

  window.Stripe = makeStripe;
})();
