// Stripe's Payment Element on our card pages: the checkout (`#checkout`, confirms the
// PaymentIntent) and the autopay card page (`#save-card`, confirms a SetupIntent). Stripe.js
// runs the bank's check when there is one and redirects to the return page; an error (a
// declined card) is shown here and the couple can try another card.
(function () {
  "use strict";
  var root = document.getElementById("checkout") || document.getElementById("save-card");
  if (!root || typeof Stripe === "undefined") { return; }
  var saving_card = root.id === "save-card";
  // Direct charges: the intent lives on the vendor's connected account.
  var stripe = root.dataset.stripeAccount
    ? Stripe(root.dataset.publishableKey, {stripeAccount: root.dataset.stripeAccount})
    : Stripe(root.dataset.publishableKey);
  var elements = stripe.elements({clientSecret: root.dataset.clientSecret});
  elements.create("payment").mount("#payment-element");
  var form = root.querySelector("form");
  var button = form.querySelector("#pay-button, #save-button");
  var message = root.querySelector("#payment-message, #card-message");
  var savedButton = document.getElementById("pay-saved");
  var busy = false;
  // While the autopay choice is being saved (it tells Stripe to save the card or not), paying
  // waits: the payment must carry the couple's latest choice.
  var saving = 0;
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target && event.target.id === "autopay-offer") { saving += 1; button.disabled = true; }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.target && event.target.id === "autopay-offer") {
      saving = Math.max(0, saving - 1);
      if (!saving && !busy) { button.disabled = false; }
    }
  });

  function setBusy(on) {
    busy = on;
    button.disabled = on;
    if (savedButton) { savedButton.disabled = on; }
  }

  function confirm(params) {
    if (busy || saving) { return; }  // a double click confirms once
    setBusy(true);
    message.textContent = "";
    (saving_card ? stripe.confirmSetup(params) : stripe.confirmPayment(params))
      .then(function (result) {
        // Reached only when Stripe did not redirect, i.e. on an error.
        var error = result && result.error;
        message.textContent = error && error.message
          ? error.message + " Please check the details or try another card."
          : (saving_card ? "The card was not saved." : "The payment did not go through.") +
            " Please try another card.";
      }, function () {
        message.textContent = "We could not reach the payment provider. Please try again.";
      })
      .then(function () { setBusy(false); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    confirm({elements: elements, confirmParams: {return_url: root.dataset.returnUrl}});
  });
  if (savedButton) {
    // The saved card of an automatic payment the bank wants confirmed: Stripe.js shows the
    // bank's check, then returns to the return page like any payment.
    savedButton.addEventListener("click", function () {
      confirm({clientSecret: root.dataset.clientSecret,
               confirmParams: {payment_method: savedButton.dataset.paymentMethod,
                               return_url: root.dataset.returnUrl}});
    });
  }
}());
