// /account: handle, email (with confirmation), password, email notifications, sign out
// everywhere, download my data, delete my account.
import { html, useEffect, useRef, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api, setToken, url } from './api.js';
import { Button, Done, ErrorSummary, Field, problems } from './ui.js';

const FIELDS = (prefix) => (f) => ({ handle: `${prefix}-handle`, email: `${prefix}-email`, password: `${prefix}-password`,
  current_password: `${prefix}-current` })[f];

// One section's form: PATCH /api/me with what `body()` gives; `onDone` gets the new account.
function useForm(prefix, body, onDone) {
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState('');
  async function submit(event) {
    event.preventDefault();
    setBusy(true); setSaved('');
    const result = await api('PATCH', '/api/me', body());
    setBusy(false);
    if (result.ok) { setErrors({}); setSaved(onDone(result.data) || t('account.settings.saved')); return; }
    setErrors(problems(result, FIELDS(prefix)));
  }
  return { errors, busy, saved, submit };
}

function Saved({ text }) {
  return text ? html`<p class="done" role="status">${text}</p>` : null;
}

function HandleSection({ me, update }) {
  const [handle, setHandle] = useState(me.handle || '');
  const form = useForm('name', () => ({ handle }), (data) => { update(data); });
  return html`<section aria-labelledby="name-title"><h2 id="name-title">${t('account.handle')}</h2>
    <${ErrorSummary} errors=${form.errors} />
    <form onSubmit=${form.submit} novalidate>
      <${Field} id="name-handle" label=${t('account.settings.handle_label')} hint=${t('account.handle_hint')}
        value=${handle} onInput=${setHandle} autocomplete="username" error=${form.errors['name-handle']} spellcheck="false" />
      <p class="actions"><${Button} busy=${form.busy}>${t('account.settings.save_handle')}<//></p>
    </form><${Saved} text=${form.saved} /></section>`;
}

function EmailSection({ me, update }) {
  const [email, setEmail] = useState('');
  const [current, setCurrent] = useState('');
  const form = useForm('mail', () => ({ email: email.trim() || null, current_password: current }), (data) => {
    update(data); setCurrent(''); setEmail('');
    return data.pending_email ? t('account.settings.email_pending_saved') : t('account.settings.saved');
  });
  return html`<section aria-labelledby="mail-title"><h2 id="mail-title">${t('account.settings.email_title')}</h2>
    <p>${me.email ? t('account.settings.email_now', { email: me.email }) : t('account.settings.email_none')}</p>
    ${me.pending_email ? html`<p class="notice">${t('account.settings.email_pending', { email: me.pending_email })}</p>` : null}
    <${ErrorSummary} errors=${form.errors} />
    <form onSubmit=${form.submit} novalidate>
      <${Field} id="mail-email" type="email" label=${t('account.settings.email_new')} hint=${t('account.settings.email_hint')}
        value=${email} onInput=${setEmail} autocomplete="email" error=${form.errors['mail-email']} required=${false} />
      <${Field} id="mail-current" type="password" label=${t('account.current_password')} value=${current}
        onInput=${setCurrent} autocomplete="current-password" error=${form.errors['mail-current']} />
      <p class="actions"><${Button} busy=${form.busy}>${t('account.settings.save_email')}<//></p>
    </form><${Saved} text=${form.saved} /></section>`;
}

function PasswordSection({ update }) {
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const form = useForm('pw', () => ({ password, current_password: current }), (data) => {
    update(data); setCurrent(''); setPassword('');
    return t('account.settings.password_saved');
  });
  return html`<section aria-labelledby="pw-title"><h2 id="pw-title">${t('account.password')}</h2>
    <${ErrorSummary} errors=${form.errors} />
    <form onSubmit=${form.submit} novalidate>
      <${Field} id="pw-current" type="password" label=${t('account.current_password')} value=${current}
        onInput=${setCurrent} autocomplete="current-password" error=${form.errors['pw-current']} />
      <${Field} id="pw-password" type="password" label=${t('account.reset.new_password')} hint=${t('account.password_hint')}
        value=${password} onInput=${setPassword} autocomplete="new-password" error=${form.errors['pw-password']} />
      <p class="actions"><${Button} busy=${form.busy}>${t('account.settings.save_password')}<//></p>
    </form><${Saved} text=${form.saved} /></section>`;
}

