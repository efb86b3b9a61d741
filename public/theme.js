/* global document, window */
// The reader's colour theme, applied before the first paint: loaded by a blocking <script src> in
// every page's <head> (the Content-Security-Policy allows 'self' scripts, not inline ones), so a
// dark-theme reader never sees a flash of the light page. "system" (nothing stored) leaves the
// choice to prefers-color-scheme; "light" and "dark" pin it with data-theme on <html>. Plain
// JavaScript, no module: it must run before the body is parsed, and it is the only script every
// page loads.
(function () {
  var KEY = 'irlab-theme';
  var root = document.documentElement;
  function stored() {
    try {
      var value = localStorage.getItem(KEY);
      return value === 'light' || value === 'dark' ? value : 'system';
    } catch {
      return 'system'; // storage disabled: the system's preference
    }
  }
  function apply(choice) {
    if (choice === 'light' || choice === 'dark') root.setAttribute('data-theme', choice);
    else root.removeAttribute('data-theme');
    var select = document.getElementById('theme-choice');
    if (select) select.value = choice;
  }
  // The header's theme control is shown only when this script runs (it does nothing without it).
  root.classList.add('has-theme-choice');
  apply(stored());
  document.addEventListener('DOMContentLoaded', function () {
    var select = document.getElementById('theme-choice');
    if (!select) return;
    select.value = stored();
    select.addEventListener('change', function () {
      try {
        if (select.value === 'system') localStorage.removeItem(KEY);
        else localStorage.setItem(KEY, select.value);
      } catch {
        // storage full or disabled: the choice lasts for this page only
      }
      apply(select.value);
    });
  });
  // Another tab changed the theme.
  window.addEventListener('storage', function (event) {
    if (event.key === KEY || event.key === null) apply(stored());
  });
})();
