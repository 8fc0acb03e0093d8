// The histogram: a date_histogram with an automatic interval, stacked by
// a terms sub-aggregation, drawn as SVG (stacked bars are a few rects; a
// charting library would cost more bytes than the drawing). Dragging
// across it selects a span to zoom into; so do the keys, on the focused
// chart: ← → move over the buckets, Shift+← → extend the span, Home and End
// jump, Enter zooms, Escape clears.

import { local, iso, intervalMs } from './time.js';

const svgNS = 'http://www.w3.org/2000/svg';
const W = 1000, H = 120, top = 6, bottom = 18;

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// seriesClass maps a stack value to a CSS class: the outcomes have their
// own colours, other values take a palette slot by rank.
function seriesClass(key, rank) {
  if (['success', 'failure', 'unknown'].includes(key)) return 's-' + key;
  return 's-' + (rank % 6);
}

// drawHistogram draws result (the aggregation's answer) into root, with
// the incident window shaded, and calls onZoom(startMs, endMs) when the
// user selects a span.
export function drawHistogram(root, agg, { incident, onZoom }) {
  root.replaceChildren();
  const buckets = agg?.buckets ?? [];
  const legend = document.createElement('ul');
  legend.className = 'legend';
  if (!buckets.length) {
    root.textContent = 'No events in this range.';
    return;
  }
  const step = intervalMs(agg.interval);
  const t0 = Date.parse(buckets[0].key);
  const t1 = Date.parse(buckets[buckets.length - 1].key) + step;
  const maxCount = Math.max(1, ...buckets.map((b) => b.count));
  const x = (t) => ((t - t0) / (t1 - t0)) * W;
  const y = (c) => top + (H - top - bottom) * (1 - c / maxCount);
  // Series in order of total count, so colours are stable for a view.
  const totals = new Map();
  for (const b of buckets) for (const s of b.stack?.buckets ?? []) totals.set(s.key, (totals.get(s.key) ?? 0) + s.count);
  const series = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const cls = new Map(series.map((k, i) => [k, seriesClass(k, i)]));

  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', tabindex: 0,
    'aria-label': `Events over time, ${agg.interval} buckets, ${local(t0, false)} to ${local(t1, false)}. ` +
      'Arrow keys select buckets, Shift extends, Enter zooms to them.' });
  if (incident && incident.start != null && incident.end != null) {
    const a = Math.max(0, x(incident.start)), b = Math.min(W, x(incident.end));
    if (b > a) el('rect', { x: a, y: 0, width: b - a, height: H - bottom, class: 'incident' }, svg);
  }
  const bw = Math.max(1, x(t0 + step) - x(t0) - 1);
  for (const b of buckets) {
    const bx = x(Date.parse(b.key));
    const g = el('g', { class: 'bar' }, svg);
    let acc = 0;
    const parts = b.stack?.buckets ?? [];
    const other = b.count - parts.reduce((n, s) => n + s.count, 0);
    for (const s of [...parts, ...(other > 0 ? [{ key: '(none)', count: other }] : [])]) {
      el('rect', { x: bx, y: y(acc + s.count), width: bw, height: y(acc) - y(acc + s.count), class: cls.get(s.key) ?? 's-none' }, g);
      acc += s.count;
    }
    const tip = el('title', {}, g);
    tip.textContent = `${local(Date.parse(b.key), false)} (${iso(Date.parse(b.key))} UTC): ${b.count} events` +
      parts.map((s) => `\n${s.key}: ${s.count}`).join('');
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    const label = el('text', { x: Math.min(W - 2, Math.max(2, x(t))), y: H - 4, class: 'tick',
      'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, svg);
    label.textContent = local(t, false);
  }
  const sel = el('rect', { class: 'selection', y: 0, height: H - bottom, width: 0, x: 0 }, svg);
  root.append(svg);
  for (const k of [...series, ...(buckets.some((b) => b.count > (b.stack?.buckets ?? []).reduce((n, s) => n + s.count, 0)) ? ['(none)'] : [])]) {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch ' + (cls.get(k) ?? 's-none');
    li.append(sw, ' ' + k + (totals.has(k) ? ` (${totals.get(k)})` : ''));
    legend.append(li);
  }
  root.append(legend);
  const said = document.createElement('p');
  said.className = 'sr';
  said.setAttribute('aria-live', 'polite');
  root.append(said);
  keyboardZoom(svg, sel, said, buckets, { step, x, onZoom });

  // Drag to zoom, in client pixels mapped to the viewBox.
  const toT = (clientX) => {
    const r = svg.getBoundingClientRect();
    return t0 + ((clientX - r.left) / r.width) * (t1 - t0);
  };
  const toX = (clientX) => {
    const r = svg.getBoundingClientRect();
    return Math.min(W, Math.max(0, ((clientX - r.left) / r.width) * W));
  };
  let from = null;
  svg.addEventListener('pointerdown', (e) => {
    from = e.clientX;
    svg.setPointerCapture(e.pointerId);
  });
  svg.addEventListener('pointermove', (e) => {
    if (from == null) return;
    const a = toX(Math.min(from, e.clientX)), b = toX(Math.max(from, e.clientX));
    sel.setAttribute('x', a);
    sel.setAttribute('width', b - a);
  });
  svg.addEventListener('pointerup', (e) => {
    if (from == null) return;
    const a = Math.min(from, e.clientX), b = Math.max(from, e.clientX);
    from = null;
    sel.setAttribute('width', 0);
    if (b - a >= 4) onZoom(Math.floor(toT(a)), Math.ceil(toT(b)));
  });
}

// keyboardZoom selects a span of buckets with the keys (the anchor and the
// cursor are bucket indexes), shows it as the drag does, says it in said,
// and zooms to it on Enter.
function keyboardZoom(svg, sel, said, buckets, { step, x, onZoom }) {
  let anchor = -1, cursor = -1;
  const last = buckets.length - 1;
  const span = () => {
    const a = Math.min(anchor, cursor), b = Math.max(anchor, cursor);
    return { a, b, start: Date.parse(buckets[a].key), end: Date.parse(buckets[b].key) + step };
  };
  const show = () => {
    const { a, b, start, end } = span();
    sel.setAttribute('x', x(start));
    sel.setAttribute('width', x(end) - x(start));
    let n = 0;
    for (let i = a; i <= b; i++) n += buckets[i].count;
    said.textContent = `Selected ${b - a + 1} bucket(s), ${local(start, false)} to ${local(end, false)}: ${n} events. Enter zooms.`;
  };
  svg.addEventListener('keydown', (e) => {
    let to = null;
    if (e.key === 'ArrowRight') to = cursor < 0 ? 0 : Math.min(last, cursor + 1);
    else if (e.key === 'ArrowLeft') to = cursor < 0 ? last : Math.max(0, cursor - 1);
    else if (e.key === 'Home') to = 0;
    else if (e.key === 'End') to = last;
    else if (e.key === 'Enter' && cursor >= 0) {
      const { start, end } = span();
      onZoom(start, end);
    } else if (e.key === 'Escape') {
      anchor = cursor = -1;
      sel.setAttribute('width', 0);
      said.textContent = 'Selection cleared.';
    } else return;
    e.preventDefault();
    if (to == null) return;
    cursor = to;
    if (!e.shiftKey || anchor < 0) anchor = to;
    show();
  });
  svg.addEventListener('blur', () => { if (cursor >= 0) sel.setAttribute('width', 0); anchor = cursor = -1; });
}
