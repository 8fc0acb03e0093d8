// Browser test of the page over a damaged store (TestWebDamaged in
// cmd/eventlog serves a store whose segment DAMAGED_SEGMENT has a bit
// flipped in its block 1 of 3; EVENTS events in all, BLOCK_ROWS a block):
// the page names the damage, offers partial results, and while they are
// partial says so in a banner.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

setTimeout(() => { console.log('FAIL the browser test took over 5 minutes'); process.exit(2); }, 300_000).unref();
const base = process.env.EVENTLOG_URL;
const events = Number(process.env.EVENTS), blockRows = Number(process.env.BLOCK_ROWS);
const segmentName = process.env.DAMAGED_SEGMENT;
assert.ok(base && events && blockRows && segmentName, 'EVENTLOG_URL, EVENTS, BLOCK_ROWS and DAMAGED_SEGMENT are required');
const shots = process.env.SCREENSHOTS || mkdtempSync(join(tmpdir(), 'eventlog-shots-'));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
try {
  await page.goto(base + '/?t=all');
  await page.waitForSelector('#banner:not([hidden])');
  const said = await page.locator('#banner p').textContent();
  assert.match(said, /damaged/);
  assert.ok(said.includes(segmentName) && said.includes('block 1'), `the banner names the damaged block: ${said}`);
  // The newest rows come from intact blocks (a search reads only what it
  // needs); the histogram, which counts every event, cannot be drawn.
  assert.equal(await page.locator('#hist svg').count(), 0);
  await page.screenshot({ path: join(shots, 'damaged.png') });

  await page.click('#partial-on');
  await page.waitForFunction(() => document.querySelector('#banner p').textContent.startsWith('Results are partial'));
  assert.equal(new URL(page.url()).searchParams.get('partial'), '1');
  assert.ok(await page.locator('#partial-on').isHidden(), 'no offer once partial');
  await page.waitForSelector('#hist svg');
  await page.waitForSelector('#failure-rate');
  const metrics = (await page.locator('#metrics').textContent()).replaceAll(',', '');
  assert.match(metrics, new RegExp(`\\(${events - blockRows} in all\\)`), 'counted: every event but the damaged block');
  assert.ok(await page.locator('tr.ev').count() > 0);
  await page.screenshot({ path: join(shots, 'damaged-partial.png') });
  console.log('ok   damaged data: banner, partial results');
} catch (e) {
  console.log(`FAIL damaged data: ${e.stack || e}`);
  await page.screenshot({ path: join(shots, 'failed-damaged.png') }).catch(() => {});
  process.exitCode = 1;
}
await browser.close();
