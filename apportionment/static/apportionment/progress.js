// Polls a running batch's progress and updates the bar; reloads the page when it ends.
(function () {
  "use strict";
  function poll(bar) {
    fetch(bar.dataset.url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        bar.max = Math.max(data.total, 1);
        bar.value = data.done;
        var text = bar.parentNode.querySelector(".batch-progress-text");
        if (text) { text.textContent = data.done + "/" + data.total + " · " + data.status; }
        if (data.status === "publishing" || data.status === "collecting") {
          setTimeout(function () { poll(bar); }, 1000);
        } else if (bar.dataset.wasRunning) {
          window.location.reload();
        }
        bar.dataset.wasRunning = data.status === "publishing" || data.status === "collecting" ? "1" : "";
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("progress.batch-progress").forEach(poll);
  });
})();
