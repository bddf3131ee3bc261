// One comment and its replies. Bodies are the server's sanitized HTML, put in as they are;
// everything else goes in as text.
import { html, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { relativeTime, exactTime, avatar } from './util.js';
import { Composer } from './composer.js';

function When({ iso, id }) {
  return html`<span class="when">
    <time datetime=${iso} tabindex="0" aria-describedby=${id}>${relativeTime(iso)}</time>
    <span class="exact" role="tooltip" id=${id}>${exactTime(iso)}</span>
  </span>`;
}

function Avatar({ name }) {
  const a = avatar(name);
  return html`<span class=${`avatar tone-${a.tone}`} aria-hidden="true">${a.initials}</span>`;
}

const STATUS_TEXT = { unanswered: 'widget.q_unanswered', answered: 'widget.q_answered', accepted: 'widget.q_accepted' };

export function Comment({ c, app, depth }) {
  const [mode, setMode] = useState(null); // 'reply' | 'edit'
  const { me } = app.state;
  const mine = app.isMine(c);
  const deleted = c.status === 'deleted';
  const name = app.nameOf(c);
  const canEdit = mine && !deleted && c.editable_until && app.minutesLeft(c) > 0;
  const canVote = me && !mine && c.status === 'published' && !deleted;
  const canAccept = !deleted && c.status === 'published' && app.canAccept(c);
  const tooDeep = depth + 1 >= app.maxDepth() && c.replies.length > 0;
  const classes = ['comment', deleted ? 'tombstone' : '', c.status === 'pending' ? 'pending' : '',
    c.accepted ? 'accepted' : '', c.kind === 'question' ? 'question' : '', app.state.highlight === c.id ? 'highlight' : ''];

  return html`<li class=${`thread-item depth-${Math.min(depth, 8)}`}>
    <article id=${`comment-${c.id}`} class=${classes.filter(Boolean).join(' ')} tabindex="-1"
             aria-labelledby=${`author-${c.id}`}>
      ${deleted ? html`<p class="muted" id=${`author-${c.id}`}>${t('widget.deleted')}</p>` : html`
      <header class="comment-head">
        <${Avatar} name=${name} />
        <span class="who">
          <span class="author" id=${`author-${c.id}`}>${name}</span>
          ${!c.author && html` <span class="tag">${t('widget.guest')}</span>`}
          ${c.author_badge && html` <span class=${`badge badge-${c.author_badge}`}>${t(`widget.badge.${c.author_badge}`)}</span>`}
          ${mine && html` <span class="tag">${t('widget.you')}</span>`}
        </span>
        <${When} iso=${c.created_at} id=${`when-${c.id}`} />
        ${c.edited_at && html`<span class="muted edited">${t('widget.edited')}</span>`}
      </header>
      ${c.status === 'pending' && html`<p class="notice pending-note">${t('widget.awaiting_moderation')}</p>`}
      ${c.edit_pending && html`<p class="notice">${t('widget.edit_awaiting')}</p>`}
      ${c.kind === 'question' && html`<p class="qa-line">
        <span class="badge badge-question">${t(c.private ? 'widget.private_question' : 'widget.question')}</span>
        ${c.question_status && html` <span class="q-status">${t(STATUS_TEXT[c.question_status])}</span>`}
        ${c.private && html` <span class="muted">${t('widget.private_hint')}</span>`}
      </p>`}
      ${c.accepted && html`<p class="qa-line"><span class="badge badge-accepted">✓ ${t('widget.accepted_answer')}</span></p>`}
      <div class="body" dangerouslySetInnerHTML=${{ __html: c.body_html }}></div>
      <div class="comment-actions">
        ${canVote ? html`<button type="button" class="link-button vote" aria-pressed=${c.my_vote === 1 ? 'true' : 'false'}
              onClick=${() => app.vote(c)}>${t(c.my_vote === 1 ? 'widget.voted' : 'widget.vote')} (${c.score})</button>`
          : c.score > 0 && html`<span class="muted score">${t('widget.score', { n: c.score })}</span>`}
        ${c.status !== 'pending' || me ? html`<button type="button" class="link-button" aria-expanded=${mode === 'reply' ? 'true' : 'false'}
              onClick=${() => setMode(mode === 'reply' ? null : 'reply')}>${t('widget.reply')}</button>` : null}
        ${canEdit && html`<button type="button" class="link-button" aria-expanded=${mode === 'edit' ? 'true' : 'false'}
              onClick=${() => setMode(mode === 'edit' ? null : 'edit')}>${t('widget.edit', { n: app.minutesLeft(c) })}</button>`}
        ${mine && me && html`<button type="button" class="link-button" onClick=${() => app.askDelete(c)}>${t('widget.delete')}</button>`}
        ${me && !mine && c.status === 'published' && html`<button type="button" class="link-button"
              onClick=${() => app.openFlag(c)}>${t('widget.flag')}</button>`}
        ${canAccept && html`<button type="button" class="link-button" onClick=${() => app.accept(c)}>${t('widget.accept')}</button>`}
        <a class="permalink" href=${`#comment-${c.id}`} onClick=${(e) => { e.preventDefault(); app.openComment(c.id); }}>
          <span class="visually-hidden">${t('widget.link_to', { name })}</span><span aria-hidden="true">#</span></a>
      </div>`}
      ${mode === 'reply' && html`<${Composer} app=${app} parent=${c}
          onDone=${(created) => { setMode(null); app.added(created); }} onCancel=${() => setMode(null)} />`}
      ${mode === 'edit' && html`<${Composer} app=${app} editing=${c}
          onDone=${(updated) => { setMode(null); app.updated(updated); }} onCancel=${() => setMode(null)} />`}
    </article>
    ${tooDeep ? html`<p class="continue"><button type="button" class="link-button" onClick=${() => app.focusOn(c.id)}>
        ${t('widget.continue_thread', { n: c.reply_count || c.replies.length })}</button></p>`
      : c.replies.length > 0 && html`<ol class="replies">
        ${c.replies.map((r) => html`<${Comment} key=${r.id} c=${r} app=${app} depth=${depth + 1} />`)}
      </ol>`}
    ${c.more_replies > 0 && html`<p class="more-replies"><button type="button" class="button secondary"
        onClick=${() => app.loadMoreReplies(c)}>${t('widget.more_replies', { n: c.more_replies })}</button></p>`}
  </li>`;
}