function NotifySection({ me, update }) {
  const [on, setOn] = useState(!!me.notify_email);
  const form = useForm('notify', () => ({ notify_email: on }), (data) => {
    update(data);
    return data.notify_email ? t('account.settings.notify_on_saved') : t('account.settings.notify_off_saved');
  });
  return html`<section aria-labelledby="notify-title"><h2 id="notify-title">${t('account.settings.notify_title')}</h2>
    <${ErrorSummary} errors=${form.errors} />
    <form onSubmit=${form.submit}>
      <div class="checkbox"><input id="notify-email" type="checkbox" checked=${on}
        onChange=${(e) => setOn(e.currentTarget.checked)} aria-describedby="notify-hint" />
        <label for="notify-email">${t('account.settings.notify_label')}</label></div>
      <p class="hint" id="notify-hint">${me.email ? t('account.settings.notify_hint') : t('account.settings.notify_no_email')}</p>
      <p class="actions"><${Button} busy=${form.busy}>${t('account.settings.save_notify')}<//></p>
    </form><${Saved} text=${form.saved} /></section>`;
}

function RecoveryCodes({ codes }) {
  return html`<${Done} title=${t('account.twofactor.codes_title')}>
    <p>${t('account.twofactor.codes_intro')}</p>
    <ul class="plain codes">${codes.map((code) => html`<li key=${code}><code>${code}</code></li>`)}</ul><//>`;
}

