// pave portal: small progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A link to #definition opens the (collapsed) API definition.
  function openTarget() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    var details = target && target.querySelector("details");
    if (details) details.open = true;
  }
  openTarget();
  window.addEventListener("hashchange", openTarget);

  // "/" focuses the search box (the catalog's own one when there is one); Escape leaves it.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var box = document.getElementById("filter-q") || document.querySelector(".global-search input");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    } else if (event.key === "Escape" && typing && target.type === "search") {
      target.blur();
    }
  });
})();
