// The upload page with JavaScript: drop or pick images, see them listed with
// previews, then send each in its own request so that each gets a progress
// bar. The server validates every file and answers JSON; its message is shown
// next to the file it is about. Without JavaScript the form posts as usual.
(function () {
  "use strict";

  var PARALLEL = 2;

  function formatBytes(n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(0) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  function init(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-dropzone]");
    var list = form.querySelector("[data-upload-list]");
    var submit = form.querySelector("[data-upload-submit]");
    var summary = form.querySelector("[data-upload-summary]");
    var ratio = form.querySelector("input[name=aria_ratio]");
    var ratioOutput = form.querySelector("[data-ratio-output]");
    var maxBytes = Number(form.dataset.maxBytes);
    var accepted = form.dataset.accept.split(",");
    var items = [];
    var busy = false;

    ratio.addEventListener("input", function () {
      ratioOutput.textContent = Number(ratio.value).toFixed(2);
    });

    function setState(item, kind, text, link) {
      item.row.classList.remove("is-error", "is-done");
      if (kind) item.row.classList.add("is-" + kind);
      item.text.textContent = text;
      if (link) {
        var a = document.createElement("a");
        a.href = link;
        a.textContent = "View job";
        item.text.append(" ", a);
      }
    }

    function add(files) {
      Array.prototype.forEach.call(files, function (file) {
        var duplicate = items.some(function (i) {
          return i.state === "ready" && i.file.name === file.name && i.file.size === file.size;
        });
        if (duplicate) return;
        var row = document.createElement("li");
        row.className = "upload-item";
        var img = document.createElement("img");
        img.alt = "";
        img.addEventListener("error", function () {
          // Not something the browser can show (a misnamed file): a neutral tile instead.
          var tile = document.createElement("span");
          tile.className = "no-preview";
          tile.textContent = "No preview";
          img.replaceWith(tile);
        });
        if (file.type.indexOf("image/") === 0) img.src = URL.createObjectURL(file);
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = file.name;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button small subtle";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", "Remove " + file.name);
        var state = document.createElement("div");
        state.className = "state";
        var bar = document.createElement("progress");
        bar.max = 100;
        bar.value = 0;
        bar.setAttribute("aria-label", "Upload of " + file.name);
        var text = document.createElement("span");
        state.append(bar, text);
        row.append(img, name, remove, state);
        list.append(row);

        var item = { file: file, row: row, bar: bar, text: text, remove: remove, state: "ready" };
        items.push(item);
        remove.addEventListener("click", function () {
          items.splice(items.indexOf(item), 1);
          row.remove();
          list.hidden = items.length === 0;
          input.focus();
        });
        // Quick checks for instant feedback; the server decides for real.
        if (accepted.indexOf(file.type) === -1) {
          item.state = "refused";
          setState(item, "error", "Not a JPEG, PNG or WebP image; convert it to one of those.");
        } else if (file.size > maxBytes) {
          item.state = "refused";
          setState(item, "error", "The file is " + formatBytes(file.size) + "; the limit is " + formatBytes(maxBytes) + ".");
        } else {
          setState(item, "", formatBytes(file.size) + " · ready");
        }
      });
      list.hidden = items.length === 0;
    }

    input.addEventListener("change", function () {
      add(input.files);
      input.value = ""; // so that choosing the same file again fires a change
    });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) {
        e.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) {
        e.preventDefault();
        zone.classList.remove("is-over");
      });
    });
    zone.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files) add(e.dataTransfer.files);
    });

    // One batch per press of Upload: My jobs says when all of its images are done.
    var batch = "";

    function newBatch() {
      if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
      // randomUUID exists only in a secure context (https or localhost); a team's
      // server on plain http at a LAN address has none. A random id in the UUID v4
      // layout is all a batch needs: it only groups the images of one press.
      return "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx".replace(/x/g, function () {
        return Math.floor(Math.random() * 16).toString(16);
      });
    }

    function send(item) {
      return new Promise(function (resolve) {
        var data = new FormData();
        data.append("batch", batch);
        data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
        data.append("aria_ratio", ratio.value);
        data.append("max_face_count", form.querySelector("[name=max_face_count]").value);
        data.append("images", item.file, item.file.name);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action || window.location.href);
        xhr.setRequestHeader("Accept", "application/json");
        item.state = "sending";
        item.remove.hidden = true;
        setState(item, "", "Uploading…");
        xhr.upload.addEventListener("progress", function (e) {
          if (!e.lengthComputable) return;
          var pct = Math.round((e.loaded / e.total) * 100);
          item.bar.value = pct;
          item.text.textContent = "Uploading… " + pct + "%";
        });
        xhr.addEventListener("load", function () {
          var body = null;
          try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
          if (xhr.status === 201 && body && body.ok) {
            item.state = "sent";
            item.bar.value = 100;
            setState(item, "done", "Uploaded, enhancement queued.", body.job.url);
          } else {
            item.state = "failed";
            item.remove.hidden = false;
            setState(item, "error", (body && body.message) || "The server refused the upload (HTTP " + xhr.status + ").");
          }
          resolve();
        });
        xhr.addEventListener("error", function () {
          item.state = "ready";
          item.remove.hidden = false;
          setState(item, "error", "The upload was interrupted; check the connection and press Upload again.");
          resolve();
        });
        xhr.send(data);
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      var queue = items.filter(function (i) { return i.state === "ready"; });
      if (!form.reportValidity()) return;
      if (queue.length === 0) {
        summary.textContent = items.length ? "Nothing left to upload." : "Choose at least one image first.";
        input.focus();
        return;
      }
      busy = true;
      batch = newBatch();
      submit.disabled = true;
      summary.textContent = "Uploading " + queue.length + " image" + (queue.length === 1 ? "" : "s") + "…";
      var workers = [];
      for (var n = 0; n < PARALLEL; n++) {
        workers.push((function next() {
          var item = queue.shift();
          return item ? send(item).then(next) : Promise.resolve();
        })());
      }
      Promise.all(workers).then(function () {
        busy = false;
        submit.disabled = false;
        var sent = items.filter(function (i) { return i.state === "sent"; }).length;
        var bad = items.filter(function (i) { return i.state === "failed" || i.state === "refused"; }).length;
        summary.textContent = "";
        summary.append(sent + " sent" + (bad ? ", " + bad + " not accepted" : "") + ". ");
        if (sent) {
          var a = document.createElement("a");
          a.href = form.dataset.jobsUrl;
          a.textContent = "Follow them on My jobs";
          summary.append(a);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload]").forEach(init);
  });
})();
