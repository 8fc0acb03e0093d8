// Browser tests of the timeline page, in headless Chromium through
// playwright-core. The Go test TestWebTimeline (cmd/eventlog) starts a
// real eventlog serve over a fresh data directory, makes the keys, and
// runs this script with:
//
//   EVENTLOG_URL      the server
//   EVENTLOG_KEY      a reader key, typed into the page
//   EVENTLOG_ADMIN    an admin key, with which this script posts events
//   SCREENSHOTS       where screenshots go (default: a temporary directory)
//   CHROMIUM          the browser (default /usr/bin/chromium)
//
// Every expectation comes from the events this script posts itself.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const base = process.env.EVENTLOG_URL;
const key = process.env.EVENTLOG_KEY;
const admin = process.env.EVENTLOG_ADMIN;
assert.ok(base && key && admin, 'EVENTLOG_URL, EVENTLOG_KEY and EVENTLOG_ADMIN are required');
const shots = process.env.SCREENSHOTS || mkdtempSync(join(tmpdir(), 'eventlog-shots-'));
mkdirSync(shots, { recursive: true });

// A hung browser must not outlive the test: give up after five minutes.
setTimeout(() => { console.log('FAIL the browser tests took over 5 minutes'); process.exit(2); }, 300_000).unref();

// restartServer asks the Go test, which owns the server process, to stop
// it and start it again on the same address and data directory: it prints
// "restart-server" and waits for "restarted" on standard input.
async function restartServer() {
  const rl = createInterface({ input: process.stdin });
  console.log('restart-server');
  try {
    for await (const line of rl) if (line === 'restarted') return;
    throw new Error('no "restarted" from the Go test (run this script through TestWebTimeline)');
  } finally {
    rl.close();
    process.stdin.unref?.();
  }
}

// ---- the events ----

const N = 10_500;
const now = Date.now();
const users = ['alice', 'bob', 'carol', 'dave'];
function event(i) {
  const actions = i % 3 === 0;
  return {
    '@timestamp': new Date(now - 60_000 - i * 600).toISOString(),
    event: { provider: actions ? 'actions' : 'alerting', action: actions ? 'execute' : (i % 2 ? 'execute' : 'execute-action'),
      outcome: i % 10 === 0 ? 'failure' : 'success', duration: (i % 100 + 1) * 1_000_000 },
    user: { name: users[i % 4] },
    kibana: { saved_objects: [{ rel: 'primary', type: actions ? 'action' : 'alert', id: 'obj-' + (i % 5) }] },
    message: `event ${i}`,
  };
}
const docs = Array.from({ length: N }, (_, i) => event(i));
// Three events of a user seen nowhere else, half an hour ago.
const mallory = [0, 1, 2].map((k) => ({
  '@timestamp': new Date(now - 30 * 60_000 + k * 1000).toISOString(),
  event: { provider: 'security', action: 'user_login', outcome: 'failure' },
  user: { name: 'mallory' }, message: `suspicious login ${k}`,
}));
const all = [...docs, ...mallory];

