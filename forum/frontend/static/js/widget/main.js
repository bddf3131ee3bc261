// The comment widget: the thread of one article, inside the forum's iframe (see embed.js).
import { html, render, useState, useEffect, useLayoutEffect, useRef } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { store } from '../lib/storage.js';
import { api, session, setToken } from './api.js';
import { cfg, minutesLeft, watchHeight, onParentMessage, scrollParentTo, htmlToText } from './util.js';
import { Comment } from './comment.js';
import { Composer } from './composer.js';
import { AuthDialog, ConfirmDialog, FlagDialog, NotificationsDialog } from './dialogs.js';

const PAGE = 20;
// Performance marks (bench/render.py reads them): the thread's first page has arrived, and the
// render showing it has been committed to the DOM; the measure between them is the render time.
const DATA_MARK = 'forum:thread-data';
const RENDER_MARK = 'forum:thread-rendered';
const mark = (name) => {
  if (window.performance && performance.mark && !performance.getEntriesByName(name).length) performance.mark(name);
};
const STAFF = ['coach', 'moderator', 'admin'];
const narrow = window.matchMedia('(max-width: 30rem)');

function createApp(rerender) {
  const state = {
    phase: 'loading', me: null, site: {}, topic: null, roots: [], next: null, sort: 'oldest',
    highlight: null, focusId: null, queue: [], support: null, notice: '', dialog: null,
    notes: { items: [], unread: 0 }, jumped: false, announce: '',
  };
  let byId = new Map();
  let events = null;
  const mine = new Set(JSON.parse(store.get('forum.mine') || '[]'));
  const sources = new Map();

  const index = () => {
    byId = new Map();
    const walk = (list) => list.forEach((c) => { byId.set(c.id, c); walk(c.replies || []); });
    walk(state.roots);
  };
  const update = () => { index(); rerender(); };
  const normal = (c) => ({ ...c, replies: (c.replies || []).map(normal) });

  const app = {
    state,
    refresh: rerender,
    isMine: (c) => mine.has(c.id) || Boolean(state.me && c.author && c.author.id === state.me.id),
    nameOf: (c) => (c.author ? c.author.handle : c.guest_name) || t('widget.someone'),
    minutesLeft: (c) => minutesLeft(c.editable_until),
    maxDepth: () => (narrow.matches ? 4 : 8),
    guestName: () => store.get('forum.guest_name') || '',
    rememberGuestName: (name) => store.set('forum.guest_name', name),
    sourceOf: (c) => sources.get(c.id) || htmlToText(c.body_html),
    rememberSource: (id, body) => sources.set(id, body),
    canAccept(c) {
      const parent = byId.get(c.parent_id);
      if (!state.me || !parent || parent.kind !== 'question' || c.accepted || parent.question_status === 'accepted') return false;
      return STAFF.includes(state.me.role) || Boolean(parent.author && parent.author.id === state.me.id);
    },

    async start() {
      watchHeight();
      onParentMessage((msg) => { if (msg.type === 'hash') app.openComment(Number(msg.hash.slice(9))); });
      narrow.addEventListener('change', rerender);
      try {
        const [site, me] = await Promise.all([
          api('GET', '/api/site', undefined, { anonymous: true }),
          session.token ? api('GET', '/api/me').catch(() => null) : null,
        ]);
        state.site = site || {};
        state.sort = state.site.default_sort || 'oldest';
        state.me = me;
        state.topic = await app.findTopic();
        if (!state.topic) { state.phase = 'none'; rerender(); return; }
        await app.loadThread(null);
        state.phase = 'ready';
        update();
        app.listen();
        if (cfg.comment) await app.openComment(cfg.comment);
        if (state.me) app.loadNotes();
        // the notification stream needs a header an EventSource cannot send: look again now and then
        setInterval(() => { if (state.me && !document.hidden) app.loadNotes(); }, 120000);
        document.addEventListener('visibilitychange', () => { if (state.me && !document.hidden) app.loadNotes(); });
      } catch (err) {
        state.phase = 'error';
        state.notice = err.message_for_reader || t('common.error_generic');
        rerender();
      }
      document.getElementById('forum-widget').removeAttribute('aria-busy');
    },

    async findTopic() {
      const quiet = async (fn) => { try { return await fn(); } catch (err) { if (err.status >= 400 && err.status < 500) return null; throw err; } };
      if (cfg.topic) return quiet(() => api('GET', `/api/topics/${encodeURIComponent(cfg.topic)}`));
      if (!cfg.url) return null;
      const found = await quiet(() => api('GET', `/api/topics/by-url?url=${encodeURIComponent(cfg.url)}`));
      if (found) return found;
      // first sight of an article on an allowed blog: the forum may open its thread
      // its title: data-forum-title or the page's title (embed.js); else the forum makes one from the address
      return quiet(() => api('POST', '/api/topics/by-url', { url: cfg.url, title: cfg.title || null }, { anonymous: true }));
    },

    async loadThread(cursor, append = false) {
      const q = new URLSearchParams({ sort: state.sort, limit: String(PAGE) });
      if (cursor) q.set('cursor', cursor);
      const page = await api('GET', `/api/topics/${encodeURIComponent(state.topic.slug)}/comments?${q}`);
      if (!cursor) mark(DATA_MARK);
      const items = page.items.map(normal);
      state.roots = append ? state.roots.concat(items.filter((c) => !byId.has(c.id))) : items;
      state.next = page.next_cursor;
      index();
    },

    async more() {
      await app.loadThread(state.next, true);
      update();
    },

    async resort(sort) {
      state.sort = sort; state.focusId = null; state.jumped = false;
      await app.loadThread(null);
      update();
    },

    async loadMoreReplies(root) {
      const q = new URLSearchParams({ limit: '100' });
      if (root.replies_cursor) q.set('cursor', root.replies_cursor);
      const page = await api('GET', `/api/comments/${root.id}/replies?${q}`);
      app.graft(page.items);
      root.replies_cursor = page.next_cursor;
      root.more_replies = page.next_cursor ? Math.max(0, (root.more_replies || 0) - page.items.length) : 0;
      update();
    },

    graft(flat) {
      flat.forEach((item) => {
        if (byId.has(item.id)) return;
        const c = normal(item);
        const parent = byId.get(c.parent_id);
        if (parent) { parent.replies.push(c); byId.set(c.id, c); }
      });
    },

    listen() {
      if (!('EventSource' in window)) return;
      events = new EventSource(`/api/topics/${encodeURIComponent(state.topic.slug)}/events`);
      events.addEventListener('comment', (e) => {
        let c;
        try { c = JSON.parse(e.data); } catch (err) { return; }
        const known = byId.get(c.id);
        if (known) {
          const wasPending = known.status === 'pending';
          Object.assign(known, { ...c, replies: known.replies, my_vote: known.my_vote, editable_until: known.editable_until });
          if (wasPending && c.status === 'published') {
            state.notice = t('widget.now_published');
            state.topic.comment_count += 1;
          }
          update();
          return;
        }
        if (c.parent_id && !byId.has(c.parent_id)) return; // under a part of the thread not shown
        if (state.queue.some((q) => q.id === c.id)) return;
        state.queue.push(normal(c));
        state.announce = t('widget.new_comments_announce', { n: state.queue.length });
        rerender();
      });
    },

    showNew() {
      const first = state.queue[0];
      state.queue.forEach((c) => app.insert(c, false));
      state.topic.comment_count += state.queue.length;
      state.queue = [];
      state.announce = '';
      update();
      if (first) app.focusComment(first.id);
    },

    insert(c, own = true) {
      const parent = c.parent_id ? byId.get(c.parent_id) : null;
      if (parent) { parent.replies.push(c); parent.reply_count = (parent.reply_count || 0) + 1; }
      else if (state.sort === 'newest' || own) state.roots.unshift(c);
      else state.roots.push(c);
      byId.set(c.id, c);
    },

    added(created) {
      const c = normal(created);
      mine.add(c.id);
      store.set('forum.mine', JSON.stringify(Array.from(mine).slice(-200)));
      state.queue = state.queue.filter((q) => q.id !== c.id);
      if (!byId.has(c.id)) app.insert(c);
      if (c.status === 'published' && !c.private) state.topic.comment_count += 1;
      state.notice = t(c.status === 'pending' ? 'widget.posted_pending' : 'widget.posted');
      if (created.support) app.showSupport(created.support);
      update();
      if (!created.support) app.focusComment(c.id);
    },

    updated(changed) {
      const c = byId.get(changed.id);
      if (c) Object.assign(c, { ...changed, replies: c.replies });
      state.notice = t(changed.edit_pending ? 'widget.edit_awaiting' : 'widget.saved');
      if (changed.support) app.showSupport(changed.support);
      update();
    },

    showSupport(text) {
      state.support = text || state.site.support_text || t('widget.support_fallback');
      rerender();
      setTimeout(() => {
        const box = document.getElementById('forum-support');
        if (box) { box.focus(); scrollParentTo(box); }
      });
    },

    async vote(c) {
      try {
        const answer = await api(c.my_vote === 1 ? 'DELETE' : 'POST', `/api/comments/${c.id}/vote`);
        c.my_vote = c.my_vote === 1 ? null : 1;
        c.score = answer.score;
      } catch (err) { state.notice = err.message_for_reader; }
      rerender();
    },

    async accept(c) {
      try {
        const answer = await api('POST', `/api/comments/${c.id}/accept`);
        c.accepted = true;
        const parent = byId.get(c.parent_id);
        if (parent) parent.question_status = answer.question_status || 'accepted';
        state.notice = t('widget.accepted_done');
      } catch (err) { state.notice = err.message_for_reader; }
      rerender();
    },

    askDelete(c) {
      state.dialog = html`<${ConfirmDialog} title=${t('widget.delete_title')} text=${t('widget.delete_text')}
        confirm=${t('widget.delete')} onClose=${app.closeDialog} onConfirm=${async () => {
          await api('DELETE', `/api/comments/${c.id}`);
          if (c.status === 'published' && !c.private) state.topic.comment_count = Math.max(0, state.topic.comment_count - 1);
          if (c.replies.length) Object.assign(c, { status: 'deleted', body_html: '', author: null, guest_name: null });
          else {
            const parent = byId.get(c.parent_id);
            const list = parent ? parent.replies : state.roots;
            list.splice(list.indexOf(c), 1);
          }
          state.notice = t('widget.deleted_done');
          app.closeDialog();
          update();
          const head = document.getElementById('forum-title');
          if (head) head.focus();
        }} />`;
      rerender();
    },

    openFlag(c) {
      state.dialog = html`<${FlagDialog} comment=${c} reasons=${state.site.flag_reasons || []}
        onClose=${app.closeDialog} onDone=${(message) => { state.notice = message; app.closeDialog(); }} />`;
      rerender();
    },

    openAuth(mode) {
      state.dialog = html`<${AuthDialog} initialMode=${mode} onClose=${app.closeDialog}
        onSignedIn=${async (token, user) => {
          setToken(token);
          state.me = user;
          state.dialog = null;
          state.notice = t('widget.signed_in_as', { name: user.handle });
          try { state.me = await api('GET', '/api/me'); } catch (err) { /* the login answer is enough */ }
          await app.loadThread(null);
          update();
          app.loadNotes();
        }} />`;
      rerender();
    },

    async signOut() {
      try { await api('POST', '/api/auth/logout'); } catch (err) { /* the token is dropped either way */ }
      setToken(null);
      state.me = null;
      state.notes = { items: [], unread: 0 };
      state.notice = t('widget.signed_out');
      await app.loadThread(null);
      update();
    },

    async loadNotes() {
      try {
        const page = await api('GET', '/api/me/notifications?limit=20');
        state.notes = { items: page.items, unread: page.unread_count };
        rerender();
      } catch (err) { /* notifications are a convenience */ }
    },

    openNotes() {
      state.dialog = html`<${NotificationsDialog} items=${state.notes.items} slug=${state.topic.slug}
        onClose=${app.closeDialog}
        onOpenComment=${(note) => {
          app.closeDialog();
          app.openComment(note.comment_id);
          if (!note.read_at) api('POST', '/api/me/notifications/read', { ids: [note.id] }).then(app.loadNotes, () => {});
        }}
        onReadAll=${async () => {
          await api('POST', '/api/me/notifications/read', { all: true });
          app.closeDialog();
          await app.loadNotes();
        }} />`;
      rerender();
    },

    closeDialog() { state.dialog = null; rerender(); },

    focusOn(id) { state.focusId = id; rerender(); setTimeout(() => app.focusComment(id)); },

    focusComment(id) {
      setTimeout(() => {
        const el = document.getElementById(`comment-${id}`);
        if (el) { el.focus({ preventScroll: true }); scrollParentTo(el); }
      });
    },

    // A deep link (#comment-ID): the page of the thread that holds it, its replies past the
    // first hundred if need be, then the comment itself, highlighted and focused.
    async openComment(id) {
      if (!id || !state.topic) return;
      try {
        if (!byId.has(id)) {
          const q = new URLSearchParams({ sort: state.sort, limit: String(PAGE) });
          const where = await api('GET', `/api/comments/${id}/context?${q}`);
          if (!byId.has(where.root_id)) {
            await app.loadThread(where.cursor);
            state.jumped = where.page > 0;
          }
          if (!byId.has(id) && where.replies_cursor) {
            const page = await api('GET', `/api/comments/${where.root_id}/replies?cursor=${encodeURIComponent(where.replies_cursor)}&limit=100`);
            app.graft(page.items);
          }
          const chain = where.ancestors.map((a) => a.id);
          const deep = chain.length + 1 >= app.maxDepth();
          state.focusId = deep ? chain[chain.length - (app.maxDepth() - 2)] || null : null;
        }
        state.highlight = id;
        update();
        if (!byId.has(id)) { state.notice = t('widget.link_gone'); rerender(); return; }
        app.focusComment(id);
      } catch (err) {
        state.notice = err.status === 404 ? t('widget.link_gone') : err.message_for_reader;
        rerender();
      }
    },
  };
  return app;
}

