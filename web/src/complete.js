// Completion for the query bar: field names (the schema's, and those seen
// in results), values of the indexed fields (a terms aggregation over the
// current range), and recent queries. A combobox with a listbox, driven
// by the keyboard (arrows, Enter or Tab, Escape).

import { apiJSON } from './api.js';

const schemaFields = ['@timestamp', 'message', 'tags', 'labels', 'error.code', 'error.message', 'error.type',
  'event.action', 'event.category', 'event.code', 'event.duration', 'event.end', 'event.id', 'event.kind',
  'event.outcome', 'event.provider', 'event.reason', 'event.start', 'event.type', 'log.level', 'log.logger',
  'rule.id', 'rule.name', 'rule.category', 'user.name', 'user.id', 'user.email', 'user.roles', 'kibana.space_ids',
  'kibana.saved_objects', 'kibana.server_uuid', 'kibana.alerting.instance_id', 'kibana.alerting.action_group_id',
  'kibana.task.id', 'source.ip', 'client.ip', 'host.name', 'service.name', 'trace.id', 'transaction.id',
  'http.request.method', 'http.response.status_code', 'url.original'];
export const indexedFields = ['event.provider', 'event.action', 'event.outcome', 'log.level', 'user.name', 'tags'];

const historyKey = 'eventlog.history';
export const history = () => JSON.parse(localStorage.getItem(historyKey) || '[]');
export function remember(q) {
  if (!q.trim()) return;
  const h = [q, ...history().filter((x) => x !== q)].slice(0, 20);
  localStorage.setItem(historyKey, JSON.stringify(h));
}

// seenFields collects the dotted paths of documents' fields.
const seen = new Set();
export function noteFields(doc, prefix = '') {
  for (const [k, v] of Object.entries(doc)) {
    if (k.startsWith('_')) continue;
    const p = prefix + k;
    if (v && typeof v === 'object' && !Array.isArray(v) && k !== 'labels') noteFields(v, p + '.');
    else seen.add(p);
  }
}

// attach wires completion to input and its listbox; rangeParams answers
// the current start/end for value lookups.
export function attach(input, list, rangeParams, onPick) {
  const values = new Map(); // field → Promise of values
  let items = [], active = -1, token = null;

  function currentToken() {
    const pos = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, pos);
    const m = /([\w.@]*)(?::\s*("?[^\s()"]*))?$/.exec(before);
    return { start: pos - m[0].length, end: pos, field: m[1], hasColon: m[0].includes(':'), value: (m[2] ?? '').replace(/^"/, '') };
  }

  function valuesOf(field) {
    if (!values.has(field)) {
      values.set(field, apiJSON('/api/events/_aggregate', { method: 'POST',
        body: { ...rangeParams(), aggs: { v: { terms: { field, size: 50 } } } } })
        .then((r) => r.aggregations.v.buckets.map((b) => b.key)).catch(() => []));
    }
    return values.get(field);
  }

  async function update() {
    token = currentToken();
    let next = [];
    if (token.hasColon && indexedFields.includes(token.field)) {
      const vs = await valuesOf(token.field);
      next = vs.filter((v) => v.startsWith(token.value)).slice(0, 12)
        .map((v) => ({ label: `${token.field}:${v}`, insert: `${token.field}:${/^[\w.@\-/]+$/.test(v) ? v : JSON.stringify(v)} ` }));
    } else if (!token.hasColon) {
      const fields = [...new Set([...schemaFields, ...seen])].sort();
      if (token.field) next = fields.filter((f) => f.startsWith(token.field) && f !== token.field).slice(0, 10).map((f) => ({ label: f, insert: f + ':' }));
    }
    // Recent queries that continue what is typed, whatever the token.
    const whole = input.value.trim();
    next.push(...history().filter((h) => h !== whole && h.startsWith(whole)).slice(0, 5)
      .map((h) => ({ label: h, insert: h, whole: true, recent: true })));
    render(next);
  }

  function render(next) {
    items = next;
    active = -1;
    list.replaceChildren();
    items.forEach((it, i) => {
      const li = document.createElement('li');
      li.id = 'opt-' + i;
      li.role = 'option';
      li.textContent = it.label;
      if (it.recent) li.dataset.recent = 'recent';
      li.addEventListener('mousedown', (e) => { e.preventDefault(); pick(i); });
      list.append(li);
    });
    list.hidden = !items.length;
    input.setAttribute('aria-expanded', String(!list.hidden));
    input.removeAttribute('aria-activedescendant');
  }

  function pick(i) {
    const it = items[i];
    if (!it) return;
    if (it.whole) input.value = it.insert;
    else input.value = input.value.slice(0, token.start) + it.insert + input.value.slice(token.end);
    render([]);
    input.focus();
    onPick?.(it);
    if (!it.whole && it.insert.endsWith(':')) update();
  }

  function move(d) {
    if (!items.length) return;
    active = (active + d + items.length) % items.length;
    [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
    input.setAttribute('aria-activedescendant', 'opt-' + active);
  }

  input.addEventListener('input', update);
  input.addEventListener('focus', update);
  input.addEventListener('blur', () => render([]));
  input.addEventListener('keydown', (e) => {
    if (list.hidden) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); move(1); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); move(-1); }
    else if (e.key === 'Escape') { e.preventDefault(); render([]); }
    else if ((e.key === 'Enter' || e.key === 'Tab') && active >= 0) { e.preventDefault(); e.stopPropagation(); pick(active); }
  });
  return { close: () => render([]), reset: () => values.clear() };
}