async function call(method, path, body, type = 'application/json') {
  const res = await fetch(base + path, { method, body, headers: { Authorization: 'ApiKey ' + admin, 'Content-Type': type } });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const posted = []; // every event this script posted, in order
async function post(events) {
  posted.push(...events);
  for (let i = 0; i < events.length; i += 5000) {
    const r = await call('POST', '/api/events/_bulk', events.slice(i, i + 5000).map((e) => JSON.stringify(e)).join('\n') + '\n', 'application/x-ndjson');
    assert.equal(r.errors, false, JSON.stringify(r.items.find((it) => it.status !== 201)));
  }
}

await call('PUT', '/api/providers/alerting', JSON.stringify({ actions: ['execute', 'execute-action'] }));
await call('PUT', '/api/providers/actions', JSON.stringify({ actions: ['execute'] }));
await call('PUT', '/api/providers/security', JSON.stringify({ actions: ['user_login'] }));
await post(all);

// ---- the browser ----

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
const failures = [];
let page;

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}: ${e.stack || e}`);
    if (page) await page.screenshot({ path: join(shots, `failed-${name.replace(/\W+/g, '-')}.png`) }).catch(() => {});
  }
}

const shot = (name) => page.screenshot({ path: join(shots, name + '.png') });
const rowCount = (p = page) => p.locator('tr.ev').count();
// textContent, not innerText: rows out of view skip rendering
// (content-visibility), and innerText would lay each one out.
const cells = (col, p = page) => p.locator(`tr.ev td:nth-child(${col})`).evaluateAll((tds) => tds.map((td) => td.textContent));
// values are the values a field's buttons show, row by row.
const values = (field) => page.locator(`tr.ev button.val[data-field="${field}"]`).evaluateAll((bs) => bs.map((b) => b.textContent));
const ready = (p = page) => p.waitForFunction(() => document.body.dataset.ready === String(window.__eventlog.searches));
// search types a query and runs it.
async function search(q) {
  await page.fill('#q', q);
  await page.press('#q', 'Escape');
  await page.click('#search button[type=submit]');
  await ready();
}
async function login(p) {
  await p.waitForSelector('#key-dlg[open]');
  await p.fill('#key-input', key);
  await p.click('#key-form button[type=submit]');
  await p.waitForSelector('#who:has-text("role reader")');
}
const countText = async (p = page) => (await p.locator('.count').first().innerText()).replaceAll(',', '');

await step('load asks for the key, shows its role, then the newest events', async () => {
  page = await context.newPage();
  page.on('pageerror', (e) => failures.push('page error: ' + e.message));
  await page.goto(base + '/');
  await shot('key-prompt');
  await login(page);
  await page.waitForSelector('tr.ev');
  await ready();
  assert.match(await page.locator('#who').innerText(), /role reader · spaces: all/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('eventlog.apiKey')), key);
  assert.ok(!page.url().includes(key), 'the key is not in the URL');
  assert.match(await countText(), new RegExp(`of ${all.length} events`));
  const msgs = await cells(8);
  assert.equal(msgs[0], 'event 0');
  assert.equal(msgs[1], 'event 1');
  const first = await page.locator('tr.ev td.ts time').first();
  assert.equal(await first.getAttribute('title'), docs[0]['@timestamp'] + ' (UTC)');
  await page.waitForSelector('#failure-rate');
  const failed = all.filter((e) => e.event.outcome === 'failure').length;
  assert.equal(await page.locator('#failure-rate').innerText(), `${(100 * failed / all.length).toFixed(1)} %`);
  await page.mouse.move(0, 0); // no row hovered in the screenshot
  await shot('timeline');
});

await step('a query shows the matching rows', async () => {
  await search('user.name:mallory');
  assert.equal(await rowCount(), 3);
  assert.deepEqual(await values('user.name'), ['mallory', 'mallory', 'mallory']);
  assert.deepEqual(await cells(8), ['suspicious login 2', 'suspicious login 1', 'suspicious login 0']);
  assert.match(page.url(), /q=user\.name%3Amallory/);
});

await step('completion offers fields, values of indexed fields, and recent queries', async () => {
  await page.fill('#q', '');
  await page.type('#q', 'event.outc');
  await page.waitForSelector('#q-list li');
  assert.deepEqual(await page.locator('#q-list li:not([data-recent])').allTextContents(), ['event.outcome']);
  await page.press('#q', 'ArrowDown');
  await page.press('#q', 'Enter');
  assert.equal(await page.inputValue('#q'), 'event.outcome:');
  await page.waitForSelector('#q-list li');
  const outcomes = [...new Set(all.map((e) => e.event.outcome))].sort();
  assert.deepEqual((await page.locator('#q-list li:not([data-recent])').allTextContents()).sort(), outcomes.map((o) => 'event.outcome:' + o));
  await page.press('#q', 'Escape');
  await page.fill('#q', '');
  await page.type('#q', 'user.name:m');
  await page.waitForSelector('#q-list li[data-recent]');
  assert.deepEqual(await page.locator('#q-list li[data-recent]').allTextContents(), ['user.name:mallory']);
  await page.press('#q', 'Escape');
});

await step('a bad query shows the error at its position', async () => {
  await page.fill('#q', 'event.outcome:failure and');
  await page.click('#search button[type=submit]');
  await page.waitForSelector('#q-error:not([hidden])');
  assert.match(await page.locator('#q-error p').innerText(), /at 26: expected an expression after 'and'/);
  const lines = (await page.locator('#q-error pre').innerText()).split('\n');
  assert.equal(lines[0], 'event.outcome:failure and');
  assert.equal(lines[1].indexOf('^'), 25);
  assert.equal(await page.getAttribute('#q', 'aria-invalid'), 'true');
  await shot('query-error');
});

await step('zooming on the histogram narrows the range', async () => {
  await search('');
  const box = await page.locator('#hist svg').boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => location.search.includes('t=abs'));
  await ready();
  const u = new URL(page.url());
  const from = Date.parse(u.searchParams.get('from')), to = Date.parse(u.searchParams.get('to'));
  assert.ok(to > from);
  const want = all.filter((e) => { const t = Date.parse(e['@timestamp']); return t >= from && t <= to; }).length;
  assert.ok(want > 0 && want < all.length, `zoomed window holds ${want} events`);
  assert.match(await countText(), new RegExp(`of ${want} events`));
  for (const t of await page.locator('tr.ev time').evaluateAll((ts) => ts.map((x) => Date.parse(x.dateTime)))) {
    assert.ok(t >= from && t <= to, 'row inside the zoomed window');
  }
  await shot('zoomed');
});

await step('the histogram zooms from the keyboard: arrows select buckets, Enter zooms', async () => {
  await page.goto(base + '/?t=all');
  await ready();
  const svg = page.locator('#hist svg');
  const [, n, unit] = /, (\d+)(ms|s|m|h|d|w|M|y) buckets/.exec(await svg.getAttribute('aria-label'));
  const bucket = Number(n) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 864e5, w: 7 * 864e5 }[unit];
  await svg.focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('Shift+ArrowRight');
  const said = await page.locator('#hist p.sr').innerText();
  const [, buckets, selected] = /^Selected (\d+) bucket\(s\), .*: (\d+) events\. Enter zooms\.$/.exec(said);
  assert.equal(buckets, '3');
  assert.ok(Number(await page.locator('#hist rect.selection').getAttribute('width')) > 0, 'the span is drawn');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.search.includes('t=abs'));
  await ready();
  const u = new URL(page.url());
  const from = Date.parse(u.searchParams.get('from')), to = Date.parse(u.searchParams.get('to'));
  assert.equal(to - from, 3 * bucket, 'three buckets wide');
  const oldestTs = Math.min(...all.map((e) => Date.parse(e['@timestamp'])));
  assert.ok(from <= oldestTs && oldestTs < from + bucket, 'starting with the first bucket, which holds the oldest event');
  const want = all.filter((e) => { const t = Date.parse(e['@timestamp']); return t >= from && t < to; }).length;
  assert.ok(want > 0 && want < all.length, `zoomed window holds ${want} events`);
  assert.equal(Number(selected), want);
  assert.match(await countText(), new RegExp(`of ${want} events`));
});

let oldest; // the _id of the last row, 'event N-1'
await step('scrolling pages through more than 10,000 rows with search_after', async () => {
  await page.goto(base + '/?t=24h');
  await ready();
  // Scroll to the bottom until every event is shown: each page comes
  // from the previous one's search_after cursor.
  await page.locator('.scroller').evaluate(async (s, total) => {
    for (let i = 0; i < 400 && document.querySelectorAll('tr.ev').length < total; i++) {
      s.scrollTop = s.scrollHeight;
      await new Promise((r) => setTimeout(r, 50));
    }
  }, all.length);
  console.log('search timings', await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('_search')).map((e) => Math.round(e.duration)).join(' ')));
  console.log('append timings', await page.evaluate(() => window.__eventlog.appendMs.join(' ')));
  const ids = await page.locator('tr.ev').evaluateAll((trs) => trs.map((t) => t.dataset.id));
  oldest = ids.at(-1);
  assert.equal(ids.length, all.length);
  assert.equal(new Set(ids).size, all.length, 'no row twice');
  const ts = await page.locator('tr.ev time').evaluateAll((t) => t.map((x) => Date.parse(x.dateTime)));
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i - 1] >= ts[i], `newest first at row ${i}`);
  assert.equal((await cells(8)).at(-1), `event ${N - 1}`);
  assert.doesNotMatch(await countText(), /scroll for more/);
});

let shared;
await step('clicking a value filters by it, and its ⊖ by its negation', async () => {
  await page.goto(base + '/');
  await ready();
  await page.locator('tr.ev button.val[data-field="event.outcome"][data-value="failure"]').first().click();
  await ready();
  assert.equal(await page.inputValue('#q'), 'event.outcome:failure');
  const failures = all.filter((e) => e.event.outcome === 'failure');
  assert.match(await countText(), new RegExp(`of ${failures.length} events`));
  await page.locator('tr.ev').first().hover();
  await page.locator('tr.ev button.neg[data-field="user.name"][data-value="alice"]').first().click();
  await ready();
  assert.equal(await page.inputValue('#q'), 'event.outcome:failure and not user.name:alice');
  const want = failures.filter((e) => e.user.name !== 'alice').length;
  assert.match(await countText(), new RegExp(`of ${want} events`));
  const shown = await values('user.name');
  assert.ok(shown.length > 0 && !shown.includes('alice'));
});

await step('expanding a row shows its document, with a copy button', async () => {
  const tr = page.locator('tr.ev').nth(2);
  const id = await tr.getAttribute('data-id');
  await tr.locator('button.expand').click();
  const pre = page.locator('tr.detail pre');
  const doc = JSON.parse(await pre.innerText());
  assert.equal(doc._id, id);
  assert.equal(doc.event.outcome, 'failure');
  assert.ok(all.some((e) => e.message === doc.message && e['@timestamp'] === doc['@timestamp']));
  assert.equal(new URL(page.url()).searchParams.get('row'), id);
  await page.click('tr.detail button.copy');
  assert.equal(JSON.parse(await page.evaluate(() => navigator.clipboard.readText()))._id, id);
  await shot('expanded-row');
  shared = { url: page.url(), id, rows: await page.locator('tr.ev').evaluateAll((t) => t.slice(0, 50).map((x) => x.dataset.id)) };
});

await step('a shared URL opens the same view', async () => {
  const other = await context.newPage(); // a new tab: no key in its session storage
  await other.goto(shared.url);
  await login(other);
  await ready(other);
  assert.equal(await other.inputValue('#q'), 'event.outcome:failure and not user.name:alice');
  assert.deepEqual(await other.locator('tr.ev').evaluateAll((t) => t.slice(0, 50).map((x) => x.dataset.id)), shared.rows);
  assert.equal(await other.locator('tr.ev[data-id="' + shared.id + '"] + tr.detail').count(), 1);
  assert.equal(await other.getAttribute(`tr.ev[data-id="${shared.id}"] button.expand`, 'aria-expanded'), 'true');
  await other.close();
});

await step('a shared URL reopens an expanded row that is not on the first page', async () => {
  const other = await context.newPage();
  await other.goto(`${base}/?t=24h&row=${encodeURIComponent(oldest)}`);
  await login(other);
  await ready(other);
  assert.equal(await other.locator('#timeline tr.ev').count(), 100, 'only the first page is loaded');
  assert.equal(await other.locator(`#timeline tr.ev[data-id="${oldest}"]`).count(), 0, 'the row is not among the rows loaded');
  assert.ok(await other.locator('#linked').isVisible());
  assert.match(await other.locator('#linked-title').innerText(), new RegExp(`^Event ${oldest} from the link`));
  const doc = JSON.parse(await other.locator('#linked tr.detail pre').innerText());
  const want = docs[N - 1];
  assert.equal(doc._id, oldest);
  assert.equal(doc.message, want.message);
  assert.equal(doc['@timestamp'], want['@timestamp']);
  assert.equal(doc.user.name, want.user.name);
  assert.equal(await other.getAttribute('#linked tr.ev button.expand', 'aria-expanded'), 'true');
  await other.screenshot({ path: join(shots, 'linked-row.png') });
  // Closing it takes it out of the URL.
  await other.click('#linked-close');
  assert.ok(await other.locator('#linked').isHidden());
  assert.equal(new URL(other.url()).searchParams.get('row'), null);
  // An id that names no event says so.
  await other.goto(`${base}/?t=24h&row=no-such-event`); // the same tab: the key is kept
  await ready(other);
  assert.equal(await other.locator('#linked-title').innerText(), 'The linked event no-such-event is not found (erased, or not visible to this key)');
  assert.equal(await other.locator('#linked tr').count(), 0);
  await other.close();
});

