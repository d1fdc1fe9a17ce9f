// The public booking page: when the package, an add-on or the date changes, the terms panel
// fetches the terms for the new choice (htmx event filters would need eval, which CSP forbids).
(function () {
  var watched = { package_id: true, add_on_ids: true, event_date: true };
  document.addEventListener("change", function (event) {
    var terms = document.getElementById("terms");
    if (terms && event.target && watched[event.target.name] && window.htmx) {
      window.htmx.trigger(terms, "terms:refresh");
    }
  });
})();
