// The widget's one way to the forum's JSON API (same origin as the frame). The token lives
// only in this frame's own storage; the blog's page never sees it.
import { store } from '../lib/storage.js';
import { t } from '../lib/i18n.js';

const TOKEN = 'forum.token';
export const session = { token: store.get(TOKEN) };

export function setToken(token) {
  session.token = token || null;
  if (token) store.set(TOKEN, token); else store.remove(TOKEN);
}

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.body = body || {};
  }

  // A sentence for the reader: the server's own detail for input problems, ours otherwise.
  get message_for_reader() {
    if (this.status === 0) return t('common.error_network');
    if (this.status === 429) return t('common.error_rate');
    if (this.status >= 500) return t('common.error_generic');
    return this.detail || t('common.error_generic');
  }
}

export async function api(method, path, body, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  if (session.token && !options.anonymous) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: 'omit', cache: 'no-cache',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, null);
  }
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (response.status === 401 && session.token && !options.keepToken) setToken(null);
  if (!response.ok) throw new ApiError(response.status, data && data.detail, data);
  return data;
}

export function newKey() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
