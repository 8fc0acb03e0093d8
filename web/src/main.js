// The timeline page: wires the query bar, time range, histogram,
// timelines, live follow, exports, metrics and the key prompt to the
// state in the URL.

import './style.css';
import { apiJSON, getKey, setKey } from './api.js';
import { readState, writeState } from './state.js';
import { resolve, iso, inputValue, local, zone } from './time.js';
import { drawHistogram } from './histogram.js';
import { Timeline } from './timeline.js';
import { addClause, rowFor, detailFor } from './table.js';
import { follow } from './live.js';
import { exportView } from './exporter.js';
import { attach, remember } from './complete.js';
import { drawMetrics } from './metrics.js';

const $ = (id) => document.getElementById(id);
let state = readState();
let range = { start: null, end: null };
let timelines = [];
let liveStream = null, paused = false, buffered = [], followed = 0;
let searchSeq = 0;

// Performance marks the browser test reads: when the first rows showed.
window.__eventlog = { firstRows: null, searches: 0, appendMs: [] };

// ---- the API key ----

async function whoami() {
  try {
    const w = await apiJSON('/api/_security/_authenticate');
    $('who').textContent = w.authenticated
      ? `Key ${w.name} (${w.id}) · role ${w.role} · spaces: ${w.spaces?.length ? w.spaces.join(', ') : 'all'}`
      : 'No key needed: this server does not authenticate';
    return true;
  } catch (e) {
    if (e.status === 401) askKey(getKey() ? e.message : '');
    else showError(e);
    return false;
  }
}

function askKey(message) {
  $('key-error').textContent = message || '';
  $('key-input').value = '';
  if (!$('key-dlg').open) $('key-dlg').showModal();
}

$('key-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  setKey($('key-input').value.trim());
  $('key-dlg').close();
  if (await whoami()) search(false);
});
$('key-forget').addEventListener('click', () => { setKey(''); askKey('Key forgotten.'); });
$('key-change').addEventListener('click', () => askKey(''));

// ---- theme ----

