// Progressive enhancement only: every page works without this file.
(function () {
  'use strict'
  function enhance(root) {
    // Propose the browser's time zone where a form asks for one (the server validates it).
    root.querySelectorAll('input[data-browser-time-zone]').forEach(function (input) {
      try {
        var zone = Intl.DateTimeFormat().resolvedOptions().timeZone
        if (zone && input.value === 'UTC') input.value = zone
      } catch (e) { /* keep UTC */ }
    })
    // With JavaScript, a confirmation dialog (hx-confirm) replaces the separate confirmation page.
    root.querySelectorAll('[data-confirm-link]').forEach(function (link) { link.hidden = true })
    root.querySelectorAll('[data-confirm-button]').forEach(function (button) { button.hidden = false })
    // "Copy" buttons next to read-only fields; without JavaScript the field itself can be selected.
    root.querySelectorAll('[data-copy]').forEach(function (button) {
      button.hidden = false
      if (button.dataset.bound) return
      button.dataset.bound = '1'
      button.addEventListener('click', function () {
        var field = document.getElementById(button.dataset.copy)
        if (!field) return
        var done = function () { button.textContent = button.dataset.copied || button.textContent }
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value).then(done, function () { field.select() })
        else { field.select(); try { document.execCommand('copy'); done() } catch (e) { /* selected for the user */ } }
      })
    })
  }
  // Boosted navigation swaps the body only: carry the new page's language over to <html lang>.
  document.addEventListener('htmx:afterSwap', function (event) {
    var xhr = event.detail && event.detail.xhr
    var match = xhr && /<html[^>]*\slang="([a-z-]+)"/i.exec(xhr.responseText || '')
    if (match) document.documentElement.lang = match[1]
  })
  document.addEventListener('DOMContentLoaded', function () { enhance(document) })
  document.addEventListener('htmx:load', function (event) { enhance(event.target) })
})()
