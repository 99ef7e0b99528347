/* Printing shows the text that a folded <details data-print-open> holds (the Azerbaijani
   original beside an English text, an agency's spellings), and folds it back afterwards.
   Other folds stay as they are: a chart's table of figures would only repeat the chart. */
(function () {
  "use strict";
  var opened = [];
  window.addEventListener("beforeprint", function () {
    var folded = document.querySelectorAll("main details[data-print-open]:not([open])");
    opened = Array.prototype.slice.call(folded);
    opened.forEach(function (details) { details.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (details) { details.open = false; });
    opened = [];
  });
})();
