// LTI pages: the third-party cookie check before the OIDC redirect, and the auto-submitted
// deep-linking response. (No inline scripts: the site's CSP allows only 'self'.)
(function () {
  "use strict";
  var check = document.getElementById("lti-cookie-check");
  if (check) {
    var secure = window.location.protocol === "https:";
    document.cookie = "lti1p3-cookie-check=1; path=/" + (secure ? "; SameSite=None; Secure; Partitioned" : "");
    if (navigator.cookieEnabled && document.cookie.indexOf("lti1p3-cookie-check=1") !== -1) {
      window.location.replace(check.getAttribute("data-url"));
    } else {
      document.getElementById("lti-loading").hidden = true;
      document.getElementById("lti-blocked").hidden = false;
    }
  }
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
})();
