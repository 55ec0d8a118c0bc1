// Member pages: countdowns, "copy the link", and the Telegram Mini App sign-in. No inline
// script is allowed by the Content-Security-Policy, so all of it lives here.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // <strong data-countdown-to="ISO time" data-days="天">: h:mm:ss (or "N 天 h:mm:ss") until
  // then; the word for days comes from the page, in its language.
  function tick() {
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.countdownTo) - Date.now()) / 1000));
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600);
      var m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = (d ? d + " " + (el.dataset.days || "d") + " " : "") + h + ":" + pad(m) + ":" + pad(s);
      if (left === 0 && !el.dataset.reloaded) {
        el.dataset.reloaded = "1";
        window.setTimeout(function () { window.location.reload(); }, 1500);
      }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var done = function () {
      if (button.dataset.copied) { button.textContent = button.dataset.copied; }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(button.dataset.copy).then(done, function () { select(button); });
    } else {
      select(button);
    }
  });

  // Where the clipboard is not available (an in-app browser, plain http), select the link in
  // its field so that the phone offers "copy".
  function select(button) {
    var field = document.getElementById(button.dataset.copyField || "");
    if (field) { field.focus(); field.select(); }
  }

  // Telegram passes initData in the address's fragment (#tgWebAppData=…).
  function telegramSignIn() {
    var start = document.getElementById("telegram-start");
    if (!start) { return; }
    var fragment = new URLSearchParams(window.location.hash.slice(1));
    var initData = fragment.get("tgWebAppData") || "";
    var csrf = start.dataset.csrf;
    var body = new URLSearchParams({ init_data: initData });
    fetch(start.dataset.sessionUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf },
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      window.location.replace(data.next);
    }).catch(function () {
      start.textContent = start.dataset.failed;
    });
  }

  tick();
  window.setInterval(tick, 1000);
  telegramSignIn();
})();
