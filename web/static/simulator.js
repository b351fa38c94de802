// Patient simulator: search patients, show one thread, send texts as that patient, poll for news.
(function () {
  "use strict";
  var POLL_MS = 1500;
  var base = window.location.pathname.replace(/\/+$/, "");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var $ = function (id) { return document.getElementById(id); };
  var state = { patient: null, lastId: 0, seen: {}, timer: null, searchTimer: null };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function label(text) { return (text || "").replace(/_/g, " "); }

  function showError(text) {
    var box = $("sim-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  // ---- patients

  function loadPatients(q) {
    getJSON(base + "/api/patients?q=" + encodeURIComponent(q || "")).then(function (data) {
      var list = $("sim-patient-list");
      list.textContent = "";
      if (!data.patients.length) list.appendChild(el("li", "muted", "No patient matches."));
      data.patients.forEach(function (p) {
        var li = el("li");
        var button = el("button", "sim-patient" + (state.patient === p.id ? " active" : ""));
        button.type = "button";
        button.dataset.patientId = p.id;
        button.appendChild(el("span", "sim-patient-name", p.name));
        var meta = el("span", "sim-patient-meta", p.phone + (p.language === "es" ? " · ES" : ""));
        button.appendChild(meta);
        if (p.opted_out) button.appendChild(el("span", "tag tag-bad", "opted out"));
        button.addEventListener("click", function () { choose(p.id); });
        li.appendChild(button);
        list.appendChild(li);
      });
    }).catch(function () { showError("Could not load patients."); });
  }

  // ---- thread

  function choose(id) {
    state.patient = id;
    state.lastId = 0;
    state.seen = {};
    $("sim-thread").textContent = "";
    $("sim-body").disabled = false;
    $("sim-send").disabled = false;
    Array.prototype.forEach.call(document.querySelectorAll(".sim-patient"), function (b) {
      b.classList.toggle("active", Number(b.dataset.patientId) === id);
    });
    showError("");
    refresh(true);
    $("sim-body").focus();
  }

  function decisionText(d) {
    if (!d) return null;
    var parts = [];
    if (d.intent) parts.push(label(d.intent));
    if (d.urgency && d.urgency !== "none") parts.push(d.urgency);
    if (d.path) parts.push("via " + d.path + (d.guard ? " (" + label(d.guard) + ")" : ""));
    if (typeof d.confidence === "number") parts.push(Math.round(d.confidence * 100) + "%");
    return parts.join(" · ");
  }

  function renderMessage(m) {
    var existing = document.querySelector('[data-message-id="' + m.id + '"]');
    var li = el("li", "sim-msg " + (m.direction === "in" ? "from-patient" : "from-practice") + " kind-" + m.kind);
    li.dataset.messageId = m.id;
    var bubble = el("div", "sim-bubble", m.body);
    li.appendChild(bubble);
    var who = m.direction === "in" ? "" : (m.kind === "staff" ? (m.staff || "Staff") : "Aftercare");
    // m.time comes from the server in the practice's zone, as the dashboard shows it, whatever the browser's zone.
    var meta = el("div", "sim-meta", (who ? who + " · " : "") + m.time + (m.direction === "out" && m.status ? " · " + m.status : ""));
    li.appendChild(meta);
    var d = decisionText(m.decision);
    if (d) {
      var decision = el("div", "sim-decision" + (m.decision.urgency === "emergency" || m.decision.urgency === "urgent" ? " hot" : ""), d);
      if (m.decision.rationale) decision.title = m.decision.rationale;
      li.appendChild(decision);
    }
    if (existing) existing.replaceWith(li); else $("sim-thread").appendChild(li);
  }

  function refresh(first) {
    if (!state.patient) return;
    var id = state.patient;
    // The whole thread each time: late decisions and delivery statuses update bubbles already drawn.
    var url = base + "/api/patients/" + id + "/thread";
    getJSON(url).then(function (data) {
      if (state.patient !== id) return;
      var p = data.patient;
      $("sim-head").querySelector(".sim-title").textContent = p.first_name + " " + (p.last_name || "");
      $("sim-head").querySelector(".sim-sub").textContent = p.phone + " → " + (p.practice_number || "?") +
        (p.location ? " · " + p.location : "") + (p.opted_out ? " · opted out" : "");
      var thread = $("sim-thread");
      var nearBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
      var changed = false;
      data.messages.forEach(function (m) {
        var key = m.id + "|" + m.status + "|" + JSON.stringify(m.decision);
        if (state.seen[m.id] !== key) { state.seen[m.id] = key; renderMessage(m); changed = true; }
        state.lastId = Math.max(state.lastId, m.id);
      });
      if (!data.messages.length && first) thread.appendChild(el("li", "muted sim-empty", "No texts yet. Say hello."));
      renderStatus(data.status || []);
      renderSuggestions(data.suggestions || []);
      if (changed && (first || nearBottom)) thread.scrollTop = thread.scrollHeight;
    }).catch(function () { /* the next poll tries again */ });
  }

  // What the conversation's state is now (opted out, handed to staff, times on offer, inbox items).
  function renderStatus(lines) {
    var box = $("sim-status");
    var key = JSON.stringify(lines);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    box.textContent = "";
    lines.forEach(function (line) { box.appendChild(el("div", "sim-status-line", line)); });
  }

  // Texts to try, one per thing a conversation can do; a click sends it as the patient.
  function renderSuggestions(items) {
    var box = $("sim-suggestions");
    var key = JSON.stringify(items);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    box.textContent = "";
    items.forEach(function (item) {
      var button = el("button", "sim-suggestion", item.body);
      button.type = "button";
      button.title = item.label;
      button.dataset.label = item.label;
      button.addEventListener("click", function () {
        $("sim-body").value = item.body;
        $("sim-compose").requestSubmit();
      });
      box.appendChild(button);
    });
  }

  function send(event) {
    event.preventDefault();
    var input = $("sim-body");
    var body = input.value.trim();
    if (!body || !state.patient) return;
    $("sim-send").disabled = true;
    showError("");
    fetch(base + "/api/patients/" + state.patient + "/send", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
      body: JSON.stringify({ body: body })
    }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok) throw new Error(result.data.error || "not sent");
      input.value = "";
      var empty = document.querySelector(".sim-empty");
      if (empty) empty.remove();
      refresh(false);
    }).catch(function (error) {
      showError("Not sent: " + error.message);
    }).then(function () {
      $("sim-send").disabled = false;
      input.focus();
    });
  }

  // ---- side panel

  function refreshSide() {
    getJSON(base + "/api/alerts").then(function (data) {
      var alerts = $("sim-alerts");
      alerts.textContent = "";
      if (!data.alerts.length) alerts.appendChild(el("li", "muted", "No alerts yet."));
      data.alerts.forEach(function (a) {
        var li = el("li", "sim-alert");
        li.appendChild(el("div", "sim-alert-to", "To " + a.to + " · " + a.time));
        li.appendChild(el("div", "sim-alert-body", a.body));
        alerts.appendChild(li);
      });
      var escalations = $("sim-escalations");
      escalations.textContent = "";
      if (!data.escalations.length) escalations.appendChild(el("li", "muted", "None."));
      data.escalations.forEach(function (e) {
        var li = el("li");
        li.appendChild(el("span", "badge badge-" + e.urgency, e.urgency));
        li.appendChild(document.createTextNode(" " + e.first_name + " · " + e.reason + " · " + e.time));
        escalations.appendChild(li);
      });
    }).catch(function () {});
  }

  function tick() {
    refresh(false);
    refreshSide();
  }

  $("sim-search").addEventListener("input", function (event) {
    clearTimeout(state.searchTimer);
    var q = event.target.value;
    state.searchTimer = setTimeout(function () { loadPatients(q); }, 200);
  });
  $("sim-compose").addEventListener("submit", send);
  loadPatients("");
  refreshSide();
  state.timer = setInterval(tick, POLL_MS);
})();
