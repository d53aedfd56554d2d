// fbs console: progressive enhancement only; every page works without this file.
// 1. Pages marked <main data-live="N"> (the held queue, an order in flight) fetch
//    themselves every N seconds and swap in the new <main>, unless the user is
//    interacting with a form on the page.
// 2. "Select all" checkboxes in the held queue tick every order of their group.
"use strict";

(function () {
  function busy(main) {
    var active = document.activeElement;
    if (active && main.contains(active) && active.tagName !== "BODY" && active.tagName !== "A") {
      return true;
    }
    return main.querySelector("input[type=checkbox]:checked") !== null;
  }

  function refresh() {
    var main = document.querySelector("main[data-live]");
    if (!main || busy(main)) {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        var current = document.querySelector("main[data-live]");
        if (fresh && current && !busy(current)) {
          current.replaceWith(fresh);
          wire(fresh);
        }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  function wire(root) {
    root.querySelectorAll("input.select-all").forEach(function (box) {
      box.addEventListener("change", function () {
        box.closest("form").querySelectorAll("input[name=ids]").forEach(function (item) {
          item.checked = box.checked;
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire(document);
    var main = document.querySelector("main[data-live]");
    if (main) {
      var seconds = parseInt(main.getAttribute("data-live"), 10) || 5;
      window.setInterval(refresh, seconds * 1000);
    }
  });
})();
