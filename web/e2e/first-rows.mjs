// Measures the time to first rows of the timeline page: from navigation
// start to the first rows on screen (performance.now() in the page, which
// counts from navigation start), over several cold loads (a new browser
// context each: no cache), and reports the median.
//
//   EVENTLOG_URL   the page to open, with its query string (e.g. /?t=all)
//   EVENTLOG_KEY   the API key, when the server needs one
//   RUNS           loads to measure (default 5)

import { chromium } from 'playwright-core';

const url = process.env.EVENTLOG_URL;
const runs = Number(process.env.RUNS || 5);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const rows = [], hist = [];
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  if (process.env.EVENTLOG_KEY) {
    await ctx.addInitScript((k) => sessionStorage.setItem('eventlog.apiKey', k), process.env.EVENTLOG_KEY);
  }
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.__eventlog?.firstRows != null && window.__eventlog?.histogram != null, null, { timeout: 60_000 });
  const m = await page.evaluate(() => ({ rows: window.__eventlog.firstRows, hist: window.__eventlog.histogram,
    count: document.querySelector('.count').textContent }));
  rows.push(m.rows);
  hist.push(m.hist);
  console.log(`load ${i + 1}: first rows ${m.rows.toFixed(0)} ms, histogram ${m.hist.toFixed(0)} ms (${m.count})`);
  await ctx.close();
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`median of ${runs}: first rows ${median(rows).toFixed(0)} ms, histogram and metrics ${median(hist).toFixed(0)} ms`);
await browser.close();
