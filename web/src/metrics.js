// The derived metrics panel: terms and stats over the current query, from
// the same _aggregate call as the histogram.

function section(title) {
  const s = document.createElement('section');
  const h = document.createElement('h2');
  h.textContent = title;
  s.append(h);
  return s;
}

// ms formats nanoseconds as milliseconds.
const ms = (ns) => (ns == null ? '–' : `${(ns / 1e6).toLocaleString(undefined, { maximumFractionDigits: 1 })} ms`);

function topList(title, field, agg, onFilter) {
  const s = section(title);
  const ol = document.createElement('ol');
  for (const b of agg?.buckets ?? []) {
    const li = document.createElement('li');
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'val';
    btn.textContent = b.key;
    btn.title = `Filter for ${field}:${b.key}`;
    btn.addEventListener('click', () => onFilter(field, b.key));
    li.append(btn, ` ${b.count.toLocaleString()}`);
    ol.append(li);
  }
  if (!ol.children.length) s.append('none');
  else s.append(ol);
  return s;
}

export function drawMetrics(root, r, onFilter) {
  const a = r.aggregations;
  const failures = a.outcomes.buckets.find((b) => b.key === 'failure')?.count ?? 0;
  const withOutcome = a.outcomes.buckets.reduce((n, b) => n + b.count, 0) + a.outcomes.other_count;
  const rate = section('Failure rate');
  const p = document.createElement('p');
  p.className = 'big';
  p.id = 'failure-rate';
  p.textContent = withOutcome ? `${((100 * failures) / withOutcome).toFixed(1)} %` : '–';
  rate.append(p, `${failures.toLocaleString()} failures of ${withOutcome.toLocaleString()} events with an outcome (${r.total.toLocaleString()} in all)`);
  const dur = section('Duration (event.duration)');
  const dl = document.createElement('dl');
  const st = a.duration;
  for (const [k, v] of [['count', st.count.toLocaleString()], ['p50', ms(st.percentiles?.['50'])], ['p90', ms(st.percentiles?.['90'])],
    ['p99', ms(st.percentiles?.['99'])], ['max', ms(st.max)]]) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
  dur.append(dl);
  root.replaceChildren(rate, topList('Top actions', 'event.action', a.actions, onFilter),
    topList('Top users', 'user.name', a.users, onFilter), dur);
}
