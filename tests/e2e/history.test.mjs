// SPDX-License-Identifier: ISC
// The dashboard with the server's history, in headless Chromium, against the
// stack tests/integration/56-insight.t starts (HIST_* variables): the charts
// hold the history on first load, before a second refresh, and the
// pending-list panel names the poison entry with the command to copy.
// Prints "ok - ..." / "not ok - ..." lines and "# ..." diagnostics.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = process.env;
if (!env.HIST_URL) {
  console.log('1..0 # SKIP no stack: run through tests/integration/56-insight.t');
  process.exit(0);
}
const T = 15000;
let failed = 0;
function check(cond, what, diag) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}`);
  if (!cond) {
    failed++;
    if (diag !== undefined) console.log(`# ${String(diag).replace(/\n/g, '\n# ')}`);
  }
}

const profile = mkdtempSync(join(tmpdir(), 'streamlag-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 1000 },
});
const page = ctx.pages()[0] || await ctx.newPage();
try {
  await page.goto(env.HIST_URL + '/');
  await page.fill('#token', env.HIST_TOKEN);
  await page.press('#token', 'Enter');
  // The first refresh, then the history: many points before any second one.
  await page.waitForFunction(() => window.__streamlag.prefilledPoints > 0, null, { timeout: T });
  const s = await page.evaluate(() => ({
    updates: window.__streamlag.updates, points: window.__streamlag.times.len,
    filled: window.__streamlag.prefilledPoints,
  }));
  check(s.filled >= 10 && s.points >= s.filled + 1,
    `the chart holds the server's history on first load (${s.filled} points before the first refresh)`, JSON.stringify(s));
  const trend = await page.textContent(`#rows tr[data-stream="ins:a"] td:nth-child(9)`);
  check(/shrinking|growing|stable/.test(trend), `the trend column says ${trend}`, trend);
  await page.click('#rows tr[data-stream="ins:p"] button');
  await page.waitForSelector('#details-pel section[data-group="gp"] pre.cmd', { timeout: T });
  const panel = await page.textContent('#details-pel section[data-group="gp"]');
  check(/Poison entries1: 1-1/.test(panel), 'the pending-list panel lists the poison entry 1-1', panel);
  const cmd = await page.textContent('#details-pel section[data-group="gp"] pre.cmd');
  check(cmd.includes('XCLAIM ins:p gp <dead-letter-consumer> 0 1-1') && cmd.includes('XAUTOCLAIM ins:p gp'),
    'the XCLAIM and XAUTOCLAIM commands are shown to copy', cmd);
} catch (e) {
  check(false, 'the browser test ran to its end', e.message.split('\n')[0]);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
