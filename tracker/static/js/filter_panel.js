/* Filter panels (macro filter_panel): the <details> arrives open. On a phone it folds
   while no filter is chosen and none has an error (data-foldable), so the list comes
   first; on a wide screen its summary is hidden (CSS) and it opens again if a narrow
   window is widened. Loaded right after the panel, without defer, so a phone never paints
   it open first. */
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 47.99rem)");
  var panels = document.querySelectorAll("details.filter-panel");
  Array.prototype.forEach.call(panels, function (panel) {
    if (narrow.matches && panel.hasAttribute("data-foldable")) {
      panel.open = false;
    }
  });
  narrow.addEventListener("change", function (event) {
    if (!event.matches) {
      Array.prototype.forEach.call(panels, function (panel) { panel.open = true; });
    }
  });
})();
