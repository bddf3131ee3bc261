// /notifications: newest first, each linking to its comment; mark one or all read.
// Wording as discreet as the emails: what happened, never the text or the title.
import { html, useEffect, useState } from '../lib/ui.js';
import { t, lang } from '../lib/i18n.js';
import { api, url } from './api.js';
import { Button, ErrorSummary, problems } from './ui.js';

const when = (iso) => {
  try { return new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' }); }
  catch (e) { return iso; }
};

// The comment in its thread: on the article's page when the topic has one, otherwise the
// forum's own thread page (the widget's page).
export function commentLink(item) {
  if (item.kind === 'urgent') return url('/console');
  const anchor = item.comment_id ? `#comment-${item.comment_id}` : '';
  if (item.topic_url) return item.topic_url + anchor;
  if (!item.topic_slug) return null;
  const q = new URLSearchParams({ topic: item.topic_slug });
  if (item.comment_id) q.set('comment', String(item.comment_id));
  return url('/embed/thread?' + q.toString()) + anchor;
}

export function NotificationsPage() {
  const [items, setItems] = useState(null);
  const [unread, setUnread] = useState(0);
  const [cursor, setCursor] = useState(null);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');

  async function load(after) {
    const result = await api('GET', '/api/me/notifications?limit=20' + (after ? '&cursor=' + encodeURIComponent(after) : ''));
    if (!result.ok) { setErrors(problems(result)); return; }
    setItems((before) => (after && before ? [...before, ...result.data.items] : result.data.items));
    setUnread(result.data.unread_count);
    setCursor(result.data.next_cursor);
  }
  useEffect(() => { load(null); }, []);

  async function markRead(ids) {
    setBusy(true);
    const result = await api('POST', '/api/me/notifications/read', ids ? { ids } : { all: true });
    setBusy(false);
    if (!result.ok) { setErrors(problems(result)); return false; }
    const now = new Date().toISOString();
    setItems((list) => list.map((n) => (!ids || ids.includes(n.id) ? { ...n, read_at: n.read_at || now } : n)));
    setUnread((n) => (ids ? Math.max(0, n - ids.length) : 0));
    setStatus(ids ? t('account.notifications.marked_one') : t('account.notifications.marked_all'));
    return true;
  }
  async function open(event, item) {
    if (item.read_at) return;
    event.preventDefault();
    const target = event.currentTarget.href;
    await api('POST', '/api/me/notifications/read', { ids: [item.id] });
    location.assign(target);
  }

  if (items === null) return html`<${ErrorSummary} errors=${errors} /><p>${t('common.loading')}</p>`;
  return html`<${ErrorSummary} errors=${errors} />
    <p class="lead">${unread ? t('account.notifications.unread', { n: unread }) : t('account.notifications.all_read')}</p>
    ${unread ? html`<p class="actions"><${Button} type="button" kind="secondary" busy=${busy}
      onClick=${() => markRead(null)}>${t('account.notifications.mark_all')}<//></p>` : null}
    <p class="visually-hidden" role="status">${status}</p>
    ${items.length === 0 ? html`<p>${t('account.notifications.none')}</p>` : html`<ul class="notification-list">
      ${items.map((item) => {
        const link = commentLink(item);
        const what = t('account.notifications.kind.' + item.kind);
        return html`<li key=${item.id} class=${item.read_at ? 'read' : 'unread'}>
          <span class="what">${item.read_at ? null : html`<span class="badge">${t('account.notifications.new')}</span>`}${what}
            ${item.kind === 'moderation' && item.reason ? html`<br /><span class="hint">${t('account.notifications.reason', { reason: item.reason })}</span>` : null}</span>
          <span class="when"><time datetime=${item.created_at}>${when(item.created_at)}</time></span>
          <span class="actions">
            ${link ? html`<a href=${link} onClick=${(e) => open(e, item)}>${item.kind === 'urgent'
              ? t('account.notifications.open_console') : t('account.notifications.open')}<span class="visually-hidden">: ${what}, ${when(item.created_at)}</span></a>` : null}
            ${item.read_at ? null : html`<button class="link-button" type="button" disabled=${busy}
              onClick=${() => markRead([item.id])}>${t('account.notifications.mark_one')}<span class="visually-hidden">: ${what}, ${when(item.created_at)}</span></button>`}
          </span>
        </li>`;
      })}
    </ul>`}
    ${cursor ? html`<p><${Button} type="button" kind="secondary" onClick=${() => load(cursor)}>${t('account.notifications.older')}<//></p>` : null}`;
}