await step('a saved-object reference shows that object history', async () => {
  await search('event.provider:alerting');
  const ref = page.locator('tr.ev button.ref').first();
  const id = await ref.getAttribute('data-id');
  await ref.click();
  await page.waitForSelector('#so-dlg[open] ol.history');
  const want = all.filter((e) => e.kibana?.saved_objects?.some((r) => r.type === 'alert' && r.id === id)).length;
  assert.equal(await page.locator('#so-title').innerText(), `History of alert ${id}`);
  assert.match(await page.locator('#so-body p').innerText(), new RegExp(`^${want} events`));
  assert.equal(await page.locator('#so-body li').count(), 100);
  await shot('saved-object-history');
  await page.click('#so-dlg button');
});

await step('following live shows new events at the top, and pause buffers them', async () => {
  await search('user.name:zed');
  assert.equal(await rowCount(), 0);
  await page.click('#live');
  await page.waitForFunction(() => document.getElementById('live').dataset.status === 'following');
  const live = (k) => ({ '@timestamp': new Date().toISOString(), event: { provider: 'security', action: 'user_login', outcome: 'success' }, user: { name: 'zed' }, message: `live ${k}` });
  await post([live(1), live(2)]);
  await page.waitForFunction(() => document.querySelectorAll('tr.ev').length === 2);
  assert.deepEqual(await cells(8), ['live 2', 'live 1']);
  assert.equal(await page.locator('#live-status').innerText(), '2 new event(s)');
  await page.click('#pause');
  await post([live(3), live(4), live(5)]);
  await page.waitForFunction(() => document.getElementById('live-status').textContent.includes('3 new event(s) waiting'));
  assert.equal(await rowCount(), 2);
  await shot('live-paused');
  await page.click('#pause');
  assert.deepEqual(await cells(8), ['live 5', 'live 4', 'live 3', 'live 2', 'live 1']);
  await page.click('#live');
});

