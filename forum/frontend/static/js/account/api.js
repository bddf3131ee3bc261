// The JSON API as the account pages use it: the reader's bearer token from this origin's
// storage (the same key as the widget's frame), URLs under the site's path prefix.
import { config } from '../lib/i18n.js';
import { store } from '../lib/storage.js';

const cfg = config();
export const base = cfg.base || '';
export const site = cfg.site || '';
export const TOKEN_KEY = 'forum.token';

export const url = (path) => base + path;
export const token = () => store.get(TOKEN_KEY);
export const setToken = (value) => (value ? store.set(TOKEN_KEY, value) : store.remove(TOKEN_KEY));

// -> {ok, status, data}; status 0 when the forum could not be reached.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    return { ok: false, status: 0, data: null };
  }
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch (e) { data = null; }
  }
  if (response.status === 401 && current) setToken(null); // the session ended elsewhere
  return { ok: response.ok, status: response.status, data };
}

// The API's `detail` is "field: message" for a field's problem: [field, message].
export function splitDetail(detail) {
  const text = typeof detail === 'string' ? detail : '';
  const match = /^(?:Invalid input: )?([a-z_]+): (.+)$/s.exec(text);
  return match ? [match[1], match[2].charAt(0).toUpperCase() + match[2].slice(1)] : [null, text];
}
