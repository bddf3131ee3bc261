// Small helpers: times, avatars, the frame's messages to the blog's page.
import { lang, config } from '../lib/i18n.js';
import { t } from '../lib/i18n.js';

const cfg = config();
let relative = null;
let exact = null;
try { relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }); } catch (e) { relative = null; }
try { exact = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' }); } catch (e) { exact = null; }

const STEPS = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day'], [4.35, 'week'], [12, 'month'], [Infinity, 'year']];

export function relativeTime(iso, now = Date.now()) {
  let value = (new Date(iso).getTime() - now) / 1000;
  if (Math.abs(value) < 45) return t('widget.just_now');
  for (const [size, unit] of STEPS) {
    if (Math.abs(value) < size) return relative ? relative.format(Math.round(value), unit) : iso;
    value /= size;
  }
  return iso;
}

export function exactTime(iso) {
  return exact ? exact.format(new Date(iso)) : iso;
}

export function minutesLeft(iso, now = Date.now()) {
  return Math.max(0, Math.ceil((new Date(iso).getTime() - now) / 60000));
}

// Avatars are made here from the name: initials on one of eight colours. Nothing is fetched.
export function avatar(name) {
  const clean = (name || '?').trim();
  const words = clean.split(/[\s_.-]+/).filter(Boolean);
  const initials = (words.length > 1 ? words[0][0] + words[1][0] : clean.slice(0, 2)).toUpperCase();
  let hash = 0;
  for (const ch of clean) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return { initials, tone: hash % 8 };
}

// Messages to the blog's page: only to the parent origin the server accepted (FORUM_EMBED_ORIGINS).
export function tellParent(message) {
  if (!cfg.parent || window.parent === window) return;
  window.parent.postMessage({ forum: 1, ...message }, cfg.parent);
}

export function onParentMessage(handler) {
  window.addEventListener('message', (e) => {
    if (!cfg.parent || e.source !== window.parent || e.origin !== cfg.parent) return;
    if (e.data && e.data.forum === 1) handler(e.data);
  });
}

// Keep the frame as tall as its content (one message per change of height).
export function watchHeight() {
  let last = 0;
  let queued = false;
  const send = () => {
    queued = false;
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height > 0 && height !== last) {
      last = height;
      tellParent({ type: 'resize', height });
    }
  };
  const schedule = () => { if (!queued) { queued = true; setTimeout(send, 16); } };
  if ('ResizeObserver' in window) new ResizeObserver(schedule).observe(document.body);
  // the frame is as tall as its content, so it never scrolls itself (focus() would try)
  window.addEventListener('scroll', () => { if (window.scrollY || window.scrollX) window.scrollTo(0, 0); });
  window.addEventListener('load', schedule);
  schedule();
}

export function scrollParentTo(el) {
  if (!el) return;
  const top = el.getBoundingClientRect().top + window.scrollY;
  if (cfg.parent && window.parent !== window) tellParent({ type: 'scroll', top });
  else el.scrollIntoView({ block: 'start' });
}

export function htmlToText(html) {
  const doc = new DOMParser().parseFromString(html || '', 'text/html');
  return Array.from(doc.body.children).map((el) => el.textContent).join('\n\n') || doc.body.textContent || '';
}

export { cfg };
