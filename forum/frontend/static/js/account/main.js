// The reader's account pages (issue 17): one module, the page named by the server's config.
import { html, render, useEffect, useState } from '../lib/ui.js';
import { t, config } from '../lib/i18n.js';
import { api, base, setToken, token, url } from './api.js';
import { Button, Done, ErrorSummary, Field, problems } from './ui.js';
import { NotificationsPage } from './notifications.js';
import { SettingsPage } from './settings.js';

const page = config().page;
const query = new URLSearchParams(location.search);

// A link's token is read once, then taken out of the address bar (and so out of history).
function linkToken() {
  const value = query.get('token') || '';
  if (value && window.history && history.replaceState) {
    history.replaceState(null, '', location.pathname + location.hash);
  }
  return value;
}

// Where to go after signing in: a path of this site only (never another site).
function nextPath() {
  const next = query.get('next') || '';
  return /^\/[a-z-]*$/.test(next) ? next : '/notifications';
}

export function SignInNeeded({ next }) {
  return html`<p class="lead">${t('account.signin_needed')}</p>
    <p class="actions"><a class="button" href=${url('/signin?next=' + encodeURIComponent(next))}>${t('common.sign_in')}</a>
    <a href=${url('/register')}>${t('common.register')}</a></p>`;
}

function SecondStep({ challenge }) {
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState(false);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [expired, setExpired] = useState(false);
  async function submit(event) {
    event.preventDefault();
    if (!code.trim()) { setErrors({ code: t('account.twofactor.code_missing') }); return; }
    setBusy(true);
    const body = recovery ? { challenge, recovery_code: code.trim() } : { challenge, code: code.replace(/\s/g, '') };
    const result = await api('POST', '/api/auth/login/second-factor', body);
    setBusy(false);
    if (result.ok) { setToken(result.data.token); location.assign(url(nextPath())); return; }
    if (result.status === 401) { setExpired(true); return; }
    setErrors(problems(result, () => 'code'));
  }
  if (expired) {
    return html`<${Done} kind="notice" title=${t('account.twofactor.expired_title')}><p>${t('account.twofactor.expired')}</p>
      <p><a href=${url('/signin')}>${t('common.sign_in')}</a></p><//>`;
  }
  return html`<h2>${t('account.twofactor.step_title')}</h2>
    <p>${recovery ? t('account.twofactor.step_recovery') : t('account.twofactor.step_intro')}</p>
    <${ErrorSummary} errors=${errors} />
    <form onSubmit=${submit} novalidate>
      <${Field} id="code" label=${recovery ? t('account.twofactor.recovery_label') : t('account.twofactor.code_label')}
        value=${code} onInput=${setCode} autocomplete="one-time-code" inputmode=${recovery ? 'text' : 'numeric'}
        error=${errors.code} spellcheck="false" />
      <p class="actions"><${Button} busy=${busy}>${t('common.sign_in')}<//>
        <button class="link-button" type="button" onClick=${() => { setRecovery(!recovery); setCode(''); setErrors({}); }}>
          ${recovery ? t('account.twofactor.use_app') : t('account.twofactor.use_recovery')}</button></p>
    </form>`;
}

function SignIn() {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [challenge, setChallenge] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const missing = {};
    if (!login.trim()) missing.login = t('account.signin.login_missing');
    if (!password) missing.password = t('account.signin.password_missing');
    if (Object.keys(missing).length) { setErrors(missing); return; }
    setBusy(true);
    const result = await api('POST', '/api/auth/login', { login, password });
    setBusy(false);
    if (result.ok) { setToken(result.data.token); location.assign(url(nextPath())); return; }
    if (result.status === 401 && result.data && result.data.second_factor_required) {
      setChallenge(result.data.challenge);
      return;
    }
    setErrors(result.status === 401 ? { '': t('account.signin.wrong') } : problems(result, (f) => f));
  }
  if (challenge) return html`<${SecondStep} challenge=${challenge} />`;
  return html`<${ErrorSummary} errors=${errors} />
    <form onSubmit=${submit} novalidate>
      <${Field} id="login" label=${t('account.signin.login')} value=${login} onInput=${setLogin}
        autocomplete="username" error=${errors.login} spellcheck="false" />
      <${Field} id="password" type="password" label=${t('account.password')} value=${password} onInput=${setPassword}
        autocomplete="current-password" error=${errors.password} />
      <p class="actions"><${Button} busy=${busy}>${t('common.sign_in')}<//></p>
    </form>
    <p><a href=${url('/reset')}>${t('account.signin.forgot')}</a></p>
    <p>${t('account.signin.no_account')} <a href=${url('/register')}>${t('common.register')}</a></p>
    <p class="hint">${t('account.signin.elsewhere')}</p>`;
}

