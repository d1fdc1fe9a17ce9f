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

  // Actions that cannot be undone ask first: hx-confirm for a fixed question, data-confirm-text
  // for a refund, whose question names the amount typed, read when the owner presses the button
  // (htmx fires htmx:confirm for every request; only the form that carries the text asks).
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirmText) return;
    var input = document.querySelector(form.dataset.confirmAmount || "#amount");
    var amount = input && input.value.trim() ? input.value.trim() : "the amount shown";
    event.preventDefault();
    var question = form.dataset.confirmText.replace("{amount}", amount)
      .replace("{currency}", form.dataset.confirmCurrency || "")
      .replace("{couple}", form.dataset.confirmCouple || "the couple");
    if (window.confirm(question)) event.detail.issueRequest(true);
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

// Long selects (time zones, currencies, locales) get a filter box: typing hides the options
// that do not match and selects the first that does. Without JS the select still works.
function makeSearchable(select) {
  if (select.dataset.searchReady) return;
  select.dataset.searchReady = "1";
  var box = document.createElement("input");
  box.type = "search";
  box.className = "select-filter";
  box.placeholder = "Type to filter " + select.dataset.searchable;
  box.setAttribute("aria-label", "Filter " + select.dataset.searchable);
  box.setAttribute("aria-controls", select.id);
  box.addEventListener("input", function () {
    var words = box.value.toLowerCase().split(/[\s/_]+/).filter(Boolean);
    var first = null;
    Array.prototype.forEach.call(select.options, function (option) {
      var text = (option.value + " " + option.textContent).toLowerCase();
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      option.hidden = !match;
      if (match && !first) first = option;
    });
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      group.hidden = !group.querySelector("option:not([hidden])");
    });
    if (first && words.length) select.value = first.value;
  });
  select.parentNode.insertBefore(box, select);
}
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-searchable]").forEach(makeSearchable);
});

// Fields that apply to one choice only: data-show-if="mode:deposit" shows its element while
// the control named "mode" has the value "deposit" (hidden elements are not submitted-relevant:
// the server ignores the other schedule's fields). Without JS every field shows.
function applyShowIf(root) {
  root.querySelectorAll("[data-show-if]").forEach(function (el) {
    var rule = el.getAttribute("data-show-if").split(":");
    var form = el.closest("form") || document;
    var checked = form.querySelector("[name='" + rule[0] + "']:checked") || form.querySelector("select[name='" + rule[0] + "']");
    if (checked) el.hidden = checked.value !== rule[1];
  });
}
document.addEventListener("DOMContentLoaded", function () { applyShowIf(document); });
document.addEventListener("change", function (event) {
  if (event.target.form) applyShowIf(event.target.form);
});
