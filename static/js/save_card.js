// The card page: save a card for automatic payments with Stripe's SetupIntent. Stripe.js
// shows the bank's check if there is one, then returns to the return page, which switches
// autopay to the new card. An error (a declined card) is shown here.
(function () {
  "use strict";
  var root = document.getElementById("save-card");
  if (!root || typeof Stripe === "undefined") { return; }
  var stripe = root.dataset.stripeAccount
    ? Stripe(root.dataset.publishableKey, {stripeAccount: root.dataset.stripeAccount})
    : Stripe(root.dataset.publishableKey);
  var elements = stripe.elements({clientSecret: root.dataset.clientSecret});
  elements.create("payment").mount("#payment-element");
  var form = document.getElementById("card-form");
  var button = document.getElementById("save-button");
  var message = document.getElementById("card-message");
  var busy = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    button.disabled = true;
    message.textContent = "";
    stripe.confirmSetup({elements: elements, confirmParams: {return_url: root.dataset.returnUrl}})
      .then(function (result) {
        var error = result && result.error;
        message.textContent = error && error.message
          ? error.message + " Please check the details or try another card."
          : "The card was not saved. Please try another card.";
      }, function () {
        message.textContent = "We could not reach the payment provider. Please try again.";
      })
      .then(function () { busy = false; button.disabled = false; });
  });
}());
