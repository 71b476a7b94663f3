// edgeoutbox dashboard: auto-refresh of the live part of a page while the tab is
// visible, and "select all" on the dead letters page. No inline script anywhere: the
// Content-Security-Policy allows only this file.
(function () {
  "use strict";

  var main = document.querySelector("main[data-refresh]");
  var state = document.getElementById("refresh-state");
  if (main && window.fetch && window.DOMParser) {
    var every = Math.max(1, parseInt(main.getAttribute("data-refresh"), 10) || 5) * 1000;
    var timer = null;
    var busy = false;

    // A refresh that completes after the tab was hidden must not relabel it as live.
    var show = function (text, paused) {
      if (!state || (!paused && document.visibilityState !== "visible")) return;
      state.textContent = text;
      state.classList.toggle("paused", !!paused);
    };

    // The user is working in the page: do not pull it from under them.
    var interacting = function () {
      var live = document.getElementById("live");
      var active = document.activeElement;
      return live && active && active !== document.body && live.contains(active);
    };

    var refresh = function () {
      if (busy || document.visibilityState !== "visible" || interacting()) return;
      busy = true;
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (res) {
          if (!res.ok) throw new Error("HTTP " + res.status);
          return res.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("live");
          var live = document.getElementById("live");
          if (fresh && live) live.replaceWith(document.adoptNode(fresh));
          show("Live · every " + every / 1000 + " s", false);
        })
        .catch(function () {
          if (document.visibilityState === "visible") show("Refresh failed · retrying", true);
        })
        .then(function () { busy = false; });
    };

    var start = function () {
      if (timer === null) timer = window.setInterval(refresh, every);
    };
    var stop = function () {
      if (timer !== null) { window.clearInterval(timer); timer = null; }
    };

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        show("Live · every " + every / 1000 + " s", false);
        refresh();
        start();
      } else {
        stop();
        show("Paused", true);
      }
    });
    if (document.visibilityState === "visible") start(); else show("Paused", true);
  }

  // Filters travel in the address: leave empty fields out of it, so a bookmark reads
  // "events?status=pending" rather than a row of empty parameters.
  var filters = document.querySelectorAll("form.filters");
  for (var f = 0; f < filters.length; f++) {
    filters[f].addEventListener("submit", function (ev) {
      var fields = ev.target.querySelectorAll("input[name], select[name]");
      for (var i = 0; i < fields.length; i++) {
        if (fields[i].value === "") fields[i].disabled = true;
      }
    });
  }
  // Coming back to a page from the history re-enables what the submit disabled.
  window.addEventListener("pageshow", function () {
    var off = document.querySelectorAll("form.filters [disabled]");
    for (var i = 0; i < off.length; i++) off[i].disabled = false;
  });

  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      var boxes = document.querySelectorAll('input[type="checkbox"][name="id"]');
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
    });
  }
})();
