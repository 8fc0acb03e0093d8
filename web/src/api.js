// The page's only way to the server: the public HTTP API, every call
// carrying the API key the user typed. The key lives in sessionStorage
// (gone when the tab closes) and only ever travels in the Authorization
// header, never in a URL.

const keyName = 'eventlog.apiKey';

export const getKey = () => sessionStorage.getItem(keyName) || '';
export function setKey(k) {
  if (k) sessionStorage.setItem(keyName, k);
  else sessionStorage.removeItem(keyName);
}

// APIError is an answer that is not 2xx, with the API's error type and
// reason ({"error":{"type","reason"}}).
export class APIError extends Error {
  constructor(status, type, reason) {
    super(reason);
    this.status = status;
    this.type = type;
  }
  // position is the 1-based column a filter error names ("at 26:"), or 0.
  get position() {
    const m = /\bat (\d+):/.exec(this.message);
    return m ? Number(m[1]) : 0;
  }
}

export function authHeaders(extra = {}) {
  const h = { ...extra };
  const k = getKey();
  if (k) h.Authorization = 'ApiKey ' + k;
  return h;
}

export function apiURL(path, params = {}) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, v);
  }
  return u;
}

// api calls path and answers the Response, or throws an APIError.
export async function api(path, { method = 'GET', params, body, signal, headers } = {}) {
  const h = authHeaders(headers);
  let b;
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    b = JSON.stringify(body);
  }
  const res = await fetch(apiURL(path, params), { method, headers: h, body: b, signal });
  if (!res.ok) throw await toError(res);
  return res;
}

export const apiJSON = async (path, opts) => (await api(path, opts)).json();

export async function toError(res) {
  let type = 'http', reason = `${res.status} ${res.statusText}`;
  try {
    const j = await res.json();
    type = j.error?.type ?? type;
    reason = j.error?.reason ?? reason;
  } catch { /* not JSON: keep the status line */ }
  return new APIError(res.status, type, reason);
}
