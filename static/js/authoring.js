// Authoring pages: the lesson editor's live preview (rendered by the server with the site's sanitizer),
// the size check before sending, and the citation picker. Every page works without this file.
(function () {
  "use strict";
  var form = document.getElementById("lesson-form") || document.getElementById("file-form");
  if (!form) return;
  var csrf = form.querySelector("input[name=csrf_token]");

  function post(url, data) {
    var body = new FormData();
    if (csrf) body.append("csrf_token", csrf.value);
    Object.keys(data).forEach(function (k) { body.append(k, data[k]); });
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                        headers: { "Accept": "application/json", "X-Requested-With": "fetch" } })
      .then(function (r) { return r.json(); });
  }

  // -- live preview ------------------------------------------------------------------------------------
  var bodyField = document.getElementById("body"), preview = document.getElementById("preview");
  var previewProblems = document.getElementById("preview-problems");
  var limit = parseInt(form.dataset.bodyLimit || "0", 10);
  var limitError = document.getElementById("body-limit-error");
  function tooLong() {
    if (!bodyField || !limit || !limitError) return false;
    var n = bodyField.value.length;
    if (n > limit) {
      limitError.textContent = form.dataset.msgTooLong.replace("{n}", n.toLocaleString()).replace("{max}", limit.toLocaleString());
      limitError.hidden = false;
      return true;
    }
    limitError.hidden = true;
    return false;
  }
  var timer = null;
  function refresh() {
    if (!bodyField || !preview) return;
    if (tooLong()) { preview.textContent = ""; return; }
    post(form.dataset.previewUrl, { body: bodyField.value }).then(function (data) {
      preview.innerHTML = data.html;  // sanitised by the server (nh3), the same filter as the lesson page
      previewProblems.textContent = "";
      (data.problems || []).forEach(function (p) {
        var li = document.createElement("li"); li.textContent = p; previewProblems.appendChild(li);
      });
    }).catch(function () {});
  }
  if (bodyField && preview && form.dataset.previewUrl) {
    bodyField.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
    refresh();
  }
  form.addEventListener("submit", function (event) {
    if (tooLong()) { event.preventDefault(); bodyField.focus(); }
  });

  // -- citation picker ---------------------------------------------------------------------------------
  var picker = document.getElementById("citation-picker");
  if (!picker) return;
  var q = document.getElementById("picker-q"), results = document.getElementById("picker-results");
  var sectionBox = document.getElementById("picker-section"), sectionTitle = document.getElementById("picker-section-title");
  var sectionText = document.getElementById("picker-text"), status = document.getElementById("picker-status");
  var target = document.getElementById(picker.dataset.target || "sources");
  var mode = picker.dataset.mode || "append";
  var snippet = document.getElementById("picker-snippet");
  var currentRef = null;

  function search() {
    var url = picker.dataset.searchUrl + "?q=" + encodeURIComponent(q.value);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        results.textContent = "";
        if (!data.results.length) { var li = document.createElement("li"); li.textContent = picker.dataset.msgNone; results.appendChild(li); }
        data.results.forEach(function (item) {
          var li = document.createElement("li"), button = document.createElement("button");
          button.type = "button"; button.className = "link-button"; button.textContent = item.title;
          button.dataset.ref = item.ref;
          button.addEventListener("click", function () { openSection(item.ref); });
          var small = document.createElement("small"); small.textContent = " " + item.context + " · " + item.ref;
          li.appendChild(button); li.appendChild(small); results.appendChild(li);
        });
      });
  }
  function openSection(ref) {
    fetch(picker.dataset.sectionUrl + "?ref=" + encodeURIComponent(ref), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        currentRef = data.ref;
        sectionTitle.textContent = data.page + " › " + data.title + " (" + data.ref + ")";
        sectionText.textContent = data.text;
        sectionBox.hidden = false; status.textContent = "";
      });
  }
  function selectedQuote() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0) return "";
    var node = selection.anchorNode;
    if (!node || !sectionText.contains(node)) return "";
    return selection.toString().replace(/\s+/g, " ").trim();
  }
  document.getElementById("picker-go").addEventListener("click", search);
  q.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); search(); } });
  document.getElementById("picker-cite").addEventListener("click", function () {
    var quote = selectedQuote();
    if (!quote || !currentRef) { status.textContent = picker.dataset.msgSelect; return; }
    post(picker.dataset.checkUrl, { ref: currentRef, quote: quote }).then(function (data) {
      if (!data.ok) { status.textContent = data.message; return; }
      var entry = "- ref: " + currentRef + "\n  quote: " + JSON.stringify(quote);
      if (mode === "fields") {  // the bank's "one citation for every question" fields
        document.getElementById("cite_ref").value = currentRef;
        target.value = quote;
      } else if (mode === "copy" || !target) {  // a YAML file: the citation to paste where it belongs
        snippet.textContent = entry; snippet.hidden = false;
      } else {
        var text = target.value.replace(/\s+$/, "");
        target.value = (text ? text + "\n" : "") + entry + "\n";
        target.dispatchEvent(new Event("input"));
      }
      status.textContent = picker.dataset.msgInserted;
    });
  });
})();