await step('following live resumes after the server restarts, each event once and in order', async () => {
  await search('user.name:yann');
  assert.equal(await rowCount(), 0);
  const live = (k) => ({ '@timestamp': new Date().toISOString(), event: { provider: 'security', action: 'user_login', outcome: 'success' }, user: { name: 'yann' }, message: `resumed ${k}` });
  const status = () => page.evaluate(() => document.getElementById('live').dataset.status);
  const following = () => page.waitForFunction(() => document.getElementById('live').dataset.status === 'following', null, { timeout: 30_000 });
  // gap drops the stream by restarting the server and, while the page
  // cannot reconnect (its _tail requests fail until the gap ends), posts
  // events it can only get by resuming with Last-Event-ID.
  async function gap(events) {
    await page.route('**/api/events/_tail*', (r) => r.abort('connectionrefused'));
    await restartServer();
    await page.waitForFunction(() => document.getElementById('live').dataset.status.startsWith('connection lost'));
    await post(events);
    assert.match(await status(), /^connection lost/, 'the events were posted while the page was disconnected');
    await page.unroute('**/api/events/_tail*');
    await following();
  }
  await page.click('#live');
  await following();
  // A drop before the first event: the page resumes from where its
  // stream started, not from "now" again.
  await gap([live(1), live(2)]);
  await page.waitForFunction(() => document.querySelectorAll('tr.ev').length >= 2);
  await post([live(3)]);
  await page.waitForFunction(() => document.querySelectorAll('tr.ev').length >= 3);
  // A drop after events: the page resumes after the last one it got.
  await gap([live(4), live(5)]);
  await post([live(6)]);
  await page.waitForFunction(() => document.querySelectorAll('tr.ev').length >= 6);
  await new Promise((r) => setTimeout(r, 500)); // time for a duplicate to show
  assert.deepEqual(await cells(8), ['resumed 6', 'resumed 5', 'resumed 4', 'resumed 3', 'resumed 2', 'resumed 1']);
  assert.equal(new Set(await page.locator('tr.ev').evaluateAll((t) => t.map((x) => x.dataset.id))).size, 6, 'no row twice');
  assert.equal(await page.locator('#live-status').innerText(), '6 new event(s)');
  await page.click('#live');
});

