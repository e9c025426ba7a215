/* The commune picker (dossiers.forms.CommunePicker): choosing a province fetches its communes, so the page does not
   post itself; without JavaScript, or when the fetch fails, the "Show its communes" button does it instead. */
(function () {
  "use strict";
  document.querySelectorAll(".commune-picker:not([data-ready])").forEach(function (picker) {
    picker.setAttribute("data-ready", "");
    var province = picker.querySelector("[data-commune-province]");
    var communes = picker.querySelector(".commune-commune select");
    var show = picker.querySelector("[data-commune-show]");
    var first = communes.options[0];
    show.hidden = true;
    province.addEventListener("change", function () {
      while (communes.options.length > 1) { communes.remove(1); }
      // The empty choice says what to do next: choose a commune, or first a province.
      first.text = communes.getAttribute(province.value ? "data-choose" : "data-choose-province-first");
      if (!province.value) { return; }
      var url = picker.getAttribute("data-communes-url").replace("/00/", "/" + province.value + "/");
      fetch(url, {headers: {"Accept": "application/json"}})
        .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
        .then(function (data) {
          data.communes.forEach(function (commune) { communes.add(new Option(commune[1], commune[0])); });
        })
        .catch(function () { show.hidden = false; });
    });
  });
})();