function applyTheme(t) {
  document.documentElement.dataset.theme = t;
  $('theme').setAttribute('aria-pressed', String(t === 'dark'));
  $('theme').textContent = t === 'dark' ? 'Light theme' : 'Dark theme';
}
applyTheme(localStorage.getItem('eventlog.theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
$('theme').addEventListener('click', () => {
  const t = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('eventlog.theme', t);
  applyTheme(t);
});

// ---- state ↔ controls ----

function toControls() {
  $('q').value = state.q;
  $('range').value = state.t;
  $('sort').value = state.sort;
  $('stack').value = state.stack;
  $('q2').value = state.q2;
  $('cmp').value = state.cmp;
  $('compare-box').open ||= !!state.q2;
  const r = resolve(state);
  $('from').value = inputValue(r.start);
  $('to').value = inputValue(r.end);
  $('from').disabled = $('to').disabled = state.t !== 'abs';
}

function fromControls() {
  state.q = $('q').value.trim();
  state.t = $('range').value;
  if (state.t === 'abs') {
    state.from = iso(Date.parse($('from').value)) || '';
    state.to = iso(Date.parse($('to').value)) || '';
  } else {
    state.from = state.to = '';
  }
}

function setRange(start, end) {
  state.t = 'abs';
  state.from = iso(start);
  state.to = iso(end);
}

const incident = () => (state.inc_from ? { start: Date.parse(state.inc_from), end: Date.parse(state.inc_to), title: state.inc_title } : null);

// ---- errors ----

function showError(e) {
  if (e.status === 401) return askKey(e.message);
  if (e.type === 'corruption') {
    $('banner').hidden = false;
    $('banner').querySelector('p').textContent = `Some stored events are damaged: ${e.message}`;
    $('partial-on').hidden = false;
    return;
  }
  const box = $('q-error');
  box.hidden = false;
  box.querySelector('p').textContent = e.message;
  const pos = e.position;
  const pre = box.querySelector('pre');
  pre.hidden = !pos;
  box.dataset.position = pos || '';
  if (pos) pre.textContent = `${state.q}\n${' '.repeat(Math.max(0, pos - 1))}^`;
  if (pos) $('q').setAttribute('aria-invalid', 'true');
}

function clearErrors() {
  $('q-error').hidden = true;
  $('q').removeAttribute('aria-invalid');
  $('banner').hidden = true;
}

// showPartial keeps a banner up while what is shown leaves out damaged
// ranges (warnings: the answer's, one per range).
function showPartial(warnings) {
  $('banner').hidden = false;
  $('partial-on').hidden = true;
  $('banner').querySelector('p').textContent = `Results are partial: ${warnings} damaged range(s) of stored events are left out.`;
}

$('partial-on').addEventListener('click', () => { state.partial = '1'; search(true); });

// ---- search ----

function baseParams(q) {
  return {
    filter: q || undefined,
    start: range.start == null ? undefined : iso(range.start),
    end: range.end == null ? undefined : iso(range.end),
    allow_partial: state.partial ? 'true' : undefined,
  };
}

async function search(push) {
  const seq = ++searchSeq;
  window.__eventlog.searches++;
  writeState(state, push);
  toControls();
  clearErrors();
  stopLive();
  hideLinked();
  range = resolve(state);
  for (const t of timelines) t.destroy();
  timelines = [];
  const root = $('timeline');
  root.replaceChildren();
  root.dataset.layout = state.q2 && state.cmp === 'side' ? 'side' : 'single';
  const sort = '@timestamp:' + state.sort;
  const inc = incident();
  showIncident();
  const mk = (title, queries) => {
    const t = new Timeline(root, queries.map(([lane, q]) => ({ lane, params: { ...baseParams(q), sort } })),
      { sort: state.sort, title, incident: inc, onError: showError, onRows: (tl) => rowsShown(tl, seq) });
    timelines.push(t);
    return t;
  };
  if (!state.q2) mk('Timeline', [['A', state.q]]);
  else if (state.cmp === 'side') { mk(`A: ${state.q || 'all events'}`, [['A', state.q]]); mk(`B: ${state.q2}`, [['B', state.q2]]); }
  else mk(`Merged: A ${state.q || 'all events'} · B ${state.q2}`, [['A', state.q], ['B', state.q2]]);
  aggregate(seq);
  await Promise.all(timelines.map((t) => t.start()));
  if (seq !== searchSeq) return;
  if (state.row) {
    let shown = false;
    for (const t of timelines) {
      const tr = t.row(state.row);
      if (tr) { t.toggle(tr, true); tr.scrollIntoView({ block: 'center' }); shown = true; }
    }
    if (!shown) await showLinked(state.row, seq);
  }
  document.body.dataset.ready = String(seq);
}

function rowsShown(tl, seq) {
  if (window.__eventlog.firstRows == null && tl.shown) window.__eventlog.firstRows = performance.now();
  if (seq === searchSeq && tl.partial) showPartial(tl.sources.reduce((a, s) => a + (s.warnings?.length ?? 0), 0));
}

async function aggregate(seq) {
  const body = {
    ...baseParams(state.q),
    allow_partial: !!state.partial,
    aggs: {
      h: { date_histogram: { field: '@timestamp', interval: 'auto', time_zone: zone }, aggs: { stack: { terms: { field: state.stack, size: 8 } } } },
      actions: { terms: { field: 'event.action', size: 5 } },
      users: { terms: { field: 'user.name', size: 5 } },
      outcomes: { terms: { field: 'event.outcome', size: 5 } },
      duration: { stats: { field: 'event.duration' } },
    },
  };
  try {
    const r = await apiJSON('/api/events/_aggregate', { method: 'POST', body });
    if (seq !== searchSeq) return;
    if (r.partial) showPartial(r.warnings?.length ?? 0);
    window.__eventlog.histogram ??= performance.now();
    drawHistogram($('hist'), r.aggregations.h, { incident: incident(), onZoom: (a, b) => { setRange(a, b); search(true); } });
    drawMetrics($('metrics'), r, (field, value) => filterBy(field, value, false));
  } catch (e) {
    if (seq !== searchSeq) return;
    $('hist').textContent = '';
    $('metrics').textContent = '';
    if (e.position === 0) showError(e); // a filter error shows once, from the search
  }
}

function filterBy(field, value, neg) {
  state.q = addClause(state.q, field, value, neg);
  state.row = '';
  remember(state.q);
  search(true);
}

$('search').addEventListener('submit', (e) => {
  e.preventDefault();
  fromControls();
  state.row = '';
  remember(state.q);
  search(true);
});
$('range').addEventListener('change', () => {
  if ($('range').value === 'abs') {
    const r = resolve(state);
    setRange(r.start ?? Date.now() - 864e5, r.end ?? Date.now());
    toControls();
    $('from').focus();
    return;
  }
  fromControls();
  search(true);
});
$('sort').addEventListener('change', () => { state.sort = $('sort').value; search(true); });
$('stack').addEventListener('change', () => { state.stack = $('stack').value; search(true); });
function step(dir) {
  const r = resolve(state);
  if (r.start == null || r.end == null) return;
  const len = r.end - r.start;
  setRange(r.start + dir * len, r.end + dir * len);
  search(true);
}
$('back').addEventListener('click', () => step(-1));
$('fwd').addEventListener('click', () => step(1));
window.addEventListener('popstate', () => { state = readState(); search(false); });

// Clicks inside timelines and the linked event: expand, filter by value,
// saved-object history.
function onRowClick(e) {
  const b = e.target.closest('button');
  if (!b) return;
  const tr = b.closest('tr.ev');
  const tl = timelines.find((t) => t.tbody.contains(b));
  if (b.classList.contains('expand') && tr && tl) {
    hideLinked();
    state.row = tl.toggle(tr) ? tr.dataset.id : '';
    writeState(state, false);
  } else if (b.classList.contains('expand') && tr) {
    closeLinked();
  } else if (b.dataset.field) {
    filterBy(b.dataset.field, b.dataset.value, !!b.dataset.neg);
  } else if (b.classList.contains('ref')) {
    showHistory(b.dataset.type, b.dataset.id);
  }
}
$('timeline').addEventListener('click', onRowClick);
$('linked').addEventListener('click', onRowClick);

// ---- the expanded event of a link, when it is not among the rows loaded ----

// showLinked fetches the event id (GET /api/events/{id}: a client id or
// an engine id) and shows it expanded above the timeline, so that a
// shared link opens its expanded row even when the row is further down
// than the first page.
async function showLinked(id, seq) {
  const box = $('linked');
  const tbody = box.querySelector('tbody');
  try {
    const doc = await apiJSON(`/api/events/${encodeURIComponent(id)}`);
    if (seq !== searchSeq) return;
    const tr = rowFor(doc, '');
    tr.querySelector('.expand').setAttribute('aria-expanded', 'true');
    tr.querySelector('.expand').setAttribute('aria-label', `Close event ${doc._id}`);
    tbody.replaceChildren(tr, detailFor(doc));
    $('linked-title').textContent = `Event ${id} from the link (not among the rows loaded: it is further down, or outside this query and range)`;
  } catch (e) {
    if (seq !== searchSeq) return;
    tbody.replaceChildren();
    $('linked-title').textContent = e.status === 404
      ? `The linked event ${id} is not found (erased, or not visible to this key)`
      : `Cannot load the linked event ${id}: ${e.message}`;
  }
  box.hidden = false;
}

function hideLinked() {
  $('linked').hidden = true;
  $('linked').querySelector('tbody').replaceChildren();
}

// closeLinked folds the linked event and takes it out of the URL.
function closeLinked() {
  hideLinked();
  state.row = '';
  writeState(state, false);
}
$('linked-close').addEventListener('click', closeLinked);

// ---- saved-object history (Kibana's _find) ----

async function showHistory(type, id) {
  $('so-title').textContent = `History of ${type} ${id}`;
  const body = $('so-body');
  body.textContent = 'Loading…';
  $('so-dlg').showModal();
  try {
    const r = await apiJSON(`/api/event_log/${encodeURIComponent(type)}/${encodeURIComponent(id)}/_find`,
      { params: { sort_order: 'desc', per_page: 100 } });
    const p = document.createElement('p');
    p.textContent = `${r.total} events (newest first${r.total > r.data.length ? `, the first ${r.data.length} shown` : ''})`;
    const ol = document.createElement('ol');
    ol.className = 'history';
    for (const d of r.data) {
      const li = document.createElement('li');
      const t = Date.parse(d['@timestamp']);
      li.textContent = `${local(t)} ${d.event?.provider ?? ''} ${d.event?.action ?? ''} ${d.event?.outcome ?? ''} ${d.message ?? ''}`;
      li.title = iso(t) + ' UTC';
      ol.append(li);
    }
    body.replaceChildren(p, ol);
  } catch (e) {
    body.textContent = `Cannot load the history: ${e.message}`;
  }
}

// ---- follow live ----

function stopLive() {
  liveStream?.stop();
  liveStream = null;
  buffered = [];
  paused = false;
  $('live').setAttribute('aria-pressed', 'false');
  $('live').textContent = 'Follow live';
  $('pause').hidden = true;
  $('live-status').textContent = '';
}

function liveCounter() {
  $('live-status').textContent = paused
    ? `Paused: ${buffered.length} new event(s) waiting`
    : `${followed} new event(s)`;
  $('pause').textContent = paused ? `Resume (${buffered.length})` : 'Pause';
}

$('live').addEventListener('click', async () => {
  if (liveStream) return stopLive();
  if (state.sort !== 'desc') { state.sort = 'desc'; await search(true); }
  const tl = timelines[0];
  followed = 0;
  liveStream = follow(state.q, {
    onEvent: (doc) => {
      followed++;
      if (paused) buffered.push(doc); else tl.prepend([doc]);
      liveCounter();
    },
    onStatus: (s, err) => {
      if (err) { stopLive(); showError(err); return; }
      $('live').dataset.status = s;
      if (s !== 'following') $('live-status').textContent = s;
      else liveCounter();
    },
  });
  $('live').setAttribute('aria-pressed', 'true');
  $('live').textContent = 'Stop following';
  $('pause').hidden = false;
  liveCounter();
});
$('pause').addEventListener('click', () => {
  paused = !paused;
  $('pause').setAttribute('aria-pressed', String(paused));
  if (!paused && buffered.length) { timelines[0].prepend(buffered); buffered = []; }
  liveCounter();
});

// ---- incident window ----

function showIncident() {
  const inc = incident();
  $('incident').hidden = !inc;
  if (inc) $('incident').querySelector('p').textContent = `Incident: ${state.inc_title || '(untitled)'} · ${local(inc.start, false)} to ${local(inc.end, false)} (${zone})`;
}
$('mark').addEventListener('click', () => {
  const r = resolve(state);
  const inc = incident();
  $('inc-name').value = state.inc_title;
  $('inc-from').value = inputValue(inc?.start ?? r.start);
  $('inc-to').value = inputValue(inc?.end ?? r.end);
  $('inc-dlg').showModal();
});
$('inc-dlg').addEventListener('close', () => {
  if ($('inc-dlg').returnValue !== 'ok') return;
  state.inc_title = $('inc-name').value.trim();
  state.inc_from = iso(Date.parse($('inc-from').value));
  state.inc_to = iso(Date.parse($('inc-to').value));
  search(true);
});
$('inc-zoom').addEventListener('click', () => { const i = incident(); setRange(i.start, i.end); search(true); });
$('inc-clear').addEventListener('click', () => { state.inc_from = state.inc_to = state.inc_title = ''; search(true); });

// ---- compare ----

$('compare').addEventListener('submit', (e) => {
  e.preventDefault();
  state.q2 = $('q2').value.trim();
  state.cmp = $('cmp').value;
  fromControls();
  search(true);
});
$('compare-off').addEventListener('click', () => { state.q2 = ''; $('q2').value = ''; search(true); });

// ---- export ----

async function doExport(format) {
  const status = $('export-status');
  status.textContent = `Exporting ${format.toUpperCase()}…`;
  try {
    const n = await exportView({ ...baseParams(state.q), allow_partial: undefined, sort: '@timestamp:' + state.sort }, format,
      (k) => { status.textContent = `Exporting ${format.toUpperCase()}: ${k.toLocaleString('en')} events…`; });
    status.textContent = `Exported ${n.toLocaleString('en')} events as ${format.toUpperCase()}`;
  } catch (e) {
    status.textContent = `Export failed: ${e.message}`;
  }
}
$('export-ndjson').addEventListener('click', () => doExport('ndjson'));
$('export-csv').addEventListener('click', () => doExport('csv'));

// ---- start ----

attach($('q'), $('q-list'), () => baseParams(''), null);
toControls();
whoami().then((ok) => { if (ok) search(false); });
