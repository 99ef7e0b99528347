/* File inputs, progressively enhanced (CSP script-src 'self'; without this script the
   browser's own input and the server's checks still apply):
   - data-choose, data-no-file (web.forms.FileChoiceField): the browser draws the input's
     button and "no file" words in the browser's language, so the input is hidden (it stays
     focusable, and keeps its label for screen readers) behind a button and a file name
     in the page's language;
   - data-max-bytes, data-too-large (forms.monitoring.UploadField): a larger file is refused
     as soon as it is chosen, with the server's own message, and the input is emptied. The
     server refuses a request over the limit whole, and everything typed in the form with
     it. */
(function () {
  "use strict";

  /* The button and the chosen file's name, after the input. */
  function addPicker(input) {
    var picker = document.createElement("span");
    picker.className = "file-picker";
    picker.setAttribute("aria-hidden", "true");  // the input itself speaks for them
    // not a <label>: a second label would join the input's name ("… Fayl seçin")
    var choose = document.createElement("span");
    choose.className = "button button-secondary file-choose";
    choose.textContent = input.getAttribute("data-choose");
    choose.addEventListener("click", function () { input.click(); });
    var name = document.createElement("span");
    name.className = "file-name";
    picker.appendChild(choose);
    picker.appendChild(name);
    input.insertAdjacentElement("afterend", picker);
    input.classList.add("file-enhanced");
    showName(input);
  }

  function showName(input) {
    var picker = input.nextElementSibling;
    if (!picker || !picker.classList.contains("file-picker")) {
      return;
    }
    var file = input.files && input.files[0];
    picker.querySelector(".file-name").textContent = file
      ? file.name
      : input.getAttribute("data-no-file");
  }

  /* The message, after the input and its picker. */
  function messageOf(input) {
    var id = input.id + "-too-large";
    var message = document.getElementById(id);
    if (!message) {
      message = document.createElement("p");
      message.id = id;
      message.className = "field-error";
      message.setAttribute("role", "alert");
      message.hidden = true;
      var last = input.classList.contains("file-enhanced") ? input.nextElementSibling : input;
      last.insertAdjacentElement("afterend", message);
    }
    return message;
  }

  function checkSize(input) {
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

  var inputs = document.querySelectorAll("input[type=file]");
  for (var i = 0; i < inputs.length; i += 1) {
    if (inputs[i].hasAttribute("data-choose") && inputs[i].id) {
      addPicker(inputs[i]);
    }
    inputs[i].addEventListener("change", function (event) {
      if (event.target.hasAttribute("data-max-bytes")) {
        checkSize(event.target);
      }
      showName(event.target);
    });
  }
})();
