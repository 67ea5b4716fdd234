// After a failed submit, the keyboard lands on the error summary. Its autofocus attribute does
// this without script; this covers a URL that still carries the skip link's #main, whose
// fragment would otherwise take the focus.
window.addEventListener("load", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
});