function Widget({ app }) {
  const { state } = app;
  if (state.phase === 'loading') return html`<p class="muted">${t('common.loading')}</p>`;
  if (state.phase === 'error') return html`<p class="notice" role="alert">${state.notice}</p>`;
  if (state.phase === 'none') return html`<p class="muted">${t('widget.not_open')}</p>`;
  const { topic, me, roots, focusId } = state;
  const focused = focusId ? roots.length && findIn(roots, focusId) : null;
  const closed = topic.comments === 'closed';
  return html`<section class="forum-thread" aria-labelledby="forum-title">
    <header class="thread-head">
      <h2 id="forum-title" tabindex="-1">${t('widget.title', { n: topic.comment_count })}</h2>
      <div class="account">
        ${me ? html`<span>${t('widget.signed_in_as', { name: me.handle })}</span>
          <button type="button" class="link-button" onClick=${() => app.openNotes()}>
            ${t('widget.notifications')}${state.notes.unread > 0 ? html` <span class="count">${state.notes.unread}</span><span class="visually-hidden"> ${t('widget.unread', { n: state.notes.unread })}</span>` : ''}
          </button>
          <button type="button" class="link-button" onClick=${() => app.signOut()}>${t('common.sign_out')}</button>`
        : html`<button type="button" class="link-button" onClick=${() => app.openAuth('signin')}>${t('common.sign_in')}</button>
          <button type="button" class="link-button" onClick=${() => app.openAuth('register')}>${t('common.register')}</button>`}
      </div>
    </header>
    ${state.support && html`<section id="forum-support" class="support" tabindex="-1" aria-labelledby="forum-support-title">
      <h3 id="forum-support-title">${t('widget.support_title')}</h3>
      ${String(state.support).split(/\n+/).map((line) => html`<p>${line}</p>`)}
      <button type="button" class="link-button" onClick=${() => { state.support = null; app.refresh(); }}>${t('widget.support_hide')}</button>
    </section>`}
    <p class=${state.notice ? 'notice-line' : 'notice-line quiet'} role="status">${state.notice}</p>
    ${closed ? html`<p class="notice">${t('widget.closed')}</p>`
      : html`<${Composer} app=${app} onDone=${(c) => app.added(c)} />`}
    <div class="toolbar">
      <label for="forum-sort">${t('widget.sort')}</label>
      <select id="forum-sort" value=${state.sort} onChange=${(e) => app.resort(e.currentTarget.value)}>
        ${(state.site.sorts || ['oldest', 'newest', 'top']).map((s) => html`<option value=${s}>${t(`widget.sort.${s}`)}</option>`)}
      </select>
      <a class="feed" href=${`/api/topics/${encodeURIComponent(topic.slug)}/feed.atom`} target="_blank" rel="noopener">${t('widget.feed')}</a>
    </div>
    <div class="visually-hidden" aria-live="polite">${state.announce}</div>
    ${state.queue.length > 0 && html`<p><button type="button" class="button secondary new-comments" onClick=${() => app.showNew()}>
      ${t('widget.new_comments', { n: state.queue.length })}</button></p>`}
    ${state.jumped && html`<p><button type="button" class="link-button" onClick=${() => app.resort(state.sort)}>${t('widget.from_start')}</button></p>`}
    ${focused ? html`<p><button type="button" class="link-button" onClick=${() => { state.focusId = null; app.refresh(); }}>${t('widget.whole_thread')}</button></p>
      <ol class="thread"><${Comment} c=${focused} app=${app} depth=${0} /></ol>`
      : roots.length === 0 ? html`<p class="muted empty">${t('widget.empty')}</p>`
      : html`<ol class="thread">${roots.map((c) => html`<${Comment} key=${c.id} c=${c} app=${app} depth=${0} />`)}</ol>`}
    ${!focused && state.next && html`<p><button type="button" class="button secondary" onClick=${() => app.more()}>${t('widget.more_comments')}</button></p>`}
    ${state.dialog}
  </section>`;
}

function findIn(list, id) {
  for (const c of list) {
    if (c.id === id) return c;
    const found = findIn(c.replies || [], id);
    if (found) return found;
  }
  return null;
}

function Root() {
  const [, setTick] = useState(0);
  const ref = useRef(null);
  if (!ref.current) ref.current = createApp(() => setTick((n) => n + 1));
  useEffect(() => { ref.current.start(); }, []);
  const ready = ref.current.state.phase === 'ready';
  useLayoutEffect(() => {
    if (!ready || !window.performance || performance.getEntriesByName(RENDER_MARK).length) return;
    mark(RENDER_MARK);
    if (performance.measure) performance.measure('forum:thread-render', DATA_MARK, RENDER_MARK);
  }, [ready]);
  return html`<${Widget} app=${ref.current} />`;
}

// the blog's colours, font and radius (data-forum-* on the script tag, checked by the server)
Object.entries(cfg.vars || {}).forEach(([prop, value]) => document.documentElement.style.setProperty(prop, value));

const mount = document.getElementById('forum-widget');
mount.textContent = '';
render(html`<${Root} />`, mount);
