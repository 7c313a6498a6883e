// The practice workspace (docs/practice-workspace.md): conversation list with response-time clocks, drafts kept
// per conversation (server + this browser), replies sent without a reload, polling for the engine's messages,
// keyboard shortcuts, side panel (record, ticket, handbook, hand-off), finish confirmation, and the phone,
// social and e-mail modes. Without this file the page still works: every action is a plain form post.
(function () {
  "use strict";
  var root = document.getElementById("workspace");
  if (!root) return;
  root.classList.add("ws-js");
  var D = root.dataset;
  var mode = D.mode, standard = parseInt(D.standard, 10), submission = D.submission;
  var skew = Date.parse(D.now) - Date.now();  // server time minus this browser's time
  var announceEl = document.getElementById("ws-announce"), alertEl = document.getElementById("ws-alert");
  var convs = Array.prototype.slice.call(root.querySelectorAll(".ws-conv"));
  var items = Array.prototype.slice.call(root.querySelectorAll(".ws-item"));
  var active = null;
  var narrow = window.matchMedia("(max-width: 899px)");
  var lateAnnounced = {};
  var privateFrom = null;
  var stored = {};

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)[sd]/g, function (_m, key) { return values[key]; });
  }
  // announcements made together (a nudge and the late clock of the same poll) are read together, not overwritten
  var announceQueue = { polite: [], urgent: [] }, announceTimer = {};
  function announce(text, urgent) {
    var k = urgent ? "urgent" : "polite", el = urgent ? alertEl : announceEl;
    announceQueue[k].push(text);
    clearTimeout(announceTimer[k]);
    el.textContent = "";
    announceTimer[k] = setTimeout(function () { el.textContent = announceQueue[k].join(" · "); announceQueue[k] = []; }, 50);
  }
  function clockTime() { return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
  function key(name) { return "ws:" + submission + ":" + name; }
  function local(name, value) {
    try {
      if (value === undefined) return JSON.parse(localStorage.getItem(key(name)) || "null");
      if (value === null) localStorage.removeItem(key(name)); else localStorage.setItem(key(name), JSON.stringify(value));
    } catch (e) { return null; }
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": D.csrf }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { var err = new Error(data.message || String(response.status)); err.server = true; throw err; }
        return data;
      });
    });
  }
  function convOf(thread) { return root.querySelector('.ws-conv[data-thread="' + thread + '"]'); }
  function itemOf(thread) { return root.querySelector('.ws-item[data-thread="' + thread + '"]'); }

  // Sound cue (off by default) -------------------------------------------------------------
  var soundBox = document.getElementById("ws-sound"), audio = null;
  if (soundBox) {
    soundBox.checked = local("sound") === true;
    soundBox.addEventListener("change", function () { local("sound", soundBox.checked); });
  }
  function beep(freq, ms) {
    if (!soundBox || !soundBox.checked) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq || 880; gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + (ms || 180) / 1000);
    } catch (e) { /* no audio: the visual cue remains */ }
  }

  // Conversations: list, switching, shortcuts --------------------------------------------------
  function activate(thread, focus) {
    if (!convOf(thread)) return;
    active = thread;
    convs.forEach(function (c) { c.classList.toggle("ws-inactive", c.dataset.thread !== thread); });
    items.forEach(function (i) {
      if (i.dataset.thread === thread) { i.setAttribute("aria-current", "true"); i.querySelector(".ws-unread").hidden = true; i.classList.remove("ws-has-unread"); }
      else i.removeAttribute("aria-current");
    });
    root.querySelectorAll(".ws-per-thread").forEach(function (p) { p.hidden = p.dataset.thread !== thread; });
    var log = convOf(thread).querySelector(".ws-log");
    if (log) log.scrollTop = log.scrollHeight;
    var box = convOf(thread).querySelector(".ws-composer textarea");
    if (focus && box) box.focus();
    local("active", thread);
  }
  items.forEach(function (item) {
    item.addEventListener("click", function (e) { e.preventDefault(); activate(item.dataset.thread, true); });
  });
  document.addEventListener("keydown", function (e) {
    if (e.altKey && !e.ctrlKey && !e.metaKey && /^[1-9]$/.test(e.key)) {
      var item = items[parseInt(e.key, 10) - 1];
      if (item) { e.preventDefault(); activate(item.dataset.thread, true); }
    }
  });

  // Response-time clocks -----------------------------------------------------------------------
  function human(seconds) {
    if (seconds < 60) return seconds + " s";
    if (seconds < 600) return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }
  function tick() {
    root.querySelectorAll(".ws-clock").forEach(function (el) {
      var since = el.dataset.since;
      el.classList.remove("ws-near", "ws-late");
      if (el.dataset.ended) { el.textContent = "○ " + D.msgEnded; var it = itemOf(el.dataset.thread); if (it) it.classList.remove("ws-waiting-late"); return; }
      if (!since) { el.textContent = "✓ " + D.msgAnswered; return; }
      var seconds = Math.max(0, Math.round((Date.now() + skew - Date.parse(since)) / 1000));
      var text = "● " + human(seconds) + " · " + D.msgWaiting;
      if (seconds > standard) { el.classList.add("ws-late"); text = "■ " + human(seconds) + " · " + D.msgLate; }
      else if (seconds >= standard * 2 / 3) { el.classList.add("ws-near"); text = "▲ " + human(seconds) + " · " + D.msgNear; }
      el.textContent = text;
      var thread = el.dataset.thread, item = itemOf(thread);
      if (item) item.classList.toggle("ws-waiting-late", seconds > standard);
      // timer states are announced once per waiting message: near the limit, then past it
      var state = seconds > standard ? "late" : seconds >= standard * 2 / 3 ? "near" : "ok";
      if (state !== "ok" && lateAnnounced[thread + since] !== state && el.classList.contains("ws-clock-main")) {
        lateAnnounced[thread + since] = state;
        var conv = convOf(thread), name = conv ? conv.querySelector("h2").firstChild.textContent.trim() : thread;
        announce(state === "late" ? fmt(D.msgLateAnnounce, { name: name }) : name + ": " + D.msgNear);
      }
    });
  }

  // Drafts: this browser at once, the server a moment later ---------------------------------
  var timers = {}, pending = {}, formsOf = {};
  function statusOf(form) { return form.querySelector(".ws-draft-status"); }
  function saveDraft(thread, fields, form) {
    clearTimeout(timers[thread]);
    pending[thread] = fields;
    if (form) formsOf[thread] = form;
    timers[thread] = setTimeout(function () { flushDraft(thread, form); }, 800);
  }
  function flushDraft(thread, form) {
    var fields = pending[thread];
    if (!fields) return Promise.resolve();
    form = form || formsOf[thread];
    var url = thread === "_email" ? D.emailUrl : D.draftUrl;
    var body = thread === "_email" ? fields : { thread: thread, fields: fields };
    return post(url, body).then(function () {
      if (pending[thread] === fields) delete pending[thread];
      var saved = local("draft:" + thread);
      if (saved) { saved.synced = true; local("draft:" + thread, saved); }
      if (form && statusOf(form)) statusOf(form).textContent = D.msgSaved + " · " + clockTime();
    }).catch(function (err) {
      if (form && statusOf(form)) statusOf(form).textContent = err.server ? err.message : D.msgSavedLocal;
    });
  }
  function flushAll() { Object.keys(pending).forEach(function (thread) { flushDraft(thread, null); }); }
  window.addEventListener("online", flushAll);
  setInterval(flushAll, 15000);
  window.addEventListener("pagehide", flushAll);

  // Replies: fetch, one after another; the server times them -------------------------------
  var chain = Promise.resolve();
  function composerOf(thread) { var c = convOf(thread); return c && c.querySelector(".ws-composer"); }
  root.querySelectorAll(".ws-composer").forEach(function (form) {
    var thread = form.dataset.thread, box = form.querySelector("textarea");
    var saved = local("draft:" + thread);
    if (saved && !saved.synced && saved.text && saved.text !== box.value) { box.value = saved.text; saveDraft(thread, { text: saved.text }, form); }
    box.addEventListener("input", function () {
      local("draft:" + thread, { text: box.value, at: Date.now(), synced: false });
      saveDraft(thread, { text: box.value }, form);
    });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = box.value.trim();
      if (!text) { box.reportValidity(); return; }
      clearTimeout(timers[thread]); delete pending[thread];
      box.value = "";
      local("draft:" + thread, null);
      chain = chain.then(function () {
        return post(D.sendUrl, { thread: thread, text: text }).then(function (state) {
          statusOf(form).textContent = "";
          apply(state);
        }).catch(function (err) {
          box.value = box.value ? text + "\n" + box.value : text;
          local("draft:" + thread, { text: box.value, at: Date.now(), synced: false });
          statusOf(form).textContent = err.server ? err.message : D.msgError;
          announce(err.server ? err.message : D.msgError, true);
        });
      });
    });
  });

  // The engine's state: new messages, finished conversations, the ending ------------------
  function renderMessage(conv, m, name) {
    var li = document.createElement("li");
    li.className = "msg msg-" + m.speaker + (m.place === "private" ? " msg-private" : "") + (m.pending ? " msg-pending" : "");
    // a message due but not stored yet (a nudge, a walk-out) is keyed apart: the next reply or the hand-in stores it
    if (m.pending) li.dataset.pending = m.key; else li.dataset.position = m.position;
    var who = document.createElement("span"); who.className = "who"; who.textContent = m.speaker === "customer" ? name : D.msgYou;
    var text = document.createElement("span"); text.className = "text pre-wrap"; text.textContent = m.text;
    li.appendChild(who); li.appendChild(text);
    if (m.seconds !== null && m.seconds !== undefined) {
      var t = document.createElement("span");
      t.className = "timing " + (m.seconds > standard ? "late" : "ok");
      // the reader's decimal separator ("0,9 s" in Spanish), one decimal at most, as the server writes it
      var figure = new Intl.NumberFormat(document.documentElement.lang || undefined, {maximumFractionDigits: 1}).format(m.seconds);
      t.textContent = figure + " s" + (m.seconds > standard ? " · " + D.msgLate : "");
      li.appendChild(t);
    }
    return li;
  }
  function apply(state) {
    if (!state || !state.conversations) return;
    if (state.ended) { window.location.href = state.precheck_url; return; }
    if (state.private_from !== undefined && state.private_from !== null) {
      if (privateFrom === null) movedPrivate(state.private_from);
      else if (privateFrom === Infinity) privateFrom = state.private_from;  // moved before this page was loaded
    }
    state.conversations.forEach(function (c) {
      var conv = convOf(c.id); if (!conv) return;
      var log = conv.querySelector(".ws-log");
      var seen = {};
      log.querySelectorAll("[data-position]").forEach(function (li) { seen[li.dataset.position] = true; });
      // pending messages (due, not stored): keep those still due, drop those the server has stored since
      var due = {}, shown = pendingShown[c.id] = pendingShown[c.id] || [];
      (c.pending || []).forEach(function (m) { due[m.key] = true; });
      log.querySelectorAll("[data-pending]").forEach(function (li) { if (!due[li.dataset.pending]) li.remove(); });
      var fresh = c.messages.filter(function (m) { return !seen[m.position]; });
      var newPending = (c.pending || []).filter(function (m) { return !log.querySelector('[data-pending="' + m.key + '"]'); });
      fresh.forEach(function (m) {
        var before = log.querySelector("[data-pending]");  // stored turns come before what is still only due
        if (m.place === "private" && privateFrom !== null && m.position === privateFrom && !log.querySelector(".ws-divider")) log.insertBefore(divider(), before);
        log.insertBefore(renderMessage(conv, m, c.name), before);
        var already = m.speaker === "customer" ? shown.indexOf(m.text) : -1;
        if (already >= 0) { shown.splice(already, 1); return; }  // shown (and announced) while it was due
        if (m.speaker === "customer") arrived(c, m);
      });
      newPending.forEach(function (m) {
        log.appendChild(renderMessage(conv, m, c.name));
        shown.push(m.text);
        arrived(c, m);
      });
      if (fresh.length || newPending.length) log.scrollTop = log.scrollHeight;
      root.querySelectorAll('.ws-clock[data-thread="' + c.id + '"]').forEach(function (el) {
        el.dataset.since = c.finished ? "" : (c.awaiting_since || "");
        if (c.finished) el.dataset.ended = "1"; else delete el.dataset.ended;
      });
      if (c.finished) ended(c);
    });
    var allDone = document.getElementById("ws-all-done");
    if (allDone && mode !== "email") {
      var wasHidden = allDone.hidden;
      allDone.hidden = !state.all_finished;
      var finishBtn = root.querySelector(".ws-finish");
      if (finishBtn) finishBtn.classList.toggle("ws-finish-ready", !!state.all_finished);
      if (wasHidden && state.all_finished) announce(allDone.textContent.replace(/\s+/g, " ").trim());
    }
    tick();
  }
  var pendingShown = {};
  function arrived(c, m) {
    announce(fmt(D.msgNew, { name: c.name }) + ": " + m.text);
    speak(m.text);
    if (c.id !== active) {
      var item = itemOf(c.id);
      if (item) { item.querySelector(".ws-unread").hidden = false; item.classList.add("ws-has-unread"); }
      beep(880, 160);
    }
  }
  // a conversation that has ended: its one-line ending instead of the reply box (said once to screen readers)
  function ended(c) {
    var conv = convOf(c.id), form = composerOf(c.id);
    var line = conv && conv.querySelector(".ws-ending");
    if (!line) {
      line = document.createElement("p"); line.className = "ws-done ws-ending"; line.setAttribute("role", "status");
      var strong = document.createElement("strong"); strong.textContent = "○ " + (D.msgDone || "");
      line.appendChild(strong);
      if (form) form.replaceWith(line); else if (conv) conv.appendChild(line);
      announce(fmt(D.msgEndedAnnounce, { name: c.name }) + (c.ending_text ? " " + c.ending_text : ""));
    }
    if (mode === "phone") callEnded();
    if (c.ending_text && !line.querySelector(".ws-ending-text")) {
      var text = document.createElement("span"); text.className = "ws-ending-text"; text.textContent = c.ending_text;
      line.appendChild(document.createTextNode(" ")); line.appendChild(text);
    }
  }
  // phone: a call whose conversation has ended is over (no hold, no voice); «Transferir» stays for the hand-off note
  function callEnded() {
    var call = root.querySelector(".ws-call"); if (!call) return;
    call.querySelector(".ws-ringing").hidden = true; call.querySelector(".ws-call-bar").hidden = false;
    call.querySelector(".ws-call-state").textContent = "○ " + D.msgCallEnded;
    call.classList.add("ws-call-ended");  // hides hold, the voice toggle and its hint (css)
  }
  function poll() {
    fetch(D.stateUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; }).then(apply).catch(function () { /* offline: next time */ });
  }
  setInterval(poll, mode === "surge" ? 3000 : 6000);
  if (mode !== "email") setTimeout(poll, 300);  // what came due while the page was away (nudges, a customer gone)

  // Side panel: record, ticket, handbook, hand-off ---------------------------------------------
  var side = document.getElementById("ws-side"), openBtn = root.querySelector(".ws-side-open"), closeBtn = root.querySelector(".ws-side-close");
  var tabs = Array.prototype.slice.call(root.querySelectorAll(".ws-tabs [role=tab]"));
  function selectTab(name, focusPanel) {
    tabs.forEach(function (t) {
      var on = t.dataset.panel === name;
      t.setAttribute("aria-selected", on ? "true" : "false"); t.tabIndex = on ? 0 : -1;
      document.getElementById("panel-" + t.dataset.panel).hidden = !on;
    });
    if (focusPanel) document.getElementById("panel-" + name).focus({ preventScroll: !narrow.matches });
  }
  function setSide(open) {
    root.classList.toggle("ws-side-collapsed", !open);
    side.hidden = !open;
    openBtn.hidden = open;
    closeBtn.setAttribute("aria-expanded", open ? "true" : "false");
    openBtn.setAttribute("aria-expanded", open ? "true" : "false");
  }
  tabs.forEach(function (t, i) {
    t.addEventListener("click", function () { selectTab(t.dataset.panel); });
    t.addEventListener("keydown", function (e) {
      var step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      var next = tabs[(i + step + tabs.length) % tabs.length];
      selectTab(next.dataset.panel); next.focus();
    });
  });
  root.querySelectorAll(".ws-tool").forEach(function (link) {
    link.addEventListener("click", function (e) { e.preventDefault(); setSide(true); selectTab(link.dataset.panel, true); });
  });
  closeBtn.addEventListener("click", function () { setSide(false); openBtn.focus(); });
  openBtn.addEventListener("click", function () { setSide(true); selectTab(tabs.filter(function (t) { return t.getAttribute("aria-selected") === "true"; })[0].dataset.panel, true); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && narrow.matches && !side.hidden && !document.querySelector("dialog[open]")) setSide(false);
  });

  // Ticket ----------------------------------------------------------------------------------
  root.querySelectorAll(".ws-ticket").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = {};
      new FormData(form).forEach(function (v, k) { if (k !== "csrf_token") data[k] = v; });
      var status = form.querySelector(".ws-ticket-status");
      post(D.ticketUrl, data).then(function (res) {
        status.textContent = D.msgTicketSaved + " · " + clockTime();
        var badge = form.querySelector(".ws-ticket-state");
        var select = form.querySelector("select[name=estado]");
        badge.textContent = select.options[select.selectedIndex].text;
        form.dataset.saved = res.ticket.prioridad + "|" + res.ticket.estado;
      }).catch(function (err) { status.textContent = err.message; announce(err.message, true); });
    });
  });

  // Knowledge base --------------------------------------------------------------------------
  var kbForm = root.querySelector(".ws-kb-search");
  if (kbForm) {
    var results = root.querySelector(".ws-kb-results"), reader = root.querySelector(".ws-kb-reader");
    kbForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = kbForm.querySelector("input[name=q]").value.trim();
      if (!q) return;
      post(D.kbUrl, { q: q }).then(function (data) {
          reader.hidden = true; results.hidden = false; results.textContent = "";
          if (!data.results.length) { results.textContent = D.msgNoResults; return; }
          var ul = document.createElement("ul"); ul.className = "ws-kb-list";
          data.results.forEach(function (r) {
            var li = document.createElement("li"), b = document.createElement("button"), p = document.createElement("p");
            b.type = "button"; b.className = "link-like"; b.textContent = r.title;
            p.className = "hint"; p.textContent = r.context + " · " + r.snippet;
            b.addEventListener("click", function () { read(r.key); });
            li.appendChild(b); li.appendChild(p); ul.appendChild(li);
          });
          results.appendChild(ul);
        });
    });
    var read = function (k) {
      post(D.kbReadUrl, { key: k }).then(function (data) {
          if (!data.ok) return;
          reader.innerHTML = "";  // the section's HTML is sanitized by the server (nh3)
          var back = document.createElement("button"); back.type = "button"; back.className = "button-small"; back.textContent = "← " + kbForm.querySelector("button").textContent;
          back.addEventListener("click", function () { reader.hidden = true; results.hidden = false; results.querySelector("button") && results.querySelector("button").focus(); });
          var h = document.createElement("h3"); h.textContent = data.title;
          var body = document.createElement("div"); body.innerHTML = data.html;
          var a = document.createElement("a"); a.href = data.url; a.target = "_blank"; a.rel = "noopener"; a.textContent = data.title + " ↗";
          reader.appendChild(back); reader.appendChild(h); reader.appendChild(body); reader.appendChild(a);
          results.hidden = true; reader.hidden = false; reader.focus();
        });
    };
  }

  // Hand-off: one form, kept as a draft, prefilled from what the agent wrote ------------------
  var handoff = root.querySelector(".ws-handoff");
  if (handoff) {
    var handoffFields = Array.prototype.slice.call(handoff.querySelectorAll("select, input, textarea"));
    var handoffStatus = handoff.querySelector(".ws-handoff-status");
    var saveHandoff = function () {
      var fields = {};
      handoffFields.forEach(function (f) { fields[f.name.replace(/^esc-/, "")] = f.value; });
      local("draft:_handoff", { fields: fields, synced: false });
      saveDraft("_handoff", fields, null);
      handoffStatus.textContent = D.msgSaved + " · " + clockTime();
    };
    handoffFields.forEach(function (f) { f.addEventListener("input", saveHandoff); f.addEventListener("change", saveHandoff); });
    var fill = handoff.querySelector(".ws-handoff-fill");
    fill.hidden = false;
    fill.addEventListener("click", function () {
      var byName = {}; handoffFields.forEach(function (f) { byName[f.name.replace(/^esc-/, "")] = f; });
      var ticket = root.querySelector('.ws-ticket[data-thread="' + active + '"]') || root.querySelector(".ws-ticket");
      var written = [];
      root.querySelectorAll(".msg-agent .text").forEach(function (t) { written.push(t.textContent); });
      var note = written.join("\n").split(/Nota de escalamiento:/i)[1];
      var context = (note || "").trim() || (ticket ? ticket.querySelector("[name=descripcion]").value.trim() : "");
      if (!context) {
        var first = root.querySelector(".msg-customer .text");
        context = (first ? first.textContent.trim() + "\n" : "") + written.join("\n");
      }
      if (!byName.context.value.trim()) byName.context.value = context;
      if (ticket && !byName.priority.value.trim()) byName.priority.value = ticket.querySelector("[name=prioridad]").value;
      saveHandoff(); byName.context.focus();
    });
  }

  // Finish: a real dialog, then the plain form post -------------------------------------------
  var dialog = document.getElementById("finish-dialog");
  var finishForm = document.getElementById(mode === "email" ? "email-form" : "finish-form");
  if (finishForm && dialog && dialog.showModal) {
    var lastFocus = null;
    finishForm.addEventListener("submit", function (e) {
      if (e.submitter && e.submitter.hasAttribute("formaction")) return;  // "Guardar borrador"
      e.preventDefault();
      lastFocus = document.activeElement;
      var summary = document.getElementById("finish-summary"); summary.textContent = "";
      var waiting = root.querySelectorAll(".ws-composer").length;
      var level = document.getElementById("esc-level");
      var lines = [];
      if (mode !== "email" && waiting) lines.push(fmt(dialog.dataset.msgWaiting, { n: waiting }));
      lines.push(level && level.value ? fmt(dialog.dataset.msgEscalated, { n: level.value }) : dialog.dataset.msgNotEscalated);
      var saved = root.querySelectorAll(".ws-ticket[data-saved]").length + root.querySelectorAll(".ws-ticket .ws-ticket-state[data-exists]").length;
      lines.push(saved ? dialog.dataset.msgTicket : dialog.dataset.msgNoTicket);
      lines.forEach(function (l) { var li = document.createElement("li"); li.textContent = l; summary.appendChild(li); });
      dialog.showModal();
      document.getElementById("finish-confirm").focus();
    });
    document.getElementById("finish-cancel").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { if (lastFocus) lastFocus.focus(); });
    document.getElementById("finish-confirm").addEventListener("click", function () {
      flushAll();
      // replies still on their way are recorded first: the server checks every customer was answered
      chain.then(function () { HTMLFormElement.prototype.submit.call(finishForm); });
    });
  }

  // Phone: ringing, the customer's voice, hold, transfer, dictation -----------------------------
  var voices = [];
  function spanishVoice() {
    if (!("speechSynthesis" in window)) return null;
    voices = window.speechSynthesis.getVoices();
    return voices.filter(function (v) { return /^es/i.test(v.lang); })[0] || null;
  }
  var onHold = false;
  function speak(text) {
    if (mode !== "phone" || onHold) return;
    var box = root.querySelector(".ws-voice");
    var voice = spanishVoice();
    if (!box || !box.checked || !voice) return;
    var u = new SpeechSynthesisUtterance(text); u.voice = voice; u.lang = voice.lang;
    window.speechSynthesis.speak(u);
  }
  if (mode === "phone") {
    var call = root.querySelector(".ws-call"), conv = convs[0];
    var ringing = call.querySelector(".ws-ringing"), bar = call.querySelector(".ws-call-bar");
    var showNoVoice = function () { call.querySelector(".ws-no-voice").hidden = !!spanishVoice(); };
    if ("speechSynthesis" in window) window.speechSynthesis.addEventListener("voiceschanged", showNoVoice);
    var take = function (quiet) {
      ringing.hidden = true; bar.hidden = false; conv.classList.remove("ws-ringing-on");
      local("taken", true); showNoVoice();
      if (!quiet) {
        var last = conv.querySelectorAll(".msg-customer .text");
        if (last.length) speak(last[last.length - 1].textContent);
        var box = conv.querySelector(".ws-composer textarea"); if (box) box.focus();
      }
    };
    if (local("taken") || !conv.querySelector(".ws-composer") || conv.querySelectorAll(".msg-agent").length) take(true);
    else {
      ringing.hidden = false; conv.classList.add("ws-ringing-on");
      var rings = 1, count = ringing.querySelector(".ws-ring-count");
      beep(440, 400);
      var ringTimer = setInterval(function () {
        if (ringing.hidden) { clearInterval(ringTimer); return; }
        rings += 1;
        if (rings > 3) { count.textContent = "■ " + D.msgRingLate; count.classList.add("ws-late"); clearInterval(ringTimer); return; }
        count.textContent = fmt(D.msgRing, { n: rings }); beep(440, 400);
      }, 5000);
      ringing.querySelector(".ws-take").addEventListener("click", function () { take(false); });
    }
    var hold = call.querySelector(".ws-hold");
    hold.addEventListener("click", function () {
      onHold = !onHold;
      hold.setAttribute("aria-pressed", onHold ? "true" : "false");
      call.querySelector(".ws-call-state").textContent = onHold ? "‖ " + D.msgOnHold : hold.dataset.inCall;
      if (onHold && "speechSynthesis" in window) window.speechSynthesis.cancel();
      announce(onHold ? D.msgOnHold : D.msgOffHold);
    });
    hold.dataset.inCall = call.querySelector(".ws-call-state").textContent;
    if (!conv.querySelector(".ws-composer")) callEnded();
    var transfer = call.querySelector(".ws-transfer");
    if (transfer) transfer.addEventListener("click", function () { setSide(true); selectTab("handoff", true); });
    var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
    var dictate = conv.querySelector(".ws-dictate");
    if (Recognition && dictate) {
      dictate.hidden = false; conv.querySelector(".ws-dictation-note").hidden = false;
      var rec = null;
      dictate.addEventListener("click", function () {
        var box = conv.querySelector(".ws-composer textarea");
        if (rec) { rec.stop(); return; }
        rec = new Recognition(); rec.lang = "es-ES"; rec.interimResults = false;
        rec.onresult = function (ev) {
          var said = Array.prototype.map.call(ev.results, function (r) { return r[0].transcript; }).join(" ");
          box.value = (box.value ? box.value + " " : "") + said;
          box.dispatchEvent(new Event("input"));
        };
        rec.onend = function () { rec = null; dictate.setAttribute("aria-pressed", "false"); };
        dictate.setAttribute("aria-pressed", "true"); announce(D.msgListening);
        rec.start();
      });
    }
  }

  // Social: moving the complaint to private messages -------------------------------------------
  function divider() {
    var li = document.createElement("li"); li.className = "ws-divider"; li.setAttribute("role", "separator");
    li.textContent = (root.dataset.msgPrivateDivider || ""); return li;
  }
  function movedPrivate(position) {
    privateFrom = position;
    root.querySelectorAll(".ws-place-label").forEach(function (l) { l.textContent = l.dataset.private; });
    var form = root.querySelector(".ws-move-private");
    if (form) {
      var tag = document.createElement("p"); tag.className = "ws-place-tag ws-place-private";
      tag.textContent = (root.dataset.msgPrivateTag || ""); form.replaceWith(tag);
    }
  }
  var moveForm = root.querySelector(".ws-move-private");
  if (moveForm) {
    moveForm.addEventListener("submit", function (e) {
      e.preventDefault();
      post(D.privateUrl, {}).then(function (state) { apply(state); announce(root.dataset.msgPrivateTag); })
        .catch(function (err) { announce(err.message, true); });
    });
  }
  var existingDivider = root.querySelector(".ws-divider");
  if (existingDivider) privateFrom = parseInt(existingDivider.nextElementSibling.dataset.position, 10);
  else if (root.querySelector(".ws-place-private")) privateFrom = Infinity;

  // E-mail: structured composer, autosaved, previewed -------------------------------------------
  var emailForm = document.getElementById("email-form");
  if (emailForm) {
    var names = ["subject", "greeting", "body", "steps", "closing", "signature"];
    var fieldsOf = function () { var f = {}; names.forEach(function (n) { f[n] = emailForm.elements[n].value; }); return f; };
    var savedEmail = local("draft:_email");
    if (savedEmail && !savedEmail.synced) {
      names.forEach(function (n) { if (savedEmail.fields[n] !== undefined) emailForm.elements[n].value = savedEmail.fields[n]; });
      saveDraft("_email", fieldsOf(), emailForm);
    }
    var preview = document.getElementById("email-preview"), toggle = emailForm.querySelector(".ws-preview-toggle");
    var renderPreview = function () {
      var f = fieldsOf();
      preview.querySelector(".ws-preview-subject span").textContent = f.subject;
      preview.querySelector(".ws-preview-body").textContent = [f.greeting, f.body, f.steps, f.closing, f.signature]
        .filter(function (p) { return p.trim(); }).join("\n\n");
    };
    names.forEach(function (n) {
      emailForm.elements[n].addEventListener("input", function () {
        local("draft:_email", { fields: fieldsOf(), synced: false });
        saveDraft("_email", fieldsOf(), emailForm);
        if (!preview.hidden) renderPreview();
      });
    });
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var show = preview.hidden;
      renderPreview(); preview.hidden = !show;
      toggle.setAttribute("aria-expanded", show ? "true" : "false");
      if (show) preview.focus();
    });
  }

  // Start --------------------------------------------------------------------------------------
  var hash = (window.location.hash || "").replace(/^#conv-/, "");
  var first = convOf(hash) ? hash : (convOf(local("active")) ? local("active") : (convs[0] && convs[0].dataset.thread));
  if (first) activate(first, false);
  selectTab(mode === "ticket" ? "ticket" : "record");
  setSide(!narrow.matches);
  narrow.addEventListener("change", function () { setSide(!narrow.matches); });
  var savedHandoff = local("draft:_handoff");
  if (handoff && savedHandoff && !savedHandoff.synced) {
    handoff.querySelectorAll("select, input, textarea").forEach(function (f) {
      var v = savedHandoff.fields[f.name.replace(/^esc-/, "")]; if (v !== undefined) f.value = v;
    });
  }
  tick();
  setInterval(tick, 1000);
})();
