/* File inputs that name the upload limit (data-max-bytes, forms.monitoring.UploadField): a
   larger file is refused as soon as it is chosen, with the server's own message
   (data-too-large), and the input is emptied. The server refuses a request over the limit
   whole, and everything typed in the form with it. Without this script the server's check
   still applies (progressive enhancement; CSP script-src 'self'). */
(function () {
  "use strict";

  function messageOf(input) {
    var id = input.id + "-too-large";
    var message = document.getElementById(id);
    if (!message) {
      message = document.createElement("p");
      message.id = id;
      message.className = "field-error";
      message.setAttribute("role", "alert");
      message.hidden = true;
      input.insertAdjacentElement("afterend", message);
    }
    return message;
  }

  function check(input) {
    var limit = Number(input.getAttribute("data-max-bytes"));
    var file = input.files && input.files[0];
    var message = messageOf(input);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(
      function (id) { return id && id !== message.id; }
    );
    if (file && limit && file.size > limit) {
      input.value = "";
      message.textContent = input.getAttribute("data-too-large");
      message.hidden = false;
      input.setAttribute("aria-invalid", "true");
      described.push(message.id);
    } else if (file) {
      message.hidden = true;
      input.removeAttribute("aria-invalid");
    }
    if (described.length) {
      input.setAttribute("aria-describedby", described.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  var inputs = document.querySelectorAll("input[type=file][data-max-bytes]");
  for (var i = 0; i < inputs.length; i += 1) {
    inputs[i].addEventListener("change", function (event) {
      check(event.target);
    });
  }
})();