// "Try it": the draft scenario's customer model played on the server (lms/authoring/tryit.py), as the agent would
// see it. The page keeps the list of replies and sends all of it each time; every text is shown with textContent.
(function () {
  "use strict";
  var box = document.getElementById("try-it");
  if (!box) return;
  var form = document.getElementById("file-form");
  var csrf = form && form.querySelector("input[name=csrf_token]");
  var standard = parseInt(box.dataset.seconds || "0", 10);
  var holder = document.getElementById("try-it-threads"), problemsBox = document.getElementById("try-it-problems");
  var statusBox = document.getElementById("try-it-status"), endBox = document.getElementById("try-it-end");
  var restart = document.getElementById("try-it-restart");
  var replies = [], threads = {}, customers = [], busy = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function ask(list) {
    return fetch(box.dataset.url, { method: "POST", credentials: "same-origin", body: JSON.stringify({ replies: list }),
                                   headers: { "Content-Type": "application/json", "Accept": "application/json",
                                              "X-CSRFToken": csrf ? csrf.value : "" } })
      .then(function (r) { return r.json(); });
  }
  function showProblems(data) {
    problemsBox.textContent = "";
    problemsBox.appendChild(el("p", "", box.dataset.msgProblems));
    var ul = el("ul");
    (data.problems || []).forEach(function (p) {
      ul.appendChild(el("li", "", (p.field ? p.field + " · " : "") + (p.line ? p.line + ": " : "") + p.message));
    });
    problemsBox.appendChild(ul); problemsBox.hidden = false;
  }
  function names(ids, titles) {
    return ids.length ? ids.map(function (id) { return titles[id] || id; }).join(", ") : box.dataset.msgNone;
  }
  function build(data) {
    customers = data.customers; holder.textContent = ""; threads = {};
    customers.forEach(function (customer) {
      var thread = el("div", "try-thread"); thread.dataset.customer = customer.id;
      thread.appendChild(el("h3", "", customer.name + " (" + customer.type + ")"));
      var log = el("ol", "try-log"); log.setAttribute("aria-live", "polite");
      var input = el("textarea"); input.rows = 3; input.id = "try-" + customer.id;
      var label = el("label", "", box.dataset.msgYou); label.htmlFor = input.id;
      var send = el("button", "button secondary", box.dataset.msgSend); send.type = "button";
      thread.appendChild(log); thread.appendChild(label); thread.appendChild(input); thread.appendChild(send);
      holder.appendChild(thread);
      var t = threads[customer.id] = { thread: thread, log: log, input: input, send: send, since: Date.now(), customer: customer };
      send.addEventListener("click", function () { reply(t); });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); reply(t); }
      });
    });
  }
  function render(data) {
    var sim = data.simulation, several = customers.length > 1;
    Object.keys(threads).forEach(function (id) {
      var t = threads[id]; t.log.textContent = "";
      t.log.appendChild(el("li", "customer", t.customer.name + ": " + t.customer.opening));
    });
    sim.turns.forEach(function (turn, n) {
      var id = turn.customer_id || customers[0].id, t = threads[id], sent = replies[n];
      turn.nudges.forEach(function (text) { t.log.appendChild(el("li", "customer nudge", t.customer.name + ": " + text)); });
      t.log.appendChild(el("li", "agent", box.dataset.msgYou + ": " + sent.text));
      if (standard && sent.seconds !== undefined) {
        t.log.appendChild(el("li", sent.seconds <= standard ? "time ok" : "time late",
          box.dataset.msgTime.replace("{s}", sent.seconds).replace("{max}", standard)));
      }
      if (turn.customer) t.log.appendChild(el("li", "customer", t.customer.name + ": " + turn.customer));
      var facts = el("li", "try-facts"), dl = el("dl");
      [[box.dataset.msgMoves, names(turn.moves, t.customer.moves)], [box.dataset.msgNeeds, names(turn.needs_met, t.customer.needs)],
       [box.dataset.msgMood, turn.mood + (data.mood_labels[String(turn.mood)] ? " · " + data.mood_labels[String(turn.mood)] : "")]]
        .forEach(function (pair) { dl.appendChild(el("dt", "", pair[0])); dl.appendChild(el("dd", "", pair[1])); });
      facts.appendChild(dl); t.log.appendChild(facts);
      if (turn.ending) t.log.appendChild(el("li", "end", box.dataset.msgEnding + (turn.ending_text ? ": " + turn.ending_text : "") + " (" + turn.ending + ")"));
    });
    var endings = several ? sim.ending : (function () { var o = {}; o[customers[0].id] = sim.ending; return o; })();
    var allDone = true;
    Object.keys(threads).forEach(function (id) {
      var done = !!endings[id]; threads[id].input.disabled = done; threads[id].send.disabled = done;
      threads[id].thread.classList.toggle("ended", done);
      if (!done) allDone = false;
    });
    endBox.textContent = "";
    if (allDone && replies.length) {
      Object.keys(threads).forEach(function (id) {
        var section = el("section", "try-precheck");
        if (several) section.appendChild(el("p", "try-precheck-who", threads[id].customer.name + " · " + box.dataset.msgEnding + ": " + endings[id]));
        var holderDiv = el("div");
        holderDiv.innerHTML = data.precheck_html[id];  // rendered by the server from the site's template (autoescaped)
        section.appendChild(holderDiv);
        endBox.appendChild(section);
      });
      endBox.hidden = false;
    } else {
      endBox.hidden = true;
    }
    restart.hidden = !replies.length;
  }
  function run(list) {
    busy = true; statusBox.textContent = box.dataset.msgWorking;
    return ask(list).then(function (data) {
      busy = false; statusBox.textContent = "";
      if (data.problems) { showProblems(data); holder.textContent = ""; return false; }
      problemsBox.hidden = true;
      if (!data.ok) { statusBox.textContent = data.error || box.dataset.msgFailed; return false; }
      if (!customers.length) build(data);
      replies = list; render(data);
      return true;
    }).catch(function () { busy = false; statusBox.textContent = box.dataset.msgFailed; return false; });
  }
  function reply(t) {
    var text = t.input.value.trim();
    if (!text || busy) return;
    var item = { text: text, seconds: Math.round((Date.now() - t.since) / 1000) };
    if (customers.length > 1) item.customer = t.customer.id;
    run(replies.concat([item])).then(function (ok) {
      if (ok) { t.input.value = ""; t.since = Date.now(); t.input.focus(); }
    });
  }
  restart.addEventListener("click", function () {
    run([]).then(function () { Object.keys(threads).forEach(function (id) { threads[id].since = Date.now(); threads[id].input.value = ""; }); });
  });
  run([]);
})();
