/* A table wider than the screen scrolls in its .table-wrap. While it does, the box takes
   the keyboard's focus (tabindex 0), so that the arrow keys scroll it in every browser; a
   screen reader names it by the table's caption, unless a named section around it already
   says the same. A table that fits adds no tab stop. */
(function () {
  "use strict";
  var count = 0;
  function update(wrap) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      wrap.tabIndex = 0;
      var caption = wrap.querySelector("caption");
      if (caption && !wrap.closest("section[aria-labelledby], section[aria-label]")) {
        if (!caption.id) { caption.id = "table-caption-" + (count += 1); }
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-labelledby", caption.id);
      }
    } else {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
      wrap.removeAttribute("aria-labelledby");
    }
  }
  function start() {
    var wraps = document.querySelectorAll(".table-wrap");
    if (!wraps.length) { return; }
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { update(entry.target); });
    });
    wraps.forEach(function (wrap) { update(wrap); observer.observe(wrap); });
  }
  start();
})();
