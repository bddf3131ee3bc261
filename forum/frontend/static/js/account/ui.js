// Shared pieces of the account pages: error summary, fields, the "done" panel, API errors.
import { html, useEffect, useRef } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { splitDetail } from './api.js';

// An API answer that failed -> {field: message} (key "" for a message about the whole form).
export function problems(result, fieldOf) {
  if (result.status === 0) return { '': t('common.error_network') };
  if (result.status === 429) return { '': t('common.error_rate') };
  if (result.status >= 500 || !result.data) return { '': t('common.error_generic') };
  const [field, message] = splitDetail(result.data.detail);
  const target = field && fieldOf ? fieldOf(field) : null;
  return target ? { [target]: message } : { '': message || t('common.error_generic') };
}

// GOV.UK error summary: a titled box, focused when it appears, linking to each field.
export function ErrorSummary({ errors }) {
  const ref = useRef(null);
  const entries = Object.entries(errors || {}).filter(([, v]) => v);
  useEffect(() => { if (entries.length && ref.current) ref.current.focus(); }, [JSON.stringify(errors)]);
  if (!entries.length) return null;
  return html`<div class="error-summary" role="alert" tabindex="-1" ref=${ref}>
    <h2>${t('common.error_title')}</h2>
    <ul>${entries.map(([field, message]) => html`<li key=${field}>${field
      ? html`<a href=${'#' + field}>${message}</a>` : message}</li>`)}</ul>
  </div>`;
}

export function Field({ id, label, hint, error, type = 'text', value, onInput, autocomplete, required = true,
                        inputmode, spellcheck }) {
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return html`<div class=${'field' + (error ? ' invalid' : '')}>
    <label for=${id}>${label}</label>
    ${hint ? html`<span class="hint" id=${id + '-hint'}>${hint}</span>` : null}
    ${error ? html`<span class="error-message" id=${id + '-error'}><span class="visually-hidden">${t('account.error_prefix')} </span>${error}</span>` : null}
    <input id=${id} name=${id} type=${type} value=${value} onInput=${(e) => onInput(e.currentTarget.value)}
      autocomplete=${autocomplete} required=${required} aria-invalid=${error ? 'true' : undefined}
      aria-describedby=${described} inputmode=${inputmode} spellcheck=${spellcheck} />
  </div>`;
}

// A finished step: focused so a screen reader hears it and the keyboard starts there.
export function Done({ title, children, kind = 'done' }) {
  const ref = useRef(null);
  useEffect(() => { if (ref.current) ref.current.focus(); }, []);
  return html`<div class=${kind} tabindex="-1" ref=${ref} role="status">
    ${title ? html`<h2>${title}</h2>` : null}
    ${children}
  </div>`;
}

export function Button({ busy, children, kind = '', type = 'submit', onClick, id }) {
  return html`<button class=${'button ' + kind} type=${type} onClick=${onClick} id=${id}
    aria-disabled=${busy ? 'true' : undefined} disabled=${busy}>${children}</button>`;
}
