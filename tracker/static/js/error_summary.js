/* A form that came back with errors opens on its summary (macro error_summary), so that a
   screen reader reads it first and a keyboard user tabs from it to the fields' links. */
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
})();