// Two-step sign-in (TOTP): turn on with an authenticator app, new recovery codes, turn off.
function TwoFactorSection() {
  const [status, setStatus] = useState(null);
  const [enrol, setEnrol] = useState(null);
  const [code, setCode] = useState('');
  const [current, setCurrent] = useState('');
  const [codes, setCodes] = useState(null);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState('');
  const fields = (f) => ({ code: 'tf-code', recovery_code: 'tf-code', current_password: 'tf-current' })[f] || 'tf-code';
  async function refresh() {
    const result = await api('GET', '/api/me/second-factor');
    if (result.ok) setStatus(result.data); else setErrors(problems(result));
  }
  useEffect(() => { refresh(); }, []);
  async function call(method, path, body, onOk) {
    setBusy(true); setSaved('');
    const result = await api(method, path, body);
    setBusy(false);
    if (!result.ok) { setErrors(problems(result, fields)); return; }
    setErrors({}); setCode(''); setCurrent('');
    await onOk(result.data);
  }
  const start = () => call('POST', '/api/me/second-factor', undefined, (data) => { setCodes(null); setEnrol(data); });
  const confirm = (e) => { e.preventDefault(); call('POST', '/api/me/second-factor/confirm', { code: code.replace(/\s/g, '') },
    async (data) => { setEnrol(null); setCodes(data.recovery_codes); await refresh(); }); };
  const newCodes = (e) => { e.preventDefault(); call('POST', '/api/me/second-factor/recovery-codes',
    { current_password: current, code: code.replace(/\s/g, '') }, (data) => setCodes(data.recovery_codes)); };
  const turnOff = () => call('POST', '/api/me/second-factor/disable',
    { current_password: current, code: code.replace(/\s/g, '') },
    async () => { setCodes(null); setSaved(t('account.twofactor.off_saved')); await refresh(); });

  let body = null;
  if (!status) body = html`<p>${t('common.loading')}</p>`;
  else if (enrol) {
    body = html`<ol class="plain">
        <li>${t('account.twofactor.enrol_1')}</li>
        <li>${t('account.twofactor.enrol_2')}
          <img class="qr" src=${enrol.qr_svg} alt=${t('account.twofactor.qr_alt')} width="200" height="200" />
          <p>${t('account.twofactor.enrol_key')} <code>${enrol.secret}</code></p></li>
        <li>${t('account.twofactor.enrol_3')}</li></ol>
      <form onSubmit=${confirm} novalidate>
        <${Field} id="tf-code" label=${t('account.twofactor.code_label')} value=${code} onInput=${setCode}
          autocomplete="one-time-code" inputmode="numeric" error=${errors['tf-code']} spellcheck="false" />
        <p class="actions"><${Button} busy=${busy}>${t('account.twofactor.confirm')}<//>
          <button class="link-button" type="button" onClick=${() => setEnrol(null)}>${t('common.cancel')}</button></p>
      </form>`;
  } else if (!status.enabled) {
    body = html`<p>${t('account.twofactor.off')}</p>
      <p class="actions"><${Button} type="button" kind="secondary" busy=${busy} onClick=${start}>${t('account.twofactor.start')}<//></p>`;
  } else {
    body = html`<p>${t('account.twofactor.on', { n: status.recovery_codes_left })}</p>
      <form onSubmit=${newCodes} novalidate>
        <${Field} id="tf-current" type="password" label=${t('account.current_password')} value=${current}
          onInput=${setCurrent} autocomplete="current-password" error=${errors['tf-current']} />
        <${Field} id="tf-code" label=${t('account.twofactor.code_label')} hint=${t('account.twofactor.code_or_recovery')}
          value=${code} onInput=${setCode} autocomplete="one-time-code" inputmode="numeric" error=${errors['tf-code']}
          spellcheck="false" />
        <p class="actions"><${Button} kind="secondary" busy=${busy}>${t('account.twofactor.new_codes')}<//>
          <${Button} type="button" kind="secondary" busy=${busy} onClick=${turnOff}>${t('account.twofactor.turn_off')}<//></p>
      </form>`;
  }
  return html`<section aria-labelledby="tf-title"><h2 id="tf-title">${t('account.twofactor.title')}</h2>
    <p>${t('account.twofactor.intro')}</p>
    <${ErrorSummary} errors=${errors} />
    ${codes ? html`<${RecoveryCodes} codes=${codes} />` : null}
    ${body}<${Saved} text=${saved} /></section>`;
}

function SessionsSection() {
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  async function everywhere() {
    setBusy(true);
    const result = await api('POST', '/api/auth/logout-everywhere');
    setBusy(false);
    if (!result.ok && result.status !== 401) { setErrors(problems(result)); return; }
    setToken(null);
    location.assign(url('/signin'));
  }
  return html`<section aria-labelledby="sessions-title"><h2 id="sessions-title">${t('account.settings.sessions_title')}</h2>
    <p>${t('account.settings.sessions_intro')}</p><${ErrorSummary} errors=${errors} />
    <p class="actions"><${Button} type="button" kind="secondary" busy=${busy} onClick=${everywhere}>${t('account.settings.sign_out_everywhere')}<//></p>
    </section>`;
}

