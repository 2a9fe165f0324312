// The progress dashboard refreshes itself every minute while it is visible (no inline script: CSP-friendly).
(function () {
  var PERIOD_MS = 60000;
  setInterval(function () {
    if (document.visibilityState === "visible") { window.location.reload(); }
  }, PERIOD_MS);
})();
