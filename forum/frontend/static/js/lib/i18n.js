// The string catalogue the page embeds as <script type="application/json" id="forum-i18n">
// (forum/frontend/i18n/<lang>.json): flat msgid -> text, plurals {one, other} with {n}.
const node = typeof document !== 'undefined' ? document.getElementById('forum-i18n') : null;
let catalogue = {};
try { catalogue = node ? JSON.parse(node.textContent || '{}') : {}; } catch (e) { catalogue = {}; }
const lang = (typeof document !== 'undefined' && document.documentElement.lang) || 'en';
let rules = null;
try { rules = new Intl.PluralRules(lang); } catch (e) { rules = null; }

export function t(id, values) {
  let entry = catalogue[id];
  if (entry === undefined) return id;
  const vals = values || {};
  if (typeof entry === 'object') {
    const n = Number(vals.n || 0);
    const key = rules ? rules.select(n) : (n === 1 ? 'one' : 'other');
    entry = entry[key] || entry.other || id;
  }
  return String(entry).replace(/\{(\w+)\}/g, (m, k) => (k in vals ? String(vals[k]) : m));
}

export function config() {
  const el = typeof document !== 'undefined' ? document.getElementById('forum-config') : null;
  try { return el ? JSON.parse(el.textContent || '{}') : {}; } catch (e) { return {}; }
}

export { lang };
