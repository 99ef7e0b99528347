/* The warning before a signed-in session ends (templates/_session_timeout.html; WCAG
   2.2.1). The server says how long the session has left when the page is drawn; the
   warning opens warning-seconds before the nearer end. "Stay logged in" (or Escape) asks
   the server to start the idle time again; the absolute limit is only announced. Once the
   session has ended the page stays as it is, so that what was typed can be copied. The
   tabs of one session share their deadlines (BroadcastChannel): activity in one tab
   moves the idle end of the others, so a tab left open does not warn while another is in
   use. */
(function () {
  "use strict";
  var dialog = document.getElementById("session-timeout");
  if (!dialog || typeof dialog.showModal !== "function") { return; }
  var settings = dialog.dataset;
  var warning = Number(settings.warningSeconds) * 1000;
  var idleEnd = 0, absoluteEnd = 0, absoluteWarned = false, timer = null;
  var tabs = "BroadcastChannel" in window ? new BroadcastChannel("tracker-session") : null;

  function show(state, endsAt) {
    dialog.querySelectorAll("[data-state]").forEach(function (block) {
      block.hidden = block.dataset.state !== state;
    });
    dialog.setAttribute("aria-labelledby", "session-" + state + "-heading");
    dialog.setAttribute("aria-describedby", "session-" + state + "-text");
    if (endsAt) {
      dialog.querySelectorAll("[data-ends-at]").forEach(function (time) {
        var moment = new Date(endsAt);
        time.dateTime = moment.toISOString();
        time.textContent = moment.toLocaleTimeString(document.documentElement.lang,
          { hour: "2-digit", minute: "2-digit" });
      });
    }
    dialog.dataset.state = state;
    if (!dialog.open) { dialog.showModal(); }
  }

  function plan() {
    clearTimeout(timer);
    var now = Date.now();
    var end = Math.min(idleEnd, absoluteEnd);
    if (now >= end) { show("ended"); return; }
    var state = absoluteEnd <= idleEnd ? "absolute" : "idle";
    var warnAt = end - warning;
    if (now >= warnAt && !(state === "absolute" && absoluteWarned)) {
      absoluteWarned = absoluteWarned || state === "absolute";
      show(state, end);
    }
    timer = setTimeout(plan, (now < warnAt ? warnAt : end) - now);
  }

  function start(idleSeconds, absoluteSeconds) {
    var now = Date.now();
    idleEnd = now + idleSeconds * 1000;
    absoluteEnd = now + absoluteSeconds * 1000;
    if (tabs) { tabs.postMessage({ started: settings.sessionStarted, idleEnd: idleEnd }); }
    plan();
  }

  // Another tab of the same session (the same login time) had activity later than this
  // one knows of. A tab of an earlier session stays as it is.
  if (tabs) {
    tabs.onmessage = function (event) {
      var other = event.data || {};
      if (other.started !== settings.sessionStarted || !(Number(other.idleEnd) > idleEnd)) {
        return;
      }
      idleEnd = Number(other.idleEnd);
      if (dialog.open && dialog.dataset.state === "idle") { dialog.close(); }
      plan();
    };
  }

  function stayLoggedIn() {
    fetch(settings.keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": settings.csrfToken }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (left) {
      dialog.close();
      start(left.idle_seconds, left.absolute_seconds);
    }).catch(function () { show("ended"); });
  }

  dialog.querySelector("[data-stay]").addEventListener("click", stayLoggedIn);
  dialog.querySelectorAll("[data-close]").forEach(function (button) {
    button.addEventListener("click", function () { dialog.close(); });
  });
  // Escape on the idle warning means "stay", as closing it without a choice would
  // otherwise leave the session to end
  dialog.addEventListener("cancel", function (event) {
    if (dialog.dataset.state === "idle") { event.preventDefault(); stayLoggedIn(); }
  });
  start(Number(settings.idleSeconds), Number(settings.absoluteSeconds));
})();
