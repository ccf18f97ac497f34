// SPDX-License-Identifier: ISC
// The dashboard with named targets (STREAMLAG_TARGETS) in headless Chromium,
// against the stack tests/integration/71-dashboard-targets.t starts: the
// strip shows every target's verdict, the selector and the strip switch the
// table to another target, and a frozen target shows down in the strip
// while the chosen one keeps updating.  Prints "ok - ..." / "not ok - ..."
// lines; the .t file numbers them as TAP.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = process.env;
if (!env.DASH_URL) {
  console.log('1..0 # SKIP no stack: run through tests/integration/71-dashboard-targets.t');
  process.exit(0);
}
const BASE = env.DASH_URL;
const TOKEN = env.DASH_TOKEN;
const CSP = env.DASH_CSP;
const FREEZE = env.DASH_FREEZE_FILE;   // the .t freezes beta when this file appears
const T = 15000;

let failed = 0;
function check(cond, what, diag) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}`);
  if (!cond) {
    failed++;
    if (diag !== undefined) console.log(`# ${String(diag).replace(/\n/g, '\n# ')}`);
  }
}
async function eventually(what, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: T });
    check(true, what);
  } catch (e) {
    check(false, what, e.message.split('\n')[0]);
  }
}
const row = (s) => `#rows tr[data-stream="${s}"]`;
const lagOf = (s) => page.textContent(`${row(s)} td:nth-child(3)`).then((t) => t.trim());

const profile = mkdtempSync(join(tmpdir(), 'streamlag-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 1000 },
});
const page = ctx.pages()[0] || await ctx.newPage();
try {
  await page.route(BASE + '/', async (route) => {
    const response = await route.fetch();
    route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': CSP } });
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const asked = [];
  page.on('request', (r) => { if (r.url().includes('/api/')) asked.push(r.url()); });

  await page.goto(BASE + '/');
  await page.fill('#token', TOKEN);
  await page.press('#token', 'Enter');
  await page.waitForSelector(row('events:chat'), { timeout: T });
  check(await lagOf('events:chat') === '123', 'the default target (alpha) first: events:chat lag 123');
  await eventually('the strip lists both targets with their verdicts',
    () => [...document.querySelectorAll('#targets-list button')].map((b) => b.textContent).join(' ') ===
      'alphadegraded betahealthy' && !document.getElementById('targets').hidden);
  check(await page.isVisible('#target') &&
    (await page.$$eval('#target option', (o) => o.map((x) => x.value))).join(',') === 'alpha,beta',
  'the selector offers alpha and beta');

  // ---- the selector ----
  await page.selectOption('#target', 'beta');
  await page.waitForSelector(row('orders:eu'), { timeout: T });
  check(await lagOf('orders:eu') === '18', 'beta chosen: its stream orders:eu, lag 18');
  check(await page.$$eval('#rows tr', (r) => r.length) === 1, 'beta chosen: only beta\'s rows');
  check(asked.some((u) => u.includes('consumer-lag?group=*&detail=pel&target=beta')),
    'beta chosen: the API is asked with ?target=beta');
  check(await page.getAttribute('#targets-list button[data-target="beta"]', 'aria-current') === 'true',
    'the strip marks beta as the target shown');

  // ---- the strip ----
  await page.click('#targets-list button[data-target="alpha"]');
  await page.waitForSelector(row('events:chat'), { timeout: T });
  check(await page.inputValue('#target') === 'alpha' && await lagOf('events:chat') === '123',
    'a click on alpha in the strip: back to alpha, the selector follows');

  // ---- beta frozen: the strip says so, alpha keeps updating ----
  (await import('node:fs')).writeFileSync(FREEZE, '');
  await eventually('beta frozen: the strip shows it down',
    () => /down/.test(document.querySelector('#targets-list button[data-target="beta"]')?.textContent || ''));
  const before = await page.evaluate(() => window.__streamlag.updates);
  await eventually('beta frozen: alpha\'s table keeps updating',
    (n) => window.__streamlag.updates >= n + 2, before);
  check(errors.length === 0, 'no script error', errors.join('\n'));
  await page.screenshot({ path: env.DASH_SCREENSHOT, fullPage: false });
} catch (e) {
  check(false, 'the browser test ran to the end', e && e.stack || e);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
