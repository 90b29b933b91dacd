// Runs in <head>, before the page is drawn: apply the theme the user chose, if any.
(function () {
  "use strict";
  try {
    var chosen = localStorage.getItem("mltrail-theme");
    if (chosen === "light" || chosen === "dark") {
      document.documentElement.setAttribute("data-theme", chosen);
    }
  } catch (error) {
    // Storage may be off (private windows): the system theme applies.
  }
})();
