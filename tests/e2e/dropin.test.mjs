// SPDX-License-Identifier: ISC
// The dashboard under the nginx drop-in's prefix, in headless Chromium:
// it must find the API below its own URL, sign in and show the rows.
// Run by tests/integration/64-nginx-dropin.t, which describes the stack in
// DROPIN_* variables; prints "ok - ..." / "not ok - ..." lines.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = process.env;
if (!env.DROPIN_URL) {
  console.log('1..0 # SKIP no stack: run through tests/integration/64-nginx-dropin.t');
  process.exit(0);
}
const URL_ = env.DROPIN_URL;                       // .../streamlag/
const EXPECT = JSON.parse(env.DROPIN_EXPECT);      // {stream: lag cell text}
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
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = ctx.pages()[0] || await ctx.newPage();
try {
  const api = [];
  const errors = [];
  page.on('request', (r) => { if (r.url().includes('/api/')) api.push(new URL(r.url()).pathname); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const doc = await page.goto(URL_);
  check(doc.status() === 200, `the page loads at ${new URL(URL_).pathname}`, doc.status());
  await page.fill('#token', env.DROPIN_TOKEN);
  await page.press('#token', 'Enter');
  let shown = true;
  try {
    await page.waitForSelector('#rows tr[data-stream="events:chat"]', { timeout: T });
  } catch (e) {
    shown = false;
  }
  check(shown && await page.isVisible('#app'), 'it signs in and shows the table');
  for (const [stream, lag] of Object.entries(EXPECT)) {
    const cell = shown ? (await page.textContent(`#rows tr[data-stream="${stream}"] td:nth-child(3)`)).trim() : null;
    check(cell === lag, `${stream}: lag ${lag}`, `got ${cell}`);
  }
  const outside = api.filter((p) => !p.startsWith('/streamlag/api/v1/events/'));
  check(api.length > 0 && outside.length === 0,
    `every API request stays under /streamlag/ (${api.length} made)`, outside.join(', '));
  check(errors.length === 0, 'no script error', errors.join('\n'));
} catch (e) {
  check(false, 'the browser session ran', e.stack);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