await step('export downloads the view as NDJSON and CSV', async () => {
  await search('user.name:mallory');
  const [nd] = await Promise.all([page.waitForEvent('download'), page.click('#export-ndjson')]);
  const lines = readFileSync(await nd.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.message), ['suspicious login 2', 'suspicious login 1', 'suspicious login 0']);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const rows = readFileSync(await csv.path(), 'utf8').trim().split('\r\n');
  assert.equal(rows[0], '@timestamp,event.provider,event.action,event.outcome,user.name,kibana.saved_objects,message,_id');
  assert.equal(rows.length, 4);
  assert.match(rows[1], new RegExp(`^${mallory[2]['@timestamp']},security,user_login,failure,mallory,,suspicious login 2,`));
  assert.equal(await page.locator('#export-status').innerText(), 'Exported 3 events as CSV');
  // Every event of the last 24 hours (megabytes, streamed in many chunks;
  // the live events of the steps before are in it too).
  await page.goto(base + '/?t=24h');
  await ready();
  const [big] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const all24h = readFileSync(await big.path(), 'utf8').trim().split('\r\n');
  assert.equal(all24h.length - 1, posted.length, 'a row per event');
  // Every message once (they are all distinct).
  const msgs = all24h.slice(1).map((l) => l.split(',')[6]);
  assert.deepEqual(new Set(msgs), new Set(posted.map((e) => e.message)));
  assert.equal(new Set(msgs).size, posted.length);
  assert.equal(await page.locator('#export-status').innerText(), `Exported ${posted.length.toLocaleString('en')} events as CSV`);
});

