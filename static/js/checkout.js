// The checkout page: mount Stripe's Payment Element and confirm the PaymentIntent.
// On success Stripe.js redirects to the return page; an error (a declined card) is shown here
// and the couple can try another card on the same PaymentIntent.
(function () {
  "use strict";
  var root = document.getElementById("checkout");
  if (!root || typeof Stripe === "undefined") { return; }
  // Direct charges: the PaymentIntent lives on the vendor's connected account.
  var stripe = root.dataset.stripeAccount
    ? Stripe(root.dataset.publishableKey, {stripeAccount: root.dataset.stripeAccount})
    : Stripe(root.dataset.publishableKey);
  var elements = stripe.elements({clientSecret: root.dataset.clientSecret});
  elements.create("payment").mount("#payment-element");
  var form = document.getElementById("payment-form");
  var button = document.getElementById("pay-button");
  var message = document.getElementById("payment-message");
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

  function confirm(params) {
    if (busy || saving) { return; }  // a double click confirms once
    busy = true;
    button.disabled = true;
    if (savedButton) { savedButton.disabled = true; }
    message.textContent = "";
    stripe.confirmPayment(params)
      .then(function (result) {
        // Reached only when Stripe did not redirect, i.e. on an error.
        var error = result && result.error;
        message.textContent = error && error.message
          ? error.message + " Please check the details or try another card."
          : "The payment did not go through. Please try another card.";
      }, function () {
        message.textContent = "We could not reach the payment provider. Please try again.";
      })
      .then(function () {
        busy = false;
        button.disabled = false;
        if (savedButton) { savedButton.disabled = false; }
      });
  }

  var savedButton = document.getElementById("pay-saved");
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
