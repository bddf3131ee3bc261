// Storage that never throws (a frame's storage may be blocked: remark42#218); falls back to memory.
const memory = new Map();
export const store = {
  get(key) {
    try { const v = window.localStorage.getItem(key); return v === null ? (memory.get(key) ?? null) : v; }
    catch (e) { return memory.get(key) ?? null; }
  },
  set(key, value) {
    memory.set(key, value);
    try { window.localStorage.setItem(key, value); } catch (e) { /* memory only */ }
  },
  remove(key) {
    memory.delete(key);
    try { window.localStorage.removeItem(key); } catch (e) { /* memory only */ }
  },
};
