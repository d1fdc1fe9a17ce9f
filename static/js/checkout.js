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
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }  // a double click confirms once
    busy = true;
    button.disabled = true;
    message.textContent = "";
    stripe.confirmPayment({elements: elements, confirmParams: {return_url: root.dataset.returnUrl}})
      .then(function (result) {
        // Reached only when Stripe did not redirect, i.e. on an error.
        var error = result && result.error;
        message.textContent = error && error.message
          ? error.message + " Please check the details or try another card."
          : "The payment did not go through. Please try another card.";
      }, function () {
        message.textContent = "We could not reach the payment provider. Please try again.";
      })
      .then(function () { busy = false; button.disabled = false; });
  });
}());
