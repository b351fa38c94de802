// Dashboard niceties, no framework: keep the inbox live, keep the transcript scrolled to the newest text,
// and re-render a plan step's preview when another patient is picked.
(function () {
  "use strict";
  var transcript = document.getElementById("transcript");
  if (transcript) transcript.scrollTop = transcript.scrollHeight;

  // The inbox list polls its own partial (same filters) and is swapped in when it changed; never under
  // someone typing in it or with a form in it focused.
  var items = document.getElementById("inbox-items");
  var status = document.getElementById("live-status");
  if (items && items.dataset.poll && window.fetch) {
    var every = Number(items.dataset.every || 10000);
    var busy = false;
    setInterval(function () {
      var focused = document.activeElement;
      if (busy || document.hidden || (focused && items.contains(focused) && focused.tagName !== "BODY")) return;
      busy = true;
      fetch(items.dataset.poll, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (answer) {
          if (answer.redirected || !answer.ok) throw new Error("status " + answer.status);
          return answer.text();
        })
        .then(function (html) {
          if (html.trim() !== items.innerHTML.trim()) items.innerHTML = html;
          if (status) status.textContent = "live · updated " + new Date().toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
        })
        .catch(function () { if (status) status.textContent = "live updates paused (reload the page)"; })
        .then(function () { busy = false; });
    }, every);
  }

  // A select marked data-preview submits its form's Preview button when changed.
  document.querySelectorAll("select[data-preview]").forEach(function (select) {
    select.addEventListener("change", function () {
      var button = select.form && select.form.querySelector("button[value=preview]");
      if (button) button.click();
    });
  });
})();
