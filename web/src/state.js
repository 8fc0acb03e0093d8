// The view's state, all of it in the URL's query string, so that every
// view is a link that opens the same view.

export const defaults = {
  q: '', // KQL filter
  t: '24h', // relative range, "all", or "abs" for from/to
  from: '', to: '', // absolute range (RFC 3339)
  sort: 'desc', // newest first, or "asc"
  stack: 'event.outcome', // field the histogram stacks by
  inc_from: '', inc_to: '', inc_title: '', // incident window
  row: '', // expanded row's _id
  q2: '', cmp: 'merged', // compare query and its layout
  partial: '', // "1": allow_partial
};

export function readState(search = location.search) {
  const p = new URLSearchParams(search);
  const s = { ...defaults };
  for (const k of Object.keys(defaults)) if (p.has(k)) s[k] = p.get(k);
  return s;
}

export function stateURL(s) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(defaults)) if (s[k] !== v) p.set(k, s[k]);
  const qs = p.toString();
  return location.pathname + (qs ? '?' + qs : '');
}

// writeState puts s in the URL: push makes a history entry (a new
// search), replace does not (an expanded row).
export function writeState(s, push) {
  const url = stateURL(s);
  if (url === location.pathname + location.search) return;
  history[push ? 'pushState' : 'replaceState'](null, '', url);
}
