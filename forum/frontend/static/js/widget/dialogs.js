// Modal dialogs: the browser's <dialog> with showModal (it traps focus and closes on Escape);
// focus returns to what opened it. In a frame as tall as its content, the dialog is placed
// near what opened it, and the blog's page is asked to scroll it into view.
import { html, useEffect, useRef, useState, useId } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api } from './api.js';
import { scrollParentTo } from './util.js';
import { ErrorSummary } from './forms.js';

export function Dialog({ title, onClose, children, className = '' }) {
  const ref = useRef(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement;
    const anchor = opener && opener !== document.body ? opener.getBoundingClientRect().top : window.scrollY;
    dialog.style.top = `${Math.max(8, Math.round(anchor - 120))}px`;
    dialog.showModal();
    // the frame is as tall as its content: keep it tall enough for the dialog as it grows
    const fit = () => { document.body.style.minHeight = `${Math.ceil(dialog.getBoundingClientRect().bottom + 24)}px`; };
    fit();
    const observer = 'ResizeObserver' in window ? new ResizeObserver(fit) : null;
    if (observer) observer.observe(dialog);
    scrollParentTo(dialog);
    return () => {
      if (observer) observer.disconnect();
      document.body.style.minHeight = '';
      const active = document.activeElement;
      const unclaimed = !active || active === document.body || dialog.contains(active);
      if (dialog.open) dialog.close();
      // back to what opened it, unless the action that closed it moved focus elsewhere
      if (unclaimed && opener && opener.isConnected && opener.focus) opener.focus();
    };
  }, []);
  const cancel = (e) => { e.preventDefault(); onClose(); };
  return html`<dialog ref=${ref} class=${`modal ${className}`} aria-labelledby=${id} onCancel=${cancel}>
    <div class="modal-head">
      <h2 id=${id}>${title}</h2>
      <button type="button" class="link-button close" onClick=${onClose} aria-label=${t('common.close')}>✕</button>
    </div>
    ${children}
  </dialog>`;
}

export function FlagDialog({ comment, reasons, onClose, onDone }) {
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const first = useId();
  const submit = async (e) => {
    e.preventDefault();
    if (!reason) { setErrors([{ field: `${first}-0`, text: t('widget.flag_choose') }]); return; }
    setBusy(true);
    try {
      await api('POST', `/api/comments/${comment.id}/flags`, note.trim() ? { reason, note: note.trim() } : { reason });
      onDone(t('widget.flag_thanks'));
    } catch (err) {
      if (err.status === 409) onDone(t('widget.flag_already'));
      else setErrors([{ field: `${first}-0`, text: err.message_for_reader }]);
    } finally { setBusy(false); }
  };
  return html`<${Dialog} title=${t('widget.flag_title')} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <${ErrorSummary} errors=${errors} />
      <p>${t('widget.flag_intro')}</p>
      <fieldset>
        <legend>${t('widget.flag_reason')}</legend>
        ${reasons.map((r, i) => html`<div class="radio" key=${r}>
          <input type="radio" id=${`${first}-${i}`} name="reason" value=${r} checked=${reason === r}
                 onChange=${() => setReason(r)} />
          <label for=${`${first}-${i}`}>${t(`widget.reason.${r}`)}</label>
        </div>`)}
      </fieldset>
      <div class="field">
        <label for=${`${first}-note`}>${t('widget.flag_note')}</label>
        <span class="hint" id=${`${first}-note-hint`}>${t('widget.flag_note_hint')}</span>
        <textarea id=${`${first}-note`} maxlength="500" aria-describedby=${`${first}-note-hint`}
                  value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea>
      </div>
      <div class="actions">
        <button type="submit" class="button" disabled=${busy}>${t('widget.flag_send')}</button>
        <button type="button" class="button secondary" onClick=${onClose}>${t('common.cancel')}</button>
      </div>
    </form>
  <//>`;
}

export function ConfirmDialog({ title, text, confirm, onConfirm, onClose }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const go = async () => {
    setBusy(true);
    try { await onConfirm(); } catch (err) { setError(err.message_for_reader || String(err)); setBusy(false); }
  };
  return html`<${Dialog} title=${title} onClose=${onClose}>
    <p>${text}</p>
    ${error && html`<p class="error-message" role="alert">${error}</p>`}
    <div class="actions">
      <button type="button" class="button danger" disabled=${busy} onClick=${go}>${confirm}</button>
      <button type="button" class="button secondary" onClick=${onClose}>${t('common.cancel')}</button>
    </div>
  <//>`;
}

