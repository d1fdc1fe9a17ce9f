// Tell the user when an htmx request fails outright (5xx or no network), instead of nothing
// happening. 4xx answers are swapped in as fragments (see _macros/htmx_config.html).
(function () {
  function announce(message) {
    var box = document.getElementById("htmx-error");
    if (!box) return;
    box.textContent = message;
    box.className = "flash flash-error";
    setTimeout(function () { box.textContent = ""; box.className = ""; }, 8000);
  }
  document.addEventListener("htmx:responseError", function () {
    announce("Something went wrong on our side. Please try again in a moment.");
  });
  document.addEventListener("htmx:sendError", function () {
    announce("We could not reach the server. Check your connection and try again.");
  });
})();
