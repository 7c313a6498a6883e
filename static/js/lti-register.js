// LTI Dynamic Registration, last step: tell the platform (the window that opened us, or the frame's parent)
// that the registration is complete, so it closes its dialog (IMS LTI Dynamic Registration 1.0, section 3.6).
(function () {
  "use strict";
  if (!document.getElementById("lti-registered")) { return; }
  var target = window.opener || (window.parent !== window ? window.parent : null);
  if (target) { target.postMessage({subject: "org.imsglobal.lti.close"}, "*"); }
})();
