// Role-play practice: a live timer under each reply box, measured against the channel's
// standard. The server measures the real reply time; this only shows it as it runs.
(function () {
  "use strict";
  var timers = document.querySelectorAll(".live-timer");
  if (!timers.length) return;
  var loaded = Date.now();
  function tick() {
    timers.forEach(function (el) {
      var shown = Date.parse(el.dataset.shown), now = Date.parse(el.dataset.now);
      var seconds = Math.max(0, Math.round((now - shown + (Date.now() - loaded)) / 1000));
      var standard = parseInt(el.dataset.standard, 10);
      el.textContent = " · " + seconds + " s / " + standard + " s";
      el.classList.toggle("late", seconds > standard);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