function Register() {
  const [handle, setHandle] = useState('');
  const [password, setPassword] = useState('');
  const [email, setEmail] = useState('');
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(null);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    const body = { handle, password };
    if (email.trim()) body.email = email.trim();
    const result = await api('POST', '/api/auth/register', body);
    setBusy(false);
    if (result.ok) { setToken(result.data.token); setDone({ email: !!body.email }); return; }
    setErrors(problems(result, (f) => ({ handle: 'handle', password: 'password', email: 'email' })[f]));
  }
  if (done) {
    return html`<${Done} title=${t('account.register.done')}>
      ${done.email ? html`<p>${t('account.register.check_email')}</p>` : null}
      <p class="actions"><a class="button" href=${url('/account')}>${t('account.settings.title')}</a></p>
    <//>`;
  }
  return html`<${ErrorSummary} errors=${errors} />
    <form onSubmit=${submit} novalidate>
      <${Field} id="handle" label=${t('account.handle')} hint=${t('account.handle_hint')} value=${handle}
        onInput=${setHandle} autocomplete="username" error=${errors.handle} spellcheck="false" />
      <${Field} id="password" type="password" label=${t('account.password')} hint=${t('account.password_hint')}
        value=${password} onInput=${setPassword} autocomplete="new-password" error=${errors.password} />
      <${Field} id="email" type="email" label=${t('account.register.email')} hint=${t('account.register.email_hint')}
        value=${email} onInput=${setEmail} autocomplete="email" error=${errors.email} required=${false} />
      <p class="actions"><${Button} busy=${busy}>${t('common.register')}<//></p>
    </form>
    <p>${t('account.register.have_account')} <a href=${url('/signin')}>${t('common.sign_in')}</a></p>`;
}

function AskForLink({ intro }) {
  const [login, setLogin] = useState('');
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  async function submit(event) {
    event.preventDefault();
    if (!login.trim()) { setErrors({ 'reset-login': t('account.signin.login_missing') }); return; }
    setBusy(true);
    const result = await api('POST', '/api/auth/password-reset', { login: login.trim() });
    setBusy(false);
    if (result.ok) { setSent(true); return; }
    setErrors(problems(result));
  }
  if (sent) return html`<${Done} title=${t('account.reset.sent_title')}><p>${t('account.reset.sent')}</p><//>`;
  return html`${intro}
    <${ErrorSummary} errors=${errors} />
    <form onSubmit=${submit} novalidate>
      <${Field} id="reset-login" label=${t('account.signin.login')} hint=${t('account.reset.login_hint')}
        value=${login} onInput=${setLogin} autocomplete="username" error=${errors['reset-login']} spellcheck="false" />
      <p class="actions"><${Button} busy=${busy}>${t('account.reset.send')}<//></p>
    </form>`;
}

function Reset({ linkValue }) {
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [state, setState] = useState(linkValue ? 'form' : 'ask');
  async function submit(event) {
    event.preventDefault();
    if (!password) { setErrors({ password: t('account.reset.password_missing') }); return; }
    setBusy(true);
    const result = await api('POST', '/api/auth/password-reset/confirm', { token: linkValue, password });
    setBusy(false);
    if (result.ok) { setToken(null); setState('done'); return; }
    const found = problems(result, (f) => ({ password: 'password', token: 'token' })[f]);
    if (found.token) { setState('expired'); return; }
    setErrors(found);
  }
  if (state === 'ask') return html`<${AskForLink} intro=${html`<p>${t('account.reset.ask_intro')}</p>`} />`;
  if (state === 'expired') {
    return html`<div class="notice"><h2>${t('account.reset.expired_title')}</h2><p>${t('account.reset.expired')}</p></div>
      <${AskForLink} intro=${html`<p>${t('account.reset.ask_again')}</p>`} />`;
  }
  if (state === 'done') {
    return html`<${Done} title=${t('account.reset.done_title')}>
      <p>${t('account.reset.done')}</p>
      <p class="actions"><a class="button" href=${url('/signin?next=/account')}>${t('common.sign_in')}</a></p>
    <//>`;
  }
  return html`<p>${t('account.reset.intro')}</p>
    <${ErrorSummary} errors=${errors} />
    <form onSubmit=${submit} novalidate>
      <${Field} id="password" type="password" label=${t('account.reset.new_password')} hint=${t('account.password_hint')}
        value=${password} onInput=${setPassword} autocomplete="new-password" error=${errors.password} />
      <p class="actions"><${Button} busy=${busy}>${t('account.reset.save')}<//></p>
    </form>`;
}