export function AuthDialog({ initialMode = 'signin', onClose, onSignedIn }) {
  const [mode, setMode] = useState(initialMode);
  const [values, setValues] = useState({ login: '', handle: '', password: '', email: '' });
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const set = (k) => (e) => setValues({ ...values, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    const problems = [];
    if (mode === 'signin') {
      if (!values.login.trim()) problems.push({ field: `${id}-login`, text: t('widget.auth_need_login') });
    } else if (values.handle.trim().length < 3) problems.push({ field: `${id}-handle`, text: t('widget.auth_need_handle') });
    if (values.password.length < (mode === 'signin' ? 1 : 8)) {
      problems.push({ field: `${id}-password`, text: t(mode === 'signin' ? 'widget.auth_need_password' : 'widget.auth_short_password') });
    }
    setErrors(problems);
    if (problems.length) return;
    setBusy(true);
    try {
      const body = mode === 'signin'
        ? { login: values.login.trim(), password: values.password }
        : { handle: values.handle.trim(), password: values.password, ...(values.email.trim() ? { email: values.email.trim() } : {}) };
      const answer = await api('POST', mode === 'signin' ? '/api/auth/login' : '/api/auth/register', body, { anonymous: true });
      onSignedIn(answer.token, answer.user);
    } catch (err) {
      const field = mode === 'signin' ? `${id}-login` : `${id}-handle`;
      setErrors([{ field, text: err.status === 401 ? t('widget.auth_wrong') : err.message_for_reader }]);
    } finally { setBusy(false); }
  };
  const field = (name, label, type, hint, autocomplete) => html`<div class=${`field ${errors.some((x) => x.field === `${id}-${name}`) ? 'invalid' : ''}`}>
    <label for=${`${id}-${name}`}>${label}</label>
    ${hint && html`<span class="hint" id=${`${id}-${name}-hint`}>${hint}</span>`}
    <input id=${`${id}-${name}`} type=${type} autocomplete=${autocomplete} value=${values[name]} onInput=${set(name)}
           aria-describedby=${hint ? `${id}-${name}-hint` : undefined} />
  </div>`;
  return html`<${Dialog} title=${t(mode === 'signin' ? 'common.sign_in' : 'common.register')} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <${ErrorSummary} errors=${errors} />
      ${mode === 'signin' ? html`
        ${field('login', t('widget.auth_login'), 'text', null, 'username')}
        ${field('password', t('widget.auth_password'), 'password', null, 'current-password')}` : html`
        ${field('handle', t('widget.auth_handle'), 'text', t('widget.auth_handle_hint'), 'username')}
        ${field('password', t('widget.auth_password'), 'password', t('widget.auth_password_hint'), 'new-password')}
        ${field('email', t('widget.auth_email'), 'email', t('widget.auth_email_hint'), 'email')}`}
      <div class="actions">
        <button type="submit" class="button" disabled=${busy}>${t(mode === 'signin' ? 'common.sign_in' : 'common.register')}</button>
        <button type="button" class="link-button" onClick=${() => { setErrors([]); setMode(mode === 'signin' ? 'register' : 'signin'); }}>
          ${t(mode === 'signin' ? 'widget.auth_to_register' : 'widget.auth_to_signin')}
        </button>
      </div>
    </form>
  <//>`;
}

const NOTE_KINDS = ['reply', 'answer', 'accepted', 'moderation', 'urgent'];

export function NotificationsDialog({ items, slug, onOpenComment, onReadAll, onClose }) {
  return html`<${Dialog} title=${t('widget.notifications')} onClose=${onClose}>
    ${items.length === 0 ? html`<p>${t('widget.notifications_none')}</p>` : html`<ul class="notifications">
      ${items.map((n) => html`<li key=${n.id} class=${n.read_at ? '' : 'unread'}>
        <span>${t(`widget.note.${NOTE_KINDS.includes(n.kind) ? n.kind : 'reply'}`)}</span>
        ${n.reason && html` <span class="muted">(${n.reason})</span>`}
        ${n.comment_id && n.topic_slug === slug && html` <button type="button" class="link-button"
            onClick=${() => onOpenComment(n)}>${t('widget.note_show')}</button>`}
      </li>`)}
    </ul>`}
    <div class="actions">
      ${items.some((n) => !n.read_at) && html`<button type="button" class="button secondary" onClick=${onReadAll}>${t('widget.notifications_read_all')}</button>`}
      <button type="button" class="button secondary" onClick=${onClose}>${t('common.close')}</button>
    </div>
  <//>`;
}
