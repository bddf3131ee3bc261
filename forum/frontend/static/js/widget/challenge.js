// The guest spam check: ALTCHA's proof of work, solved by its vendored worker in this
// browser (nothing is sent anywhere else). It starts when a guest begins to write and
// says plainly what it is doing; the solved payload goes with the guest's post.
import { html, useEffect, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api } from './api.js';

const WORKER = new URL('../../vendor/altcha/pbkdf2.js', import.meta.url).href;
const FRESH_MS = 20 * 60 * 1000; // the server's challenges last 30 minutes

function solve(challenge) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER);
    worker.onmessage = (e) => {
      worker.terminate();
      if (e.data && e.data.derivedKey) resolve(e.data);
      else reject(new Error('unsolved'));
    };
    worker.onerror = () => { worker.terminate(); reject(new Error('worker')); };
    worker.postMessage({ type: 'work', challenge, counterMode: 'uint32', counterStart: 0, counterStep: 1, timeout: 90000 });
  });
}

export async function solvedPayload() {
  const challenge = await api('GET', '/api/guest-challenge', undefined, { anonymous: true });
  const solution = await solve(challenge);
  return btoa(JSON.stringify({ challenge, solution: { counter: solution.counter, derivedKey: solution.derivedKey } }));
}

// `start`: true once the guest has begun to write. `onSolved(payload | null)`.
export function Challenge({ start, onSolved, id }) {
  const [state, setState] = useState('idle'); // idle | working | done | failed
  const [at, setAt] = useState(0);
  const run = async () => {
    setState('working');
    onSolved(null);
    try {
      onSolved(await solvedPayload());
      setAt(Date.now());
      setState('done');
    } catch (err) {
      setState('failed');
    }
  };
  useEffect(() => {
    if (start && (state === 'idle' || (state === 'done' && Date.now() - at > FRESH_MS))) run();
  }, [start]);
  return html`<div class="challenge" id=${id} tabindex="-1">
    <p class="hint" role="status">${t(`widget.challenge_${state}`)}</p>
    ${state === 'failed' && html`<button type="button" class="button secondary" onClick=${run}>${t('widget.challenge_retry')}</button>`}
  </div>`;
}
