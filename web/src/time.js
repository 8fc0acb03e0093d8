// Time ranges and how times are shown: in the browser's zone, UTC on
// hover.

export const relative = {
  '15m': 15 * 60e3, '1h': 3600e3, '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3, '30d': 30 * 24 * 3600e3,
};

export const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

// resolve turns the state's range into absolute bounds {start, end} in
// ms (null: open), fixed once per search so that every page of it and
// the histogram see the same window.
export function resolve(s, now = Date.now()) {
  if (s.t === 'abs') return { start: parse(s.from), end: parse(s.to) };
  if (s.t in relative) return { start: now - relative[s.t], end: now };
  return { start: null, end: null };
}

function parse(v) {
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

export const iso = (ms) => (ms == null ? '' : new Date(ms).toISOString());

const pad = (n, w = 2) => String(n).padStart(w, '0');

// local formats ms in the browser's zone: 2026-12-07 08:01:02.345.
export function local(ms, withMs = true) {
  const d = new Date(ms);
  const s = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${s}.${pad(d.getMilliseconds(), 3)}` : s;
}

// inputValue is ms as a datetime-local input wants it (local, seconds).
export const inputValue = (ms) => (ms == null ? '' : local(ms, false).replace(' ', 'T'));

// timeEl is a <time> showing ms locally, UTC in its title.
export function timeEl(ms) {
  const t = document.createElement('time');
  t.dateTime = iso(ms);
  t.textContent = local(ms);
  t.title = iso(ms) + ' (UTC)';
  return t;
}

// intervalMs is the length of a histogram interval ("30s", "1h", "1d",
// "1w", "1M", "1y"); months and years are approximate, enough to draw.
export function intervalMs(iv) {
  const m = /^(\d+)(ms|s|m|h|d|w|M|y)$/.exec(iv || '');
  if (!m) return 0;
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 864e5, w: 7 * 864e5, M: 30 * 864e5, y: 365 * 864e5 }[m[2]];
  return Number(m[1]) * unit;
}
