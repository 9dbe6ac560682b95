// shoplink: small progressive enhancements; every page works without this file.
// No inline scripts anywhere (CSP `script-src 'self'`): pages mark elements with data-*
// attributes and this file finds them.
(function () {
  'use strict';

  // Copy to clipboard: <button data-copy-target="ID"> copies the value of the input #ID.
  // An optional data-copied-label is shown on the button for two seconds afterwards.
  document.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('[data-copy-target]') : null;
    if (!button) return;
    var input = document.getElementById(button.getAttribute('data-copy-target'));
    if (!input) return;
    event.preventDefault();
    var copied = function () {
      var label = button.getAttribute('data-copied-label');
      // Said to screen readers too, through the status line beside the button.
      var status = document.querySelector('[data-copy-status="' + button.getAttribute('data-copy-target') + '"]');
      if (status && label) status.textContent = label;
      if (!label || button.getAttribute('data-copy-busy')) return;
      var before = button.textContent;
      button.setAttribute('data-copy-busy', '1');
      button.textContent = label;
      button.classList.add('copied');
      setTimeout(function () {
        button.textContent = before;
        button.classList.remove('copied');
        button.removeAttribute('data-copy-busy');
        if (status) status.textContent = '';
      }, 2000);
    };
    var fallback = function () {
      // Older browsers and plain-http pages: select the text and use the legacy command.
      input.focus();
      input.select();
      try {
        if (document.execCommand('copy')) copied();
      } catch (e) { /* the text stays selected for a manual copy */ }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(copied, fallback);
    } else {
      fallback();
    }
  });

  // A message that says what just happened (`?outcome=…`) is shown once: the address loses
  // its `outcome`, so a reload, a bookmark or Back does not say it again. Without this
  // file the message stays in the address (and on reload).
  if (window.history && history.replaceState && window.URLSearchParams) {
    var params = new URLSearchParams(window.location.search);
    if (params.has('outcome')) {
      params.delete('outcome');
      var rest = params.toString();
      history.replaceState(history.state, '', window.location.pathname + (rest ? '?' + rest : '') + window.location.hash);
    }
  }

  // A form that came back with errors: the focus goes to the first marked field (the
  // summary above the form is announced through its role="alert").
  var invalid = document.querySelector('form [aria-invalid="true"]');
  if (invalid && invalid.focus) {
    invalid.focus();
  }

  // Bulk re-verification: while a job runs, poll its progress every second and update
  // the numbers, the percentage, the time left and the <progress> bar; reload once it ends
  // to show the final state (and the start button enabled again). The "reload" link is
  // hidden while this works and shown again when polling fails.
  var job = document.querySelector('[data-job-progress]');
  if (job && window.fetch) {
    var url = job.getAttribute('data-job-progress');
    var refresh = job.querySelector('[data-job-refresh]');
    var bar = job.querySelector('progress');
    if (refresh) refresh.hidden = true;
    var set = function (name, value) {
      var el = job.querySelector('[data-job-field="' + name + '"]');
      if (el) el.textContent = String(value);
    };
    var timer = null;
    var stop = function () {
      if (timer !== null) clearInterval(timer);
      timer = null;
    };
    var poll = function () {
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' }, cache: 'no-store' })
        .then(function (response) {
          if (!response.ok) throw new Error('status ' + response.status);
          return response.json();
        })
        .then(function (p) {
          set('done', p.done);
          set('total', p.total);
          set('failures', p.failures);
          set('state_label', p.state_label);
          set('percent_text', p.percent_text);
          set('eta', p.eta || '');
          set('summary', p.summary);
          if (bar) {
            bar.max = Math.max(p.total, 1);
            bar.value = p.total === 0 ? 1 : Math.min(p.done, p.total);
            bar.textContent = p.percent_text;
          }
          if (!p.running) {
            stop();
            window.location.reload();
          }
        })
        .catch(function () {
          // Logged out, offline or a server error: stop and offer the manual refresh.
          stop();
          if (refresh) refresh.hidden = false;
        });
    };
    timer = setInterval(poll, 1000);
  }

  // Leaving for ITS can take a while (the provider is called first): a form marked
  // data-busy-form disables its button on submit and says so (data-busy-label), so nobody
  // presses twice or wonders. Without this file the form simply submits.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute('data-busy-form')) return;
    if (form.getAttribute('data-busy') === '1') {
      event.preventDefault();
      return;
    }
    form.setAttribute('data-busy', '1');
    var button = form.querySelector('button[type="submit"]');
    if (!button) return;
    var label = form.getAttribute('data-busy-label');
    button.setAttribute('data-idle-label', button.textContent);
    if (label) button.textContent = label;
    button.setAttribute('aria-disabled', 'true');
    // After the submission has started, so the browser still sends the form.
    setTimeout(function () { button.disabled = true; }, 0);
  });
  // Back from ITS through the browser's cache: the buttons work again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    var forms = document.querySelectorAll('form[data-busy="1"]');
    for (var i = 0; i < forms.length; i++) {
      forms[i].removeAttribute('data-busy');
      var button = forms[i].querySelector('button[type="submit"]');
      if (!button) continue;
      button.disabled = false;
      button.removeAttribute('aria-disabled');
      var idle = button.getAttribute('data-idle-label');
      if (idle) button.textContent = idle;
    }
  });
})();
