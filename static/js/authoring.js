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

// "Try it": a draft role-play as the agent would see it (each customer's messages in turn, the reply timed).
(function () {
  "use strict";
  var box = document.getElementById("try-it");
  if (!box) return;
  var customers = JSON.parse(box.dataset.customers || "[]");
  var standard = parseInt(box.dataset.seconds || "0", 10);
  var holder = document.getElementById("try-it-threads");
  customers.forEach(function (customer) {
    var thread = document.createElement("div"); thread.className = "try-thread";
    var title = document.createElement("h3"); title.textContent = customer.name + " (" + customer.type + ")";
    var log = document.createElement("ol"); log.className = "try-log";
    var label = document.createElement("label"); label.textContent = box.dataset.msgYou;
    var input = document.createElement("textarea"); input.rows = 2; input.id = "try-" + customer.id;
    label.htmlFor = input.id;
    var send = document.createElement("button"); send.type = "button"; send.className = "button secondary"; send.textContent = box.dataset.msgSend;
    var shown = 0, since = Date.now();
    function say(who, text, cls) { var li = document.createElement("li"); li.className = cls; li.textContent = who ? who + ": " + text : text; log.appendChild(li); }
    function next() {
      if (shown < customer.messages.length) { say(customer.name, customer.messages[shown], "customer"); shown += 1; since = Date.now(); }
      else { say("", box.dataset.msgEnd, "end"); input.disabled = true; send.disabled = true; }
    }
    send.addEventListener("click", function () {
      var text = input.value.trim(); if (!text) return;
      var seconds = Math.round((Date.now() - since) / 1000);
      say(box.dataset.msgYou, text, "agent");
      if (standard) say("", box.dataset.msgTime.replace("{s}", seconds).replace("{max}", standard), seconds <= standard ? "time ok" : "time late");
      input.value = ""; next();
    });
    thread.appendChild(title); thread.appendChild(log); thread.appendChild(label); thread.appendChild(input); thread.appendChild(send);
    holder.appendChild(thread);
    next();
  });
})();
