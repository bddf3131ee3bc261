// The guest challenge: ALTCHA's proof of work (vendored, run by workers from this origin;
// nothing is sent anywhere else). The solved payload goes with the guest's post.
import { html, useEffect, useRef } from '../lib/ui.js';
import { t } from '../lib/i18n.js';

let loading = null;
function loadAltcha() {
  if (!loading) {
    loading = import('../../vendor/altcha/altcha.min.js').then(() => {
      const workerUrl = new URL('../../vendor/altcha/pbkdf2.js', import.meta.url).href;
      const algorithms = window.$altcha && window.$altcha.algorithms;
      if (algorithms) {
        ['PBKDF2/SHA-256', 'PBKDF2/SHA-384', 'PBKDF2/SHA-512'].forEach((name) => algorithms.set(name, () => new Worker(workerUrl)));
      }
    });
  }
  return loading;
}

export function Challenge({ onSolved }) {
  const ref = useRef(null);
  useEffect(() => {
    let widget = null;
    const onState = (e) => {
      const detail = e.detail || {};
      onSolved(detail.state === 'verified' && detail.payload ? detail.payload : null);
    };
    loadAltcha().then(() => {
      if (!ref.current) return;
      widget = document.createElement('altcha-widget');
      widget.setAttribute('challenge', '/api/guest-challenge');
      widget.setAttribute('name', 'altcha');
      widget.setAttribute('workers', '2');
      widget.setAttribute('language', document.documentElement.lang || 'en');
      widget.addEventListener('statechange', onState);
      ref.current.appendChild(widget);
    });
    return () => { if (widget) widget.removeEventListener('statechange', onState); };
  }, []);
  return html`<div class="challenge">
    <p class="hint">${t('widget.challenge_hint')}</p>
    <div ref=${ref}></div>
  </div>`;
}
