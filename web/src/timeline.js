// A timeline: a table fed by one or more queries (two when merged),
// paged with search_after cursors as the user scrolls, never with the
// page window.

import { apiJSON } from './api.js';
import { rowFor, detailFor, columns } from './table.js';
import { noteFields } from './complete.js';

const firstPage = 100, nextPages = 1000;

// Source is one query's cursor and the rows fetched but not yet shown.
class Source {
  constructor(lane, params) {
    this.lane = lane;
    this.params = params;
    this.buf = [];
    this.next = undefined; // undefined: not asked yet; null: no more
    this.total = null;
  }
  get done() { return this.next === null && !this.buf.length; }
  async fill(size, signal) {
    if (this.next === null || this.buf.length) return;
    const r = await apiJSON('/api/events/_search', { signal,
      params: { ...this.params, size, search_after: this.next } });
    this.next = r.next || null;
    this.total ??= r.total;
    this.partial ||= !!r.partial;
    this.warnings = r.warnings;
    this.buf.push(...(r.data ?? []));
  }
}

export class Timeline {
  // queries: [{lane, params}]; sort "desc" or "asc".
  constructor(root, queries, { sort, title, onRows, onError, incident }) {
    this.sources = queries.map((q) => new Source(q.lane, q.params));
    this.sort = sort;
    this.onRows = onRows;
    this.onError = onError;
    this.incident = incident;
    this.ctl = new AbortController();
    this.shown = 0;
    const wrap = document.createElement('section');
    wrap.className = 'timeline';
    wrap.setAttribute('aria-label', title);
    this.count = document.createElement('p');
    this.count.className = 'count';
    this.count.setAttribute('aria-live', 'polite');
    this.scroller = document.createElement('div');
    this.scroller.className = 'scroller';
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('aria-label', title + ' rows (scroll for more)');
    // Explicit roles: the rows are laid out as grids (style.css), and
    // some browsers drop a table's semantics when its display changes.
    const table = document.createElement('table');
    table.role = 'table';
    table.setAttribute('aria-label', title);
    const thead = table.createTHead();
    thead.role = 'rowgroup';
    const head = thead.insertRow();
    head.role = 'row';
    for (const c of columns) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.role = 'columnheader';
      th.textContent = c;
      if (!c) th.append(Object.assign(document.createElement('span'), { className: 'sr', textContent: 'Expand' }));
      head.append(th);
    }
    this.tbody = table.createTBody();
    this.tbody.role = 'rowgroup';
    this.sentinel = document.createElement('p');
    this.sentinel.className = 'sentinel';
    this.scroller.append(table, this.sentinel);
    wrap.append(this.count, this.scroller);
    root.append(wrap);
    this.observer = new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) this.more(); },
      { root: this.scroller, rootMargin: '600px' });
  }

  destroy() {
    this.ctl.abort();
    this.observer.disconnect();
  }

  // start loads the first page; it resolves once the first rows show.
  async start() {
    await this.more(firstPage);
    this.started = true;
    this.observer.observe(this.sentinel);
  }

  // before reports whether doc a comes before doc b in the table's order.
  before(a, b) {
    const ta = a['@timestamp'] ?? '', tb = b['@timestamp'] ?? '';
    const d = Date.parse(ta) - Date.parse(tb);
    const o = d !== 0 ? d : a._seq - b._seq;
    return this.sort === 'asc' ? o < 0 : o > 0;
  }

  // more appends the next rows: a merge of the sources' buffers, taking
  // a row only while every source that may have more has one buffered,
  // so that the merged order is right.
  async more(size = nextPages) {
    if (this.loading) return;
    this.loading = true;
    try {
      const rows = [];
      while (rows.length < size) {
        await Promise.all(this.sources.map((s) => s.fill(size, this.ctl.signal)));
        const live = this.sources.filter((s) => !s.done);
        if (!live.length) break;
        let n = 0;
        while (rows.length < size && live.every((s) => s.buf.length)) {
          const s = live.reduce((a, b) => (this.before(b.buf[0], a.buf[0]) ? b : a));
          rows.push([s.lane, s.buf.shift()]);
          n++;
        }
        if (!n) break;
      }
      if (rows.length) this.append(rows);
    } catch (e) {
      if (!this.ctl.signal.aborted) this.onError(e);
    } finally {
      this.loading = false;
    }
    this.showCount();
    // Observe again: an observer reports changes only, and the sentinel
    // may still be in view after this page (a user at the bottom).
    if (this.started && !this.ctl.signal.aborted && this.sources.some((s) => !s.done)) {
      this.observer.unobserve(this.sentinel);
      this.observer.observe(this.sentinel);
    }
  }

  append(rows) {
    const t0 = performance.now();
    const frag = document.createDocumentFragment();
    const lanes = this.sources.length > 1;
    for (const [lane, doc] of rows) {
      noteFields(doc);
      frag.append(this.decorate(rowFor(doc, lanes ? lane : '')));
    }
    this.tbody.append(frag);
    this.shown += rows.length;
    this.onRows?.(this);
    window.__eventlog?.appendMs.push(Math.round(performance.now() - t0));
  }

  decorate(tr) {
    const inc = this.incident;
    const ms = Date.parse(tr._doc['@timestamp']);
    if (inc?.start != null && ms >= inc.start && ms <= inc.end) tr.classList.add('in-incident');
    return tr;
  }

  // prepend puts live events at the top.
  prepend(docs) {
    const frag = document.createDocumentFragment();
    for (const doc of docs) frag.prepend(this.decorate(rowFor(doc, this.sources.length > 1 ? 'A' : '')));
    this.tbody.prepend(frag);
    this.shown += docs.length;
    this.live = (this.live ?? 0) + docs.length;
    this.showCount();
  }

  get total() { return this.sources.reduce((n, s) => n + (s.total ?? 0), 0); }
  get partial() { return this.sources.some((s) => s.partial); }

  showCount() {
    const more = this.sources.some((s) => !s.done);
    this.count.textContent = `${this.shown.toLocaleString()} of ${(this.total + (this.live ?? 0)).toLocaleString()} events shown` +
      (more ? ' (scroll for more)' : '');
  }

  // toggle expands or folds the row tr.
  toggle(tr, open = !tr.nextSibling?.classList?.contains('detail')) {
    const btn = tr.querySelector('.expand');
    if (open && !tr.nextSibling?.classList?.contains('detail')) tr.after(detailFor(tr._doc));
    if (!open && tr.nextSibling?.classList?.contains('detail')) tr.nextSibling.remove();
    btn.setAttribute('aria-expanded', String(open));
    btn.textContent = open ? '▾' : '▸';
    return open;
  }

  row(id) { return this.tbody.querySelector(`tr.ev[data-id="${CSS.escape(id)}"]`); }
}
