// Dashboard niceties: keep the inbox fresh, keep the transcript scrolled to the newest text.
(function () {
  "use strict";
  var transcript = document.getElementById("transcript");
  if (transcript) transcript.scrollTop = transcript.scrollHeight;
  var inbox = document.querySelector(".escalations, .empty");
  if (inbox && document.querySelector("h1") && document.querySelector("h1").textContent === "Escalations") {
    setInterval(function () {
      // Do not reload under someone typing or hovering a button.
      if (document.activeElement && document.activeElement.tagName === "TEXTAREA") return;
      window.location.reload();
    }, 20000);
  }
})();
