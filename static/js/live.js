// Live regions: every element with data-live="<url>" polls that URL and swaps
// in the fresh fragment when its version changed. Fast while something runs,
// slow when idle (the server says which, in `interval`), paused while the tab
// is hidden, backing off when the server cannot be reached and saying so.
//
// Also here, because it lives inside those regions: the before/after
// comparison slider, driven by its range input (keyboard) or by dragging.
(function () {
  "use strict";

  var FIRST_FAST = 1500;
  var FIRST_SLOW = 15000;
  // After a failed poll: ask again soon, then less and less often.
  var RETRY_FIRST = 2000;
  var RETRY_MAX = 30000;

  // --- Connection notice ---------------------------------------------------------
  // A page that stops getting answers says so (role=status in base.html), and
  // says nothing again once answers come back: it never shows a stale state
  // as if it were current.
  var failing = new Set();
  var lastAnswer = new Date();

  function clock(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function showConnection() {
    var notice = document.getElementById("live-connection");
    if (!notice) return;
    var text = failing.size
      ? "Connection lost — retrying… This page was last updated at " + clock(lastAnswer) + "."
      : "";
    if (notice.textContent !== text) notice.textContent = text;
  }

  function keyOf(el) {
    if (el.id) return "#" + CSS.escape(el.id);
    if (el.name && el.value) return '[name="' + CSS.escape(el.name) + '"][value="' + CSS.escape(el.value) + '"]';
    if (el.getAttribute("href")) return 'a[href="' + CSS.escape(el.getAttribute("href")) + '"]';
    if (el.matches(".compare-range")) return ".compare-range";
    return null;
  }

  function statuses(root) {
    var found = {};
    root.querySelectorAll("[data-job-id]").forEach(function (el) {
      found[el.dataset.jobId] = el.dataset.jobStatus;
    });
    return found;
  }

  function announce(text) {
    var region = document.getElementById("live-announcer");
    if (region && text) region.textContent = text;
  }

  function swap(region, html) {
    var checked = new Set();
    region.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) { checked.add(box.value); });
    var focused = document.activeElement && region.contains(document.activeElement) ? keyOf(document.activeElement) : null;
    var before = statuses(region);

    region.innerHTML = html;

    region.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      if (checked.has(box.value)) box.checked = true;
    });
    if (focused) {
      var again = region.querySelector(focused);
      if (again) again.focus({ preventScroll: true });
    }
    // Tell screen reader users about the changes that matter: done or failed.
    var news = [];
    region.querySelectorAll("[data-job-id]").forEach(function (el) {
      var was = before[el.dataset.jobId];
      var now = el.dataset.jobStatus;
      if (was && was !== now && (now === "completed" || now === "failed")) {
        news.push(el.dataset.jobName + ": " + el.dataset.jobLabel);
      }
    });
    announce(news.join(". "));
  }

  function watch(region) {
    var url = region.dataset.live;
    var version = region.dataset.liveVersion || "";
    var timer = null;
    var failures = 0;
    var next = region.dataset.liveActive === "true" ? FIRST_FAST : FIRST_SLOW;

    function schedule(ms) {
      clearTimeout(timer);
      if (!document.hidden) timer = setTimeout(poll, ms);
    }

    function poll() {
      // The region's URL carries the page's query (filter, page): keep it.
      var target = url + (version ? (url.indexOf("?") === -1 ? "?" : "&") + "v=" + encodeURIComponent(version) : "");
      fetch(target, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (!response.ok || type.indexOf("json") === -1) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          failures = 0;
          lastAnswer = new Date();
          failing.delete(region);
          showConnection();
          if (typeof body.html === "string" && body.version !== version) swap(region, body.html);
          version = body.version;
          next = body.interval || FIRST_SLOW;
        })
        .catch(function () {
          failures += 1;
          next = Math.min(RETRY_MAX, RETRY_FIRST * Math.pow(2, Math.min(failures - 1, 4)));
          failing.add(region);
          showConnection();
        })
        .then(function () { schedule(next); });
    }

    document.addEventListener("visibilitychange", function () {
      if (document.hidden) clearTimeout(timer);
      else schedule(0); // back in view: catch up at once
    });
    schedule(next);
  }

  // --- Before/after comparison -------------------------------------------------

  function setDivider(range) {
    var figure = range.closest(".compare");
    if (!figure) return;
    var value = Number(range.value);
    figure.style.setProperty("--pos", value + "%");
    range.setAttribute("aria-valuetext", value + "% original, " + (100 - value) + "% enhanced");
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches(".compare-range")) setDivider(event.target);
  });

  document.addEventListener("pointerdown", function (event) {
    var frame = event.target.closest && event.target.closest(".compare-frame");
    if (!frame || event.button !== 0) return;
    var range = frame.parentElement.querySelector(".compare-range");
    if (!range) return;
    event.preventDefault();
    function follow(e) {
      var box = frame.getBoundingClientRect();
      var ratio = Math.max(0, Math.min(1, (e.clientX - box.left) / box.width));
      range.value = String(Math.round(ratio * 100));
      setDivider(range);
    }
    function stop() {
      frame.removeEventListener("pointermove", follow);
      frame.removeEventListener("pointerup", stop);
      frame.removeEventListener("pointercancel", stop);
    }
    frame.setPointerCapture(event.pointerId);
    frame.addEventListener("pointermove", follow);
    frame.addEventListener("pointerup", stop);
    frame.addEventListener("pointercancel", stop);
    follow(event);
    range.focus({ preventScroll: true });
  });

  // --- Select all finished (My jobs) ---------------------------------------------

  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("[data-select-finished]")) return;
    all.form.querySelectorAll("input[data-finished]").forEach(function (box) {
      box.checked = all.checked;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(watch);
  });
})();
