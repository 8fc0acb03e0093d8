// Exports of the current view, downloaded through fetch (a link could
// not carry the key). Both are built while the NDJSON export streams in,
// line by line, and kept as a Blob of parts of about 1 MB: the NDJSON as
// the server sends it, the CSV made from it with the table's columns. The
// whole answer is never held as one string.

import { api } from './api.js';
import { get } from './table.js';

const csvColumns = ['@timestamp', 'event.provider', 'event.action', 'event.outcome', 'user.name', 'kibana.saved_objects', 'message', '_id'];
const partBytes = 1 << 20;

function csvCell(v) {
  if (v == null) return '';
  if (Array.isArray(v)) v = v.map((r) => (typeof r === 'object' ? `${r.type}:${r.id}` : r)).join(' ');
  const s = String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

// csvRow is the CSV row of one NDJSON line of the export.
function csvRow(line) {
  const doc = JSON.parse(line);
  if (doc.error && doc.status) throw new Error(`export failed: ${doc.error.reason ?? doc.error.type}`);
  return csvColumns.map((c) => csvCell(get(doc, c) ?? doc[c])).join(',') + '\r\n';
}

// Parts gathers text into Blobs of about partBytes each, which the
// browser may keep out of the page's heap.
class Parts {
  constructor() { this.blobs = []; this.pending = []; this.size = 0; }
  push(s) {
    this.pending.push(s);
    this.size += s.length;
    if (this.size >= partBytes) this.flush();
  }
  flush() {
    if (this.pending.length) this.blobs.push(new Blob(this.pending));
    this.pending = [];
    this.size = 0;
  }
  blob(type) {
    this.flush();
    return new Blob(this.blobs, { type });
  }
}

// eachLine calls onLine with each non-empty line of the body of res as
// it arrives.
async function eachLine(res, onLine) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const lines = (rest + value).split('\n');
    rest = lines.pop();
    for (const l of lines) if (l.trim()) onLine(l);
  }
  if (rest.trim()) onLine(rest);
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60e3);
}

// exportView downloads every event of params (filter, start, end, sort)
// as NDJSON or CSV (format "csv"), calling progress(n) as events arrive.
export async function exportView(params, format, progress = () => {}) {
  const res = await api('/api/events/_export', { params });
  const csv = format === 'csv';
  const parts = new Parts();
  if (csv) parts.push(csvColumns.join(',') + '\r\n');
  let n = 0;
  await eachLine(res, (line) => {
    // The export ends with a status record when it fails part way.
    if (line.startsWith('{"status":')) throw new Error(`export failed: ${line}`);
    parts.push(csv ? csvRow(line) : line + '\n');
    if (++n % 1000 === 0) progress(n);
  });
  progress(n);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  save(parts.blob(csv ? 'text/csv' : 'application/x-ndjson'), `events-${stamp}.${csv ? 'csv' : 'ndjson'}`);
  return n;
}
