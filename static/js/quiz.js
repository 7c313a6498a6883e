// Quiz attempt page: server-anchored countdown, auto-save, submit confirmation.
// The page works without this file: "Guardar" and "Enviar" are plain form posts,
// and the time limit is enforced by the server.
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form) return;
  var status = document.getElementById("save-status");
  var submitting = false;
  var dirty = false;
  var saving = false;

  function say(text) { if (status) status.textContent = text; }

  function save() {
    if (saving || submitting || !dirty) return Promise.resolve();
    saving = true;
    dirty = false;
    say(form.dataset.msgSaving);
    var body = new FormData(form);
    return fetch(form.dataset.saveUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (data) {
        if (data.closed) { window.location.reload(); return; }
        // the session ended (idle or absolute limit): say so, then the reload leads to the sign-in page
        if (data.expired) { say(data.message); submitting = true; setTimeout(function () { window.location.reload(); }, 2500); return; }
        if (!response.ok) { throw new Error(data.message || response.status); }
        var time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        say(form.dataset.msgSaved + " · " + time);
      });
    }).catch(function () {
      dirty = true;
      say(form.dataset.msgError);
    }).then(function () { saving = false; });
  }

  var timer = null;
  form.addEventListener("change", function () { dirty = true; clearTimeout(timer); timer = setTimeout(save, 1500); });
  form.addEventListener("input", function () { dirty = true; clearTimeout(timer); timer = setTimeout(save, 4000); });
  setInterval(save, 30000);

  var submitButton = document.getElementById("submit-attempt");
  if (submitButton) {
    submitButton.addEventListener("click", function (event) {
      if (!window.confirm(form.dataset.msgConfirm)) { event.preventDefault(); return; }
      submitting = true;
    });
  }
  form.addEventListener("submit", function () { submitting = true; });

  // how many questions have an answer: the bar under the title follows the agent's input
  var bar = document.getElementById("answered-bar"), count = document.getElementById("answered-count");
  function answered(question) {
    var fields = question.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if ((f.type === "radio" || f.type === "checkbox") ? f.checked : (f.type !== "hidden" && f.value.trim() !== "")) return true;
    }
    return false;
  }
  function recount() {
    var n = 0, questions = form.querySelectorAll("li.question");
    for (var i = 0; i < questions.length; i++) { if (answered(questions[i])) n++; }
    if (bar) bar.value = n;
    if (count) count.textContent = n;
  }
  form.addEventListener("change", recount);
  form.addEventListener("input", recount);

  var clock = document.getElementById("timer");
  if (clock) {
    var value = document.getElementById("timer-value");
    var end = Date.now() + parseInt(clock.dataset.remaining, 10) * 1000;
    var warned = false;
    var tick = function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      var minutes = Math.floor(left / 60), seconds = left % 60;
      value.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      if (left <= 60 && !warned) {
        warned = true;
        clock.classList.add("warning");
        clock.setAttribute("aria-live", "assertive");
        say(form.dataset.msgMinute);
      }
      if (left === 0 && !submitting) {
        submitting = true;
        form.action = form.dataset.submitUrl;
        form.submit();
        return;
      }
      setTimeout(tick, 1000);
    };
    tick();
  }
})();
