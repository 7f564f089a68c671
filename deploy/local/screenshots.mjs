// Takes the README's screenshots (docs/images/*.png) from a running demo portal with Chromium, through the
// Playwright driver the browser tests already restore (no download). Run it with deploy/local/screenshots.sh.
//
//   PORTAL_URL   the demo portal (default http://127.0.0.1:5080), started with deploy/local/start.sh
//   OUT          where the pictures go (default docs/images)
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_PACKAGE);
const base = (process.env.PORTAL_URL ?? 'http://127.0.0.1:5080').replace(/\/$/, '');
const out = process.env.OUT ?? 'docs/images';
const password = 'ComputeDemo!2026';

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});

/** A fresh session for one demo person (null: a visitor), at the width the navbar is checked at. */
async function as(email) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, baseURL: base, locale: 'en-GB', timezoneId: 'Europe/London' });
  const page = await context.newPage();
  if (email) {
    await page.goto('/Account/Login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/Account/Login'));
  }
  return page;
}

/** One picture: the page (or one element of it), once its charts are drawn. */
async function shot(page, url, file, { selector, fullPage = false, height = 900 } = {}) {
  await page.setViewportSize({ width: 1366, height });
  await page.goto(url);
  await page.waitForLoadState('networkidle');
  // reports.js marks each chart once Chart.js has drawn it (without animation).
  await page.waitForFunction(() => [...document.querySelectorAll('canvas[data-chart-table]')].every((c) => c.hasAttribute('data-chart-drawn')));
  const target = path.join(out, file);
  if (selector) {
    await page.locator(selector).first().screenshot({ path: target });
  } else {
    await page.screenshot({ path: target, fullPage });
  }
  console.log(`${target}  ${url}`);
}

const amara = await as('amara.okafor@lakeside.example.edu');
await shot(amara, '/', 'dashboard-researcher.png');
const allocation = await amara.locator('tr[data-allocation] a').first().getAttribute('href');
await shot(amara, allocation, 'allocation.png', { height: 1500 });

const rosa = await as('rosa.martinez@northfield.example.edu');
await shot(rosa, '/', 'dashboard-reviewer.png', { height: 700 });

const admin = await as('admin@example.org');
await shot(admin, '/', 'dashboard-admin.png', { height: 600 });
await shot(admin, '/Admin/Reports', 'reports.png', { height: 1700 });
await shot(admin, '/Admin/Calls/spring-call-2027/Ranking', 'ranking.png', { height: 1250 });

const visitor = await as(null);
await shot(visitor, '/Awards', 'awards.png', { height: 650 });

await browser.close();
