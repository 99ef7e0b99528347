/* The update form's evidence slots: the details of a request for information open when
   that type is chosen, and stay closed for the other types. Without this script every
   field shows, so the form works the same (progressive enhancement; CSP script-src 'self'). */
(function () {
  "use strict";

  var REQUEST_TYPE = "information_request";

  /* Fields that hold a value or an error stay in view, whatever the type says. */
  function holdsSomething(group) {
    if (group.querySelector(".field-error")) {
      return true;
    }
    var fields = group.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i += 1) {
      if (fields[i].value) {
        return true;
      }
    }
    return false;
  }

  function setUp(slot) {
    var type = slot.querySelector("select[data-evidence-type]");
    var group = slot.querySelector("[data-request-fields]");
    if (!type || !group) {
      return;
    }
    if (group.id) {
      type.setAttribute("aria-controls", group.id);
    }
    function show() {
      var open = type.value === REQUEST_TYPE || holdsSomething(group);
      group.hidden = !open;
    }
    type.addEventListener("change", show);
    show();
  }

  var slots = document.querySelectorAll("[data-evidence-slot]");
  for (var i = 0; i < slots.length; i += 1) {
    setUp(slots[i]);
  }
})();