function ExportSection() {
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [ready, setReady] = useState('');
  async function download() {
    setBusy(true);
    const result = await api('GET', '/api/me/export');
    setBusy(false);
    if (!result.ok) { setErrors(problems(result)); return; }
    const blob = new Blob([JSON.stringify(result.data, null, 2)], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'my-forum-data.json';
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    setReady(t('account.settings.export_ready'));
  }
  return html`<section aria-labelledby="export-title"><h2 id="export-title">${t('account.settings.export_title')}</h2>
    <p>${t('account.settings.export_intro')}</p><${ErrorSummary} errors=${errors} />
    <p class="actions"><${Button} type="button" kind="secondary" busy=${busy} onClick=${download} id="export-button">${t('account.settings.export_button')}<//></p>
    <${Saved} text=${ready} /></section>`;
}

function DeleteSection({ onGone }) {
  const [open, setOpen] = useState(false);
  const zone = useRef(null);
  useEffect(() => { if (open && zone.current) zone.current.focus(); }, [open]);
  const [password, setPassword] = useState('');
  const [sure, setSure] = useState(false);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    const missing = {};
    if (!sure) missing['delete-sure'] = t('account.delete.sure_missing');
    if (!password) missing['delete-current'] = t('account.delete.password_missing');
    if (Object.keys(missing).length) { setErrors(missing); return; }
    setBusy(true);
    const result = await api('DELETE', '/api/me', { current_password: password });
    setBusy(false);
    if (result.ok) { setToken(null); onGone(); return; }
    setErrors(problems(result, (f) => ({ current_password: 'delete-current' })[f]));
  }
  return html`<section aria-labelledby="delete-title"><h2 id="delete-title">${t('account.delete.title')}</h2>
    <p>${t('account.delete.intro')}</p>
    ${open ? null : html`<p class="actions"><${Button} type="button" kind="secondary" onClick=${() => setOpen(true)}
      id="delete-open">${t('account.delete.open')}<//></p>`}
    ${open ? html`<div class="danger-zone" tabindex="-1" ref=${zone}>
      <h3>${t('account.delete.removes_title')}</h3>
      <ul class="plain"><li>${t('account.delete.removes_1')}</li><li>${t('account.delete.removes_2')}</li>
        <li>${t('account.delete.removes_3')}</li><li>${t('account.delete.removes_4')}</li></ul>
      <h3>${t('account.delete.keeps_title')}</h3>
      <ul class="plain"><li>${t('account.delete.keeps_1')}</li><li>${t('account.delete.keeps_2')}</li>
        <li>${t('account.delete.keeps_3')}</li></ul>
      <p>${t('account.delete.export_first')}</p>
      <${ErrorSummary} errors=${errors} />
      <form onSubmit=${submit} novalidate>
        <${Field} id="delete-current" type="password" label=${t('account.current_password')} value=${password}
          onInput=${setPassword} autocomplete="current-password" error=${errors['delete-current']} />
        <div class=${'checkbox' + (errors['delete-sure'] ? ' invalid' : '')}>
          <input id="delete-sure" type="checkbox" checked=${sure} onChange=${(e) => setSure(e.currentTarget.checked)} />
          <label for="delete-sure">${t('account.delete.sure')}</label></div>
        ${errors['delete-sure'] ? html`<p class="error-message">${errors['delete-sure']}</p>` : null}
        <p class="actions"><${Button} kind="danger" busy=${busy}>${t('account.delete.button')}<//>
          <button class="link-button" type="button" onClick=${() => { setOpen(false); setPassword(''); setSure(false); setErrors({}); }}>
            ${t('common.cancel')}</button></p>
      </form></div>` : null}
  </section>`;
}

export function SettingsPage() {
  const [me, setMe] = useState(null);
  const [errors, setErrors] = useState({});
  const [gone, setGone] = useState(false);
  useEffect(() => {
    api('GET', '/api/me').then((result) => {
      if (result.ok) setMe(result.data);
      else if (result.status === 401) location.assign(url('/signin?next=/account'));
      else setErrors(problems(result));
    });
  }, []);
  if (gone) {
    return html`<${Done} title=${t('account.delete.done_title')}><p>${t('account.delete.done')}</p><//>`;
  }
  if (!me) return html`<${ErrorSummary} errors=${errors} /><p>${t('common.loading')}</p>`;
  const update = (data) => setMe(data);
  return html`<p class="lead">${t('account.settings.intro', { handle: me.handle })}</p>
    <${HandleSection} me=${me} update=${update} />
    <${EmailSection} me=${me} update=${update} />
    <${PasswordSection} update=${update} />
    <${NotifySection} me=${me} update=${update} />
    <${TwoFactorSection} />
    <${SessionsSection} />
    <${ExportSection} />
    <${DeleteSection} onGone=${() => setGone(true)} />`;
}
