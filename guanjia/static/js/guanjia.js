/* Guanjia's own behaviour, kept out of the pages: the Content-Security-Policy allows
   no inline script and no inline style attribute (guanjia/core/http.py). */
(function () {
  "use strict";

  // A progress bar's width comes from data-progress-width (0-100). Setting it through
  // the CSSOM is allowed by the policy; a style="" attribute in the HTML would not be.
  function sizeProgressBars(root) {
    var bars = root.querySelectorAll ? root.querySelectorAll("[data-progress-width]") : [];
    if (root.matches && root.matches("[data-progress-width]")) {
      bars = [root].concat(Array.prototype.slice.call(bars));
    }
    Array.prototype.forEach.call(bars, function (bar) {
      var value = Math.max(0, Math.min(100, parseInt(bar.getAttribute("data-progress-width"), 10) || 0));
      bar.style.width = value + "%";
    });
  }

  if (window.htmx) {
    // Runs for the page once loaded and for every piece of content htmx swaps in.
    window.htmx.onLoad(sizeProgressBars);
  } else {
    document.addEventListener("DOMContentLoaded", function () { sizeProgressBars(document); });
  }
})();
