// MPASSid management: small enhancements of pages that work without
// JavaScript. Served from the same origin (the CSP allows no inline script).
(function () {
  "use strict";
  // Copy buttons next to the generated client_id and secret.
  document.querySelectorAll(".js-copy").forEach(function (btn) {
    if (!navigator.clipboard) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var el = document.getElementById(btn.getAttribute("data-copy"));
      var status = document.querySelector(".copy-status");
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        if (status) { status.textContent = status.getAttribute("data-copied"); }
      });
    });
  });
  // Allowed services: "clear" and choosing a set act in place; the server
  // still asks to confirm before anything is saved.
  var form = document.querySelector(".services-form");
  if (form) {
    var boxes = form.querySelectorAll("input[name=set]");
    var selected = form.querySelector("#mode-selected");
    var clear = form.querySelector(".js-clear");
    if (clear) {
      clear.addEventListener("click", function (ev) {
        ev.preventDefault();
        boxes.forEach(function (b) { b.checked = false; });
        if (selected) { selected.checked = true; }
        if (boxes.length) { boxes[0].focus(); }
      });
    }
    boxes.forEach(function (b) {
      b.addEventListener("change", function () { if (b.checked && selected) { selected.checked = true; } });
    });
  }
  // Move focus to the error summary so that screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
