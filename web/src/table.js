// The timeline table's rows: each value is a button that adds
// field:value to the query (its ⊖ neighbour adds the negation), each
// saved-object reference opens that object's history, and the first
// cell expands the row to the whole document.

import { timeEl } from './time.js';

export const columns = ['', 'Time', 'Provider', 'Action', 'Outcome', 'User', 'Saved objects', 'Message'];
const valueFields = ['event.provider', 'event.action', 'event.outcome', 'user.name'];

export const get = (doc, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), doc);

function button(text, cls, attrs = {}) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = text;
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  return b;
}

function valueCell(field, value) {
  const td = document.createElement('td');
  if (value == null || value === '') return td;
  const v = String(value);
  td.append(
    button(v, 'val', { 'data-field': field, 'data-value': v, title: `Filter for ${field}:${v}` }),
    button('⊖', 'neg', { 'data-field': field, 'data-value': v, 'data-neg': '1', 'aria-label': `Filter out ${field}:${v}`, title: `Filter out ${field}:${v}` }),
  );
  return td;
}

// rowFor is the table row of one event; lane, when set, is the compare
// query it came from ("A" or "B").
export function rowFor(doc, lane) {
  const tr = document.createElement('tr');
  tr.className = 'ev';
  tr.dataset.id = doc._id;
  if (lane) tr.dataset.lane = lane;
  const toggle = document.createElement('td');
  toggle.append(button('▸', 'expand', { 'aria-expanded': 'false', 'aria-label': `Show event ${doc._id}` }));
  if (lane) {
    const tag = document.createElement('span');
    tag.className = 'lane lane-' + lane;
    tag.textContent = lane;
    toggle.append(tag);
  }
  const ts = document.createElement('td');
  ts.className = 'ts';
  const ms = Date.parse(doc['@timestamp']);
  if (!Number.isNaN(ms)) ts.append(timeEl(ms));
  tr.append(toggle, ts, ...valueFields.map((f) => valueCell(f, get(doc, f))));
  const so = document.createElement('td');
  for (const ref of get(doc, 'kibana.saved_objects') ?? []) {
    so.append(button(`${ref.type}:${ref.id}`, 'ref', { 'data-type': ref.type, 'data-id': ref.id, title: `History of ${ref.type} ${ref.id}` }));
  }
  const msg = document.createElement('td');
  msg.className = 'msg';
  msg.textContent = doc.message ?? '';
  msg.title = doc.message ?? '';
  tr.append(so, msg);
  tr._doc = doc;
  tr.role = 'row';
  for (const td of tr.children) td.role = 'cell';
  return tr;
}

// detailFor is the expanded row below tr: the document as pretty JSON
// and a copy button.
export function detailFor(doc) {
  const tr = document.createElement('tr');
  tr.className = 'detail';
  const td = document.createElement('td');
  td.colSpan = columns.length;
  tr.role = 'row';
  td.role = 'cell';
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(doc, null, 2);
  pre.tabIndex = 0;
  const copy = button('Copy JSON', 'copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(pre.textContent);
      copy.textContent = 'Copied';
    } catch {
      copy.textContent = 'Copy failed: select the text';
    }
  });
  td.append(copy, pre);
  tr.append(td);
  return tr;
}

// kqlValue quotes a value when KQL would not read it as one word.
export function kqlValue(v) {
  return /^[\w.@\-/]+$/.test(v) && !/^(and|or|not)$/i.test(v) ? v : JSON.stringify(v);
}

// addClause adds `field:value` (or its negation) to query q.
export function addClause(q, field, value, neg) {
  const c = `${neg ? 'not ' : ''}${field}:${kqlValue(value)}`;
  q = q.trim();
  if (!q) return c;
  return (/\bor\b/i.test(q) ? `(${q})` : q) + ' and ' + c;
}
