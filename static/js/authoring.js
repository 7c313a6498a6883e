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
