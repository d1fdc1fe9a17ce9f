// Our page behaviour, loaded on every page. No inline scripts: the CSP allows only 'self'.
(function () {
  // Tell the user when an htmx request fails outright (5xx or no network), instead of nothing
  // happening. 4xx answers are swapped in as fragments (see _macros/htmx_config.html).
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

  // The dashboard menu collapses behind a button on a phone.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".nav-toggle");
    if (!toggle) return;
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.closest(".sidenav").classList.toggle("open", open);
  });

  // A submit button shows it is busy and a second click does not post twice. htmx forms get
  // the same look from the htmx-request class (see app.css).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.method.toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
    if (form.dataset.busy === "1") { event.preventDefault(); return; }
    form.dataset.busy = "1";
    var button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    if (button) button.setAttribute("aria-busy", "true");
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      delete form.dataset.busy;
      form.querySelectorAll("[aria-busy]").forEach(function (b) { b.removeAttribute("aria-busy"); });
    });
  });

  // Tables become stacked lists on a phone: each cell is labelled with its column heading.
  function labelCells(root) {
    root.querySelectorAll("table:not(.calendar):not(.no-stack)").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      if (!heads.length) return;
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          if (heads[col] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[col]);
          col += cell.colSpan || 1;
        });
      });
      table.classList.add("stack");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { labelCells(document); });
  document.addEventListener("htmx:afterSettle", function (event) { labelCells(event.target.parentNode || document); });
})();

// "Copy" buttons: data-copy names the field whose value goes to the clipboard.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.querySelector(button.getAttribute("data-copy"));
  if (!field) return;
  field.select();
  var done = function () { button.textContent = "Copied"; };
  if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, function () {});
  else if (document.execCommand("copy")) done();
});