function ConfirmEmail({ linkValue }) {
  const [state, setState] = useState(linkValue ? 'working' : 'missing');
  const [message, setMessage] = useState('');
  useEffect(() => {
    if (!linkValue) return;
    api('POST', '/api/auth/confirm-email', { token: linkValue }).then((result) => {
      if (result.ok) setState('done');
      else if (result.status === 409) setState('taken');
      else if (result.status === 400) setState('expired');
      else { setMessage(problems(result)['']); setState('failed'); }
    });
  }, []);
  const account = html`<p class="actions"><a class="button" href=${url(token() ? '/account' : '/signin?next=/account')}>${
    t('account.settings.title')}</a></p>`;
  if (state === 'working') return html`<p>${t('common.loading')}</p>`;
  if (state === 'done') return html`<${Done} title=${t('account.confirm.done_title')}><p>${t('account.confirm.done')}</p>${account}<//>`;
  if (state === 'taken') return html`<${Done} kind="notice" title=${t('account.confirm.taken_title')}><p>${t('account.confirm.taken')}</p><//>`;
  if (state === 'failed') return html`<${Done} kind="notice" title=${t('account.confirm.failed_title')}><p>${message}</p><//>`;
  return html`<${Done} kind="notice" title=${t('account.confirm.expired_title')}><p>${t('account.confirm.expired')}</p>${account}<//>`;
}

function Unsubscribe({ linkValue }) {
  const [state, setState] = useState(linkValue ? 'ask' : 'invalid');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState({});
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    const result = await api('POST', '/api/unsubscribe', { token: linkValue });
    setBusy(false);
    if (result.ok) setState('done');
    else if (result.status === 400) setState('invalid');
    else setErrors(problems(result));
  }
  const settingsLink = html`<a href=${url(token() ? '/account' : '/signin?next=/account')}>${t('account.settings.title')}</a>`;
  if (state === 'done') {
    return html`<${Done} title=${t('account.unsubscribe.done_title')}>
      <p>${t('account.unsubscribe.done')}</p><p>${t('account.unsubscribe.again')} ${settingsLink}</p><//>`;
  }
  if (state === 'invalid') {
    return html`<${Done} kind="notice" title=${t('account.unsubscribe.invalid_title')}>
      <p>${t('account.unsubscribe.invalid')}</p><p>${settingsLink}</p><//>`;
  }
  return html`<p class="lead">${t('account.unsubscribe.intro')}</p>
    <p>${t('account.unsubscribe.what')}</p>
    <${ErrorSummary} errors=${errors} />
    <form onSubmit=${submit}><p class="actions"><${Button} busy=${busy}>${t('account.unsubscribe.button')}<//></p></form>`;
}

function Nav() {
  const signedIn = !!token();
  async function signOut() {
    await api('POST', '/api/auth/logout');
    setToken(null);
    location.assign(url('/signin'));
  }
  const here = (name) => (page === name ? 'page' : undefined);
  if (!signedIn) {
    return html`<ul class="account-nav">
      <li><a href=${url('/signin')} aria-current=${here('signin')}>${t('common.sign_in')}</a></li>
      <li><a href=${url('/register')} aria-current=${here('register')}>${t('common.register')}</a></li></ul>`;
  }
  return html`<ul class="account-nav">
    <li><a href=${url('/notifications')} aria-current=${here('notifications')}>${t('account.notifications.title')}</a></li>
    <li><a href=${url('/account')} aria-current=${here('account')}>${t('account.settings.title')}</a></li>
    <li><button class="link-button" type="button" onClick=${signOut}>${t('common.sign_out')}</button></li></ul>`;
}

const PAGES = {
  signin: () => html`<${SignIn} />`,
  register: () => html`<${Register} />`,
  reset: (value) => html`<${Reset} linkValue=${value} />`,
  confirm: (value) => html`<${ConfirmEmail} linkValue=${value} />`,
  unsubscribe: (value) => html`<${Unsubscribe} linkValue=${value} />`,
  notifications: () => (token() ? html`<${NotificationsPage} />` : html`<${SignInNeeded} next="/notifications" />`),
  account: () => (token() ? html`<${SettingsPage} />` : html`<${SignInNeeded} next="/account" />`),
};

const app = document.getElementById('app');
const nav = document.getElementById('account-nav');
const draw = PAGES[page];
if (app && draw) {
  const value = ['reset', 'confirm', 'unsubscribe'].includes(page) ? linkToken() : '';
  app.textContent = '';
  render(draw(value), app);
}
if (nav) render(html`<${Nav} />`, nav);
export { base };
