// Exports of the current view, downloaded through fetch (a link could
// not carry the key): NDJSON as the server streams it, CSV made here from
// it with the table's columns.

import { api } from './api.js';
import { get } from './table.js';

const csvColumns = ['@timestamp', 'event.provider', 'event.action', 'event.outcome', 'user.name', 'kibana.saved_objects', 'message', '_id'];

function csvCell(v) {
  if (v == null) return '';
  if (Array.isArray(v)) v = v.map((r) => (typeof r === 'object' ? `${r.type}:${r.id}` : r)).join(' ');
  const s = String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

export function toCSV(ndjson) {
  const rows = [csvColumns.join(',')];
  for (const line of ndjson.split('\n')) {
    if (!line.trim()) continue;
    const doc = JSON.parse(line);
    if (doc.error && doc.status) throw new Error(`export failed: ${doc.error.reason ?? doc.error.type}`);
    rows.push(csvColumns.map((c) => csvCell(get(doc, c) ?? doc[c])).join(','));
  }
  return rows.join('\r\n') + '\r\n';
}

function save(text, type, name) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60e3);
}

// exportView downloads every event of params (filter, start, end, sort).
export async function exportView(params, format) {
  const text = await (await api('/api/events/_export', { params })).text();
  const last = text.trimEnd().split('\n').pop();
  if (last && last.startsWith('{"status":')) throw new Error(`export failed: ${last}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  if (format === 'csv') save(toCSV(text), 'text/csv', `events-${stamp}.csv`);
  else save(text, 'application/x-ndjson', `events-${stamp}.ndjson`);
}
