// The poster's 打印 button (same-origin script: the page's CSP allows no inline handlers).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-action=print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