await step('an incident window stays in the URL and a second query compares', async () => {
  await page.goto(base + '/?t=24h');
  await ready();
  await page.click('#mark');
  await page.fill('#inc-name', 'login storm');
  await page.click('#inc-form button[value=ok]');
  // The dialog's close event, which starts the search, comes after the
  // click: wait for it, not for the search before it.
  await page.waitForFunction(() => new URL(location.href).searchParams.get('inc_title') === 'login storm');
  await ready();
  assert.equal(new URL(page.url()).searchParams.get('inc_title'), 'login storm');
  assert.match(await page.locator('#incident p').innerText(), /Incident: login storm/);
  await page.click('#compare-box summary');
  await page.fill('#q', 'user.name:mallory');
  await page.fill('#q2', 'event.provider:actions and event.outcome:failure');
  await page.selectOption('#cmp', 'merged');
  await page.click('#compare button[type=submit]');
  await ready();
  const wantB = all.filter((e) => e.event.provider === 'actions' && e.event.outcome === 'failure');
  assert.match(await countText(), new RegExp(`of ${3 + wantB.length} events`));
  const lanes = await page.locator('tr.ev .lane').evaluateAll((ls) => ls.map((l) => l.textContent));
  assert.equal(lanes.filter((l) => l === 'A').length, 3);
  await shot('compare-merged');
  await page.selectOption('#cmp', 'side');
  await page.click('#compare button[type=submit]');
  await ready();
  assert.equal(await page.locator('section.timeline').count(), 2);
  await page.click('#theme');
  await shot('compare-side-dark');
  await page.click('#theme');
});

await browser.close();
if (failures.length) {
  console.log(`${failures.length} failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log(`all passed; screenshots in ${shots}`);
process.exit(0);
