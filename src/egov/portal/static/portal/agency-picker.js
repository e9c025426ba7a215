/* The agency picker (portal.feedback_forms.AgencyPicker): the text box becomes a combobox (WAI-ARIA 1.2, list
   autocomplete with manual selection) that suggests agencies as one types, from the JSON the picker's
   data-agency-url answers. Down and Up move through the suggestions, Enter chooses one, Escape closes them; the
   count is said in a live region. Choosing one puts its name in the text box and its code in the hidden input.
   Without JavaScript, or when the suggestions fail, sending the form finds the agency by the name typed. */
(function () {
  "use strict";
  var WAIT_MS = 250;  // after the last key, before asking: one request per pause in the typing

  document.querySelectorAll(".agency-picker:not([data-ready])").forEach(function (picker) {
    picker.setAttribute("data-ready", "");
    var input = picker.querySelector("input[type=text]");
    var code = picker.querySelector("[data-agency-code]");
    var url = picker.getAttribute("data-agency-url");
    var listId = input.id + "_suggestions";
    var list = document.createElement("ul");
    var status = document.createElement("p");
    var options = [], active = -1, timer = null, asked = 0, chosenName = code.value ? input.value : null;

    list.id = listId;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-labelledby", labelId());
    list.className = "agency-suggestions";
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    function labelId() {
      var label = document.querySelector("label[for='" + input.id + "']");
      if (!label) { return ""; }
      if (!label.id) { label.id = input.id + "_label"; }
      return label.id;
    }

    function say(text) { status.textContent = text; }

    function open(yes) {
      list.hidden = !yes;
      input.setAttribute("aria-expanded", yes ? "true" : "false");
      if (!yes) { activate(-1); }
    }

    function activate(index) {
      if (active >= 0 && options[active]) { options[active].setAttribute("aria-selected", "false"); }
      active = index;
      if (index >= 0 && options[index]) {
        options[index].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var option = options[index];
      if (!option) { return; }
      input.value = option.getAttribute("data-name");
      code.value = option.getAttribute("data-code");
      chosenName = input.value;
      picker.querySelectorAll("input[type=radio]").forEach(function (radio) { radio.checked = false; });
      open(false);
      say("");
    }

    function show(data) {
      list.textContent = "";
      options = data.agencies.map(function (agency, index) {
        var option = document.createElement("li");
        option.id = listId + "_" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-code", agency.code);
        option.setAttribute("data-name", agency.name);
        option.textContent = agency.name;
        if (agency.parent) {
          var parent = document.createElement("span");
          parent.className = "muted";
          parent.textContent = " (" + agency.parent + ")";
          option.appendChild(parent);
        }
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep the focus
        option.addEventListener("click", function () { choose(index); });
        list.appendChild(option);
        return option;
      });
      active = -1;
      open(options.length > 0);
      var count = options.length;
      var message = count === 0 ? picker.getAttribute("data-found-none")
        : count === 1 ? picker.getAttribute("data-found-one")
        : picker.getAttribute("data-found-count").replace("{n}", count);
      say(data.more && count > 0 ? message + " " + picker.getAttribute("data-found-more") : message);
    }

    function ask() {
      var text = input.value.trim();
      var mine = ++asked;
      if (!text) { options = []; list.textContent = ""; open(false); say(""); return; }
      fetch(url + "?q=" + encodeURIComponent(text), {headers: {"Accept": "application/json"}})
        .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
        .then(function (data) { if (mine === asked) { show(data); } })
        .catch(function () {
          if (mine === asked) { options = []; list.textContent = ""; open(false); say(picker.getAttribute("data-found-failed")); }
        });
    }

    input.addEventListener("input", function () {
      if (chosenName !== null && input.value !== chosenName) {  // another name is being typed: the code goes
        code.value = "";
        chosenName = null;
      }
      picker.querySelectorAll("input[type=radio]").forEach(function (radio) { radio.checked = false; });
      clearTimeout(timer);
      timer = setTimeout(ask, WAIT_MS);
    });

    input.addEventListener("keydown", function (event) {
      var count = options.length;
      if (event.key === "ArrowDown" || event.key === "Down") {
        if (!count) { return; }
        event.preventDefault();
        if (list.hidden) { open(true); }
        if (!event.altKey) { activate(active + 1 < count ? active + 1 : 0); }
      } else if (event.key === "ArrowUp" || event.key === "Up") {
        if (!count) { return; }
        event.preventDefault();
        if (list.hidden) { open(true); }
        activate(active > 0 ? active - 1 : count - 1);
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0) {  // choose, do not send the form
          event.preventDefault();
          choose(active);
        }
      } else if (event.key === "Escape" || event.key === "Esc") {
        if (!list.hidden) {
          event.preventDefault();
          open(false);
        }
      } else if (event.key === "Tab") {
        open(false);
      }
    });

    input.addEventListener("blur", function () { open(false); });
  });
})();
