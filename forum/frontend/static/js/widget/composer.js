// Writing: a new comment, a reply at any depth, or an edit; Markdown help and a preview
// rendered by the server (POST /api/preview, the same sanitizer as a post).
import { html, useState, useId, useEffect, useRef } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api, newKey } from './api.js';
import { ErrorSummary } from './forms.js';
import { Challenge, solvedPayload } from './challenge.js';
import { cfg } from './util.js';

export function Composer({ app, parent = null, editing = null, onDone, onCancel }) {
  const { me, site, topic } = app.state;
  const id = useId();
  const [body, setBody] = useState(editing ? app.sourceOf(editing) : '');
  const [name, setName] = useState(app.guestName());
  const [question, setQuestion] = useState(false);
  const [privately, setPrivately] = useState(false);
  const [preview, setPreview] = useState(null);
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const [solution, setSolution] = useState(null);
  const [round, setRound] = useState(0);
  const [key, setKey] = useState(newKey); // one per comment: a retry is the same post, the next one is not
  const area = useRef(null);
  useEffect(() => { if ((parent || editing) && area.current) area.current.focus(); }, []);
  const guest = !me && !editing;
  const needChallenge = guest && Boolean(cfg.guest_challenge);
  const limit = (site.limits && site.limits.comment_body) || 10000;
  const label = editing ? t('widget.edit_label') : parent ? t('widget.reply_label', { name: app.nameOf(parent) }) : t('widget.comment_label');

  const check = () => {
    const problems = [];
    if (guest && !name.trim()) problems.push({ field: `${id}-name`, text: t('widget.need_name') });
    if (!body.trim()) problems.push({ field: `${id}-body`, text: t('widget.need_body') });
    else if (body.length > limit) problems.push({ field: `${id}-body`, text: t('widget.too_long', { n: limit }) });
    return problems;
  };
  const showPreview = async () => {
    if (!body.trim()) { setErrors([{ field: `${id}-body`, text: t('widget.need_body') }]); return; }
    try { setPreview((await api('POST', '/api/preview', { body })).html); setErrors([]); }
    catch (err) { setErrors([{ field: `${id}-body`, text: err.message_for_reader }]); }
  };
  const submit = async (e) => {
    e.preventDefault();
    const problems = check();
    setErrors(problems);
    if (problems.length) return;
    setBusy(true);
    try {
      if (editing) {
        const updated = await api('PATCH', `/api/comments/${editing.id}`, { body });
        app.rememberSource(updated.id, body);
        onDone(updated);
      } else {
        const payload = { body };
        if (parent) payload.parent_id = parent.id;
        if (!parent && question) { payload.kind = 'question'; if (privately && me) payload.private = true; }
        if (guest) { payload.guest_name = name.trim(); app.rememberGuestName(name.trim()); }
        const send = () => api('POST', `/api/topics/${encodeURIComponent(topic.slug)}/comments`, payload,
          { headers: { 'Idempotency-Key': key } });
        let created;
        if (needChallenge) {
          // a spent or expired check is solved again once, at once
          payload.altcha = solution || await solvedPayload();
          try { created = await send(); } catch (err) {
            if (err.status !== 400 || !String(err.detail || '').startsWith('altcha')) throw err;
            payload.altcha = await solvedPayload();
            created = await send();
          }
          setSolution(null); setRound(round + 1);
        } else created = await send();
        app.rememberSource(created.id, body);
        setBody(''); setPreview(null); setQuestion(false); setPrivately(false); setKey(newKey());
        onDone(created);
      }
    } catch (err) {
      setErrors([{ field: `${id}-body`, text: err.message_for_reader }]);
    } finally { setBusy(false); }
  };

  return html`<form class=${`composer ${parent || editing ? 'inline' : ''}`} onSubmit=${submit} novalidate>
    <${ErrorSummary} errors=${errors} />
    ${guest && html`<div class=${`field ${errors.some((x) => x.field === `${id}-name`) ? 'invalid' : ''}`}>
      <label for=${`${id}-name`}>${t('widget.guest_name')}</label>
      <span class="hint" id=${`${id}-name-hint`}>${t(site.guest_posts_reviewed === false ? 'widget.guest_name_hint_open' : 'widget.guest_name_hint')}</span>
      <input id=${`${id}-name`} type="text" maxlength=${(site.limits && site.limits.guest_name) || 40} autocomplete="nickname"
             aria-describedby=${`${id}-name-hint`} value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
    </div>`}
    <div class=${`field ${errors.some((x) => x.field === `${id}-body`) ? 'invalid' : ''}`}>
      <label for=${`${id}-body`}>${label}</label>
      ${editing && editing.editable_until && html`<span class="hint">${t('widget.edit_time_left', { n: app.minutesLeft(editing) })}</span>`}
      <textarea id=${`${id}-body`} ref=${area} rows=${parent || editing ? 4 : 5} value=${body}
                aria-describedby=${`${id}-help`} onInput=${(e) => { setBody(e.currentTarget.value); setPreview(null); }}></textarea>
      <details class="help" id=${`${id}-help`}>
        <summary>${t('widget.markdown_help')}</summary>
        <ul>
          <li><code>*${t('widget.md_italic')}*</code>, <code>**${t('widget.md_bold')}**</code></li>
          <li><code>[${t('widget.md_link')}](https://example.org)</code></li>
          <li><code>> ${t('widget.md_quote')}</code>, <code>- ${t('widget.md_list')}</code>, <code>\`code\`</code></li>
          <li>${t('widget.md_blank_line')}</li>
        </ul>
      </details>
    </div>
    ${!parent && !editing && html`<fieldset class="ask">
      <legend>${t('widget.ask_legend')}</legend>
      <div class="checkbox">
        <input type="checkbox" id=${`${id}-q`} checked=${question} onChange=${(e) => setQuestion(e.currentTarget.checked)} />
        <label for=${`${id}-q`}>${t('widget.ask_question')}</label>
      </div>
      ${question && (me ? html`<div class="checkbox">
        <input type="checkbox" id=${`${id}-p`} checked=${privately} aria-describedby=${`${id}-p-hint`}
               onChange=${(e) => setPrivately(e.currentTarget.checked)} />
        <label for=${`${id}-p`}>${t('widget.ask_private')}</label>
      </div>
      <p class="hint" id=${`${id}-p-hint`}>${t('widget.ask_private_hint')}</p>` : html`<p class="hint">${t('widget.ask_private_sign_in')}</p>`)}
    </fieldset>`}
    ${needChallenge && html`<${Challenge} key=${round} id=${`${id}-challenge`} start=${body.length > 0} onSolved=${setSolution} />`}
    ${preview !== null && html`<section class="preview" aria-labelledby=${`${id}-pv`}>
      <h3 id=${`${id}-pv`}>${t('widget.preview_title')}</h3>
      <div class="body" dangerouslySetInnerHTML=${{ __html: preview }}></div>
    </section>`}
    <div class="actions">
      <button type="submit" class="button" disabled=${busy}>${editing ? t('common.save') : parent ? t('widget.post_reply') : t('widget.post')}</button>
      <button type="button" class="button secondary" onClick=${showPreview}>${t('widget.preview')}</button>
      ${onCancel && html`<button type="button" class="button secondary" onClick=${onCancel}>${t('common.cancel')}</button>`}
    </div>
  </form>`;
}
