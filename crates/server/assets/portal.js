// pave portal: small progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A link to #definition opens the (collapsed) API definition; a link to a GraphQL type
  // (#type-Name, itself a <details>) opens that type.
  function openTarget() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    var details = target && (target.tagName === "DETAILS" ? target : target.querySelector("details"));
    if (details) details.open = true;
  }
  openTarget();
  window.addEventListener("hashchange", openTarget);

  // "Copy" buttons copy the text of the element their data-copy selector names, and say so
  // in the status next to them (announced to screen readers).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector("[role=status]");
    var say = function (text) { if (status) status.textContent = text; };
    if (!source || !navigator.clipboard) return say("Copying is not available here.");
    navigator.clipboard.writeText(source.textContent).then(
      function () { say("Copied."); },
      function () { say("Copying was refused by the browser."); }
    );
  });

  // The catalog's checkbox filters: the closed list's summary follows what is ticked, and
  // a click elsewhere or Escape closes an open list.
  function multiSummary(details) {
    var boxes = details.querySelectorAll("input[type=checkbox]:checked");
    var summary = details.querySelector("summary");
    if (!summary.dataset.any) summary.dataset.any = boxes.length ? "" : summary.textContent;
    if (boxes.length === 1) {
      summary.textContent = boxes[0].parentNode.querySelector("span").textContent;
    } else if (boxes.length > 1) {
      summary.textContent = boxes.length + " selected";
    } else if (summary.dataset.any) {
      summary.textContent = summary.dataset.any;
    }
  }
  document.addEventListener("change", function (event) {
    var details = event.target.closest && event.target.closest("details.filter-multi");
    if (details) multiSummary(details);
  });
  function closeMulti(except) {
    document.querySelectorAll("details.filter-multi[open]").forEach(function (d) {
      if (d !== except) d.open = false;
    });
  }
  document.addEventListener("click", function (event) {
    closeMulti(event.target.closest && event.target.closest("details.filter-multi"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = event.target.closest && event.target.closest("details.filter-multi[open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });

  // On narrow screens wide tables and code scroll sideways in their own box (style.css);
  // a box that scrolls is made focusable, so the keyboard can scroll it too (WCAG 2.1.1).
  // Checked again when the window is resized, a section opens or htmx swaps results in.
  var SCROLLERS = ".entity-table, .markdown table, .markdown pre, .graph-scroll";
  function focusableScrollers(root) {
    var boxes = (root || document).querySelectorAll(SCROLLERS);
    // All reads first, then the writes: one layout, however many boxes (an API page can
    // hold thousands of tables).
    var scrolls = [];
    for (var i = 0; i < boxes.length; i++) scrolls.push(boxes[i].scrollWidth > boxes[i].clientWidth + 1);
    for (var j = 0; j < boxes.length; j++) {
      var box = boxes[j];
      if (scrolls[j] && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroll-focus", "");
      } else if (!scrolls[j] && box.hasAttribute("data-scroll-focus")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-focus");
      }
    }
  }
  var resized = null;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { focusableScrollers(); });
  } else {
    focusableScrollers();
  }
  window.addEventListener("resize", function () {
    clearTimeout(resized);
    resized = setTimeout(focusableScrollers, 150);
  });
  // Only what a section that opened, or a swap, brought in.
  document.addEventListener("toggle", function (event) {
    if (event.target.open) focusableScrollers(event.target);
  }, true);
  document.addEventListener("htmx:afterSwap", function (event) { focusableScrollers(event.target); });

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
  // The header's type-ahead: the search box becomes a combobox (ARIA 1.2 pattern, list
  // autocomplete) whose listbox holds suggestions from /search/suggest. Focus stays in the
  // box; arrows move the active option (aria-activedescendant), Enter opens it, Escape
  // closes the list. Without this script the box submits to /search.
  function typeahead(input, list, status) {
    var timer = null;
    var active = -1;
    var items = [];
    var asked = 0;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      active = index;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function show(found) {
      items = found;
      list.textContent = "";
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.className = "suggestion";
        var title = document.createElement("span");
        title.className = "suggestion-title";
        title.textContent = item.title;
        var kind = document.createElement("span");
        kind.className = "suggestion-kind";
        kind.textContent = item.kind;
        li.appendChild(title);
        li.appendChild(kind);
        // mousedown, not click: the box keeps focus and the list is still there.
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();
          location.href = item.href;
        });
        list.appendChild(li);
      });
      var all = document.createElement("li");
      all.id = list.id + "-all";
      all.setAttribute("role", "option");
      all.setAttribute("aria-selected", "false");
      all.className = "suggestion suggestion-all";
      all.textContent = "Search for \u201c" + input.value.trim() + "\u201d";
      all.addEventListener("mousedown", function (event) {
        event.preventDefault();
        input.form.submit();
      });
      list.appendChild(all);
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = found.length === 0 ? "No suggestions" :
        found.length + (found.length === 1 ? " suggestion" : " suggestions") + ", use the arrow keys";
      highlight(-1);
    }
    function ask() {
      var q = input.value.trim();
      if (q === "") {
        close();
        return;
      }
      var mine = ++asked;
      fetch("/search/suggest?q=" + encodeURIComponent(q), {
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (r) {
        return r.ok ? r.json() : [];
      }).then(function (found) {
        // An older answer arriving late must not replace a newer one.
        if (mine === asked && document.activeElement === input) show(found);
      }).catch(function () { close(); });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 120);
    });
    input.addEventListener("keydown", function (event) {
      var count = list.querySelectorAll("[role=option]").length;
      if (event.key === "ArrowDown" && count > 0) {
        event.preventDefault();
        if (list.hidden) show(items);
        highlight(active + 1 >= count ? 0 : active + 1);
      } else if (event.key === "ArrowUp" && count > 0 && !list.hidden) {
        event.preventDefault();
        highlight(active <= 0 ? count - 1 : active - 1);
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        if (active < items.length) location.href = items[active].href;
        else input.form.submit();
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }
  var box = document.getElementById("global-q");
  var suggestions = document.getElementById("global-suggestions");
  var suggestionsStatus = document.getElementById("global-suggestions-status");
  if (box && suggestions && suggestionsStatus && window.fetch) {
    typeahead(box, suggestions, suggestionsStatus);
  }
})();
