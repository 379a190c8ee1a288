#!/usr/bin/env node
// End-to-end test of the web app against a running `pingan serve` (it starts nothing itself).
//
//   BASE_URL=http://127.0.0.1:8091 E2E_USER=webdev E2E_PASSWORD=... npm run e2e
//
// Environment:
//   BASE_URL          the server (required)
//   E2E_USER, E2E_PASSWORD                   an admin (every page) (required)
//   E2E_SCOPED_USER, E2E_SCOPED_PASSWORD     optional: a district analyst; checks that the
//                                            breadcrumb starts at the scope and a unit above it
//                                            shows the server's 403 message, not a blank page
//   CHROMIUM          the browser (default /usr/bin/chromium)
//   SCREENSHOTS       where screenshots go (default docs/screenshots; "" to skip them)
//   E2E_HEADFUL=1     show the browser
//
// What it checks: login; the overview cards' values equal GET /api/report for the same unit
// and period; a drill down city → district → town through the breakdown, checking again at
// each level and going back up by the breadcrumb; every page of the nav opens without an
// error; the language switch; logout. It writes every page at 1920×1080 and 390×844 in zh-CN
// to docs/screenshots/<page>-<desktop|phone>.png. Exit status 1 when a check fails.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '');
const USER = process.env.E2E_USER || '';
const PASSWORD = process.env.E2E_PASSWORD || '';
const SCOPED_USER = process.env.E2E_SCOPED_USER || '';
const SCOPED_PASSWORD = process.env.E2E_SCOPED_PASSWORD || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS === undefined ? path.join(repo, 'docs', 'screenshots') : process.env.SCREENSHOTS;
const TIMEOUT = 30000;

if (!BASE_URL || !USER || !PASSWORD) {
  console.error('e2e: set BASE_URL, E2E_USER and E2E_PASSWORD (see tests/e2e/run.mjs)');
  process.exit(2);
}

const DESKTOP = { width: 1920, height: 1080 };
const PHONE = { width: 390, height: 844 };
const PAGES = ['overview', 'league', 'bulletin', 'clusters', 'major', 'address', 'quarantine', 'audit'];

let failures = 0;
let checks = 0;
function check(ok, what, detail = '') {
  checks++;
  if (ok) {
    console.log(`  ok   ${what}`);
  } else {
    failures++;
    console.log(`  FAIL ${what}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

async function api(token, pathAndQuery) {
  const response = await fetch(`${BASE_URL}/api/${pathAndQuery}`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET /api/${pathAndQuery}: ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

async function login(page, user, password) {
  await page.goto(`${BASE_URL}/#/login`);
  await page.getByTestId('login-username').fill(user);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('nav').waitFor({ state: 'attached', timeout: TIMEOUT });
  return page.evaluate(() => sessionStorage.getItem('pingan.token'));
}

// Waits until the overview shows `unit` (27 digits) with all its cards.
async function waitOverview(page, unit) {
  await page.locator(`[data-testid="breadcrumb"] .crumb.current[data-testid="crumb-${unit}"]`).waitFor({ timeout: TIMEOUT });
  // The cards on the page are those of the unit and period in the URL.
  await page.waitForFunction((code) => {
    const params = new URLSearchParams(location.hash.split('?')[1] || '');
    const body = document.querySelector('[data-testid="overview-body"]');
    return !!body && !!document.querySelector('[data-testid="value-criminal.filed"]') &&
      body.dataset.period === params.get('period') && body.dataset.unit === params.get('unit') &&
      code.startsWith(body.dataset.unit);
  }, unit, { timeout: TIMEOUT });
}

function routeParams(page) {
  const hash = new URL(page.url()).hash;
  return new URLSearchParams(hash.split('?')[1] || '');
}

// Every card's value against GET /api/report for the unit and period the page shows.
async function compareCards(page, token, label) {
  const params = routeParams(page);
  const unit = params.get('unit');
  const period = params.get('period');
  const report = await api(token, `report?unit=${unit}&period=${encodeURIComponent(period)}`);
  const shown = await page.$$eval('[data-testid^="value-"]', (els) =>
    els.map((el) => ({ id: el.dataset.testid.slice(6), value: el.dataset.value, text: el.textContent })));
  const byId = new Map(shown.map((s) => [s.id, s]));
  const figures = [...report.indicators, ...report.key_types];
  let mismatches = [];
  for (const figure of figures) {
    const card = byId.get(figure.id);
    if (!card) {
      mismatches.push(`${figure.id} missing`);
      continue;
    }
    const textValue = Number(card.text.replace(/,/g, ''));
    if (Number(card.value) !== figure.value || Math.abs(textValue - figure.value) > 0.005) {
      mismatches.push(`${figure.id}: page ${card.text} (${card.value}), API ${figure.value}`);
    }
  }
  check(figures.length === 42 && shown.length === figures.length,
    `${label}: 33 indicators + 9 key types shown`, `${shown.length} cards, ${figures.length} figures`);
  check(!mismatches.length, `${label}: card values equal /api/report (${report.unit_name}, ${report.period})`,
    mismatches.slice(0, 5).join('; '));
  return report;
}

async function shot(page, name) {
  if (!SHOTS) return;
  await page.waitForTimeout(600); // charts animate for 300 ms
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function settle(page, pageId) {
  const main = page.getByTestId(`page-${pageId}`);
  await main.waitFor({ timeout: TIMEOUT });
  // Wait for the page's first answer: no spinner left (the major page keeps a stream open).
  await page.waitForFunction(() => !document.querySelector('#page .loading'), null, { timeout: TIMEOUT });
  const errors = await page.locator('#page [data-testid="error"]').allTextContents();
  return errors;
}

async function openEveryPage(page, allowed, suffix) {
  for (const pageId of PAGES) {
    if (!allowed.includes(pageId)) continue;
    await page.getByTestId(pageId === 'overview' ? 'nav-overview' : `nav-${pageId}`).evaluate((a) => a.click());
    const errors = await settle(page, pageId);
    check(!errors.length, `${suffix}: page ${pageId} opens without an error`, errors.join(' | '));
    if (pageId === 'address') {
      await page.getByTestId('geocode-input').fill('西湖区西溪街道文一路100号');
      await page.getByTestId('geocode-submit').click();
      await page.getByTestId('geocode-status').waitFor({ timeout: TIMEOUT });
      await page.getByTestId('unit-children').waitFor({ timeout: TIMEOUT });
    }
    if (pageId === 'major') {
      const live = await page.locator('[data-testid="live-status"].live').waitFor({ timeout: 20000 }).then(() => true, () => false);
      check(live, `${suffix}: the major-incident stream connects`);
    }
    if (pageId === 'league') {
      const rows = await page.locator('[data-testid^="league-row-"]').count();
      check(rows >= 1, `${suffix}: league table has rows`, `${rows}`);
    }
    if (pageId === 'bulletin') {
      const text = (await page.getByTestId('bulletin-text').textContent()) || '';
      check(text.length > 10, `${suffix}: bulletin has text`);
    }
    await shot(page, `${pageId}-${suffix}`);
  }
}

async function main() {
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !process.env.E2E_HEADFUL,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=zh-CN'],
    env: { ...process.env, LANG: 'zh_CN.UTF-8', LANGUAGE: 'zh_CN:zh' }, // date inputs in Chinese
  });
  const pageErrors = [];
  try {
    // Desktop, admin.
    console.log(`e2e: ${BASE_URL} as ${USER}`);
    const desktop = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await desktop.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));

    await page.goto(`${BASE_URL}/`);
    await page.getByTestId('login-username').waitFor({ timeout: TIMEOUT });
    check(true, 'an unauthenticated visit shows the login page');
    await shot(page, 'login-desktop');

    // A wrong password shows the server's message.
    await page.getByTestId('login-username').fill(USER);
    await page.getByTestId('login-password').fill(`${PASSWORD}-wrong`);
    await page.getByTestId('login-submit').click();
    await page.waitForFunction(() => (document.querySelector('[data-testid="login-error"]')?.textContent || '').length > 0,
      null, { timeout: TIMEOUT });
    check(true, 'a wrong password shows an error message');

    const token = await login(page, USER, PASSWORD);
    check(!!token, 'login keeps a token in sessionStorage');
    const me = await api(token, 'me');
    const home = me.home.code.padEnd(27, '0');

    // Overview at the home unit.
    await waitOverview(page, home);
    check(routeParams(page).get('period') === me.default_period, `the overview opens on the default period ${me.default_period}`,
      routeParams(page).get('period'));
    await compareCards(page, token, 'city');
    await page.waitForTimeout(1500); // sparklines
    await shot(page, 'overview-desktop');

    // Other kinds of period: the picker changes the URL and the cards follow.
    for (const [kind, pattern] of [['week', /^\d{4}-W\d{2}$/], ['quarter', /^\d{4}Q[1-4]$/], ['day', /^\d{4}-\d{2}-\d{2}$/]]) {
      await page.getByTestId(`period-${kind}`).click();
      await page.waitForFunction((source) => new RegExp(source).test(
        new URLSearchParams(location.hash.split('?')[1] || '').get('period') || ''), pattern.source, { timeout: TIMEOUT });
      await waitOverview(page, home);
      await compareCards(page, token, `city, ${kind}`);
    }
    await page.getByTestId('period-month').click();
    await page.waitForFunction((p) => location.hash.includes(`period=${p}`), me.default_period, { timeout: TIMEOUT });
    await waitOverview(page, home);

    // Drill down through the breakdown: city → district → town.
    const path = [home];
    for (const level of ['district', 'town']) {
      await page.getByTestId('card-criminal.filed').click();
      await page.getByTestId('breakdown-table').waitFor({ timeout: TIMEOUT });
      if (level === 'district') await shot(page, 'overview-panel-desktop');
      const preferred = level === 'district' ? '330106000000000000000000000' : '330106004000000000000000000';
      let row = page.getByTestId(`breakdown-row-${preferred}`);
      if (!(await row.count())) row = page.locator('[data-testid^="breakdown-row-"]:not([data-testid="breakdown-row-unplaced"])').first();
      const code = (await row.getAttribute('data-testid')).slice('breakdown-row-'.length);
      await row.click();
      await waitOverview(page, code);
      path.push(code);
      const crumbs = await page.locator('[data-testid="breadcrumb"] .crumb').count();
      check(crumbs === path.length, `breadcrumb has ${path.length} levels at the ${level}`, `${crumbs}`);
      await compareCards(page, token, level);
    }
    await page.getByTestId('panel-close').click();
    // Back up by the breadcrumb.
    await page.getByTestId(`crumb-${home}`).click();
    await waitOverview(page, home);
    check(true, 'the breadcrumb goes back up to the city');

    // Language switch (and back to Chinese for the screenshots).
    await page.getByTestId('lang-switch').click();
    const english = await page.getByTestId('nav-overview').textContent();
    check(english === 'Overview', 'the language switch shows English', english);
    await page.getByTestId('lang-switch').click();
    const chinese = await page.getByTestId('nav-overview').textContent();
    check(chinese === '总览', 'and back to Chinese', chinese);

    const allowed = await page.$$eval('[data-testid="nav"] a', (links) => links.map((a) => a.dataset.testid.slice(4)));
    check(allowed.length >= 6, `the nav lists the admin's pages`, allowed.join(','));
    await openEveryPage(page, allowed, 'desktop');

    // Phone: a fresh context at 390 px, the same pages.
    const phone = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', isMobile: true, hasTouch: true });
    const phonePage = await phone.newPage();
    phonePage.on('pageerror', (error) => pageErrors.push(String(error)));
    await phonePage.goto(`${BASE_URL}/`);
    await phonePage.getByTestId('login-username').waitFor({ timeout: TIMEOUT });
    await shot(phonePage, 'login-phone');
    await login(phonePage, USER, PASSWORD);
    await waitOverview(phonePage, home);
    const navHidden = await phonePage.getByTestId('nav').isHidden();
    check(navHidden, 'phone: the nav is a menu');
    const overflow = await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, 'phone: the overview fits 390 px without horizontal scrolling', `${overflow}px too wide`);
    await phonePage.waitForTimeout(800);
    await shot(phonePage, 'overview-phone');
    await phonePage.getByTestId('menu-toggle').click();
    check(await phonePage.getByTestId('nav').isVisible(), 'phone: the menu opens');
    await shot(phonePage, 'menu-phone');
    await phonePage.getByTestId('menu-toggle').click();
    await openEveryPage(phonePage, allowed, 'phone');
    await phone.close();

    // Logout.
    await page.getByTestId('logout').click();
    await page.getByTestId('login-username').waitFor({ timeout: TIMEOUT });
    const gone = await page.evaluate(() => sessionStorage.getItem('pingan.token'));
    check(!gone, 'logout drops the token and shows the login page');
    const stale = await fetch(`${BASE_URL}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
    check(stale.status === 401, 'the server no longer accepts the token', `${stale.status}`);
    await desktop.close();

    // A district analyst: the breadcrumb starts at the scope; above it is a readable 403.
    if (SCOPED_USER && SCOPED_PASSWORD) {
      console.log(`e2e: scoped user ${SCOPED_USER}`);
      const context = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
      const scoped = await context.newPage();
      scoped.on('pageerror', (error) => pageErrors.push(String(error)));
      const scopedToken = await login(scoped, SCOPED_USER, SCOPED_PASSWORD);
      const scopedMe = await api(scopedToken, 'me');
      const scopeHome = (scopedMe.scopes[0]?.code ?? scopedMe.scopes[0] ?? scopedMe.home.code).padEnd(27, '0');
      await waitOverview(scoped, scopeHome);
      const first = await scoped.locator('[data-testid="breadcrumb"] .crumb').first().getAttribute('data-testid');
      check(first === `crumb-${scopeHome}`, 'scoped: the breadcrumb starts at the scope', first);
      await compareCards(scoped, scopedToken, 'scoped');
      const navLinks = await scoped.$$eval('[data-testid="nav"] a', (links) => links.map((a) => a.dataset.testid.slice(4)));
      check(!navLinks.includes('quarantine') && !navLinks.includes('audit'), 'scoped: no admin pages in the nav', navLinks.join(','));
      await scoped.goto(`${BASE_URL}/#/overview?unit=3301&period=${encodeURIComponent(scopedMe.default_period)}`);
      const error = scoped.locator('#page [data-testid="error"]');
      await error.waitFor({ timeout: TIMEOUT });
      const message = (await error.textContent()) || '';
      check(message.length > 4, 'scoped: a unit above the scope shows the error message', message);
      await shot(scoped, 'forbidden-desktop');
      await scoped.getByTestId('go-home-unit').click();
      await waitOverview(scoped, scopeHome);
      check(true, 'scoped: the error offers the way back to the scope');
      await context.close();
    }
  } finally {
    await browser.close();
  }
  check(!pageErrors.length, 'no uncaught script errors in the pages', pageErrors.slice(0, 3).join(' | '));
  console.log(`e2e: ${checks - failures}/${checks} checks passed${SHOTS ? `; screenshots in ${path.relative(repo, SHOTS) || SHOTS}` : ''}`);
  process.exit(failures ? 1 : 0);
}

main().catch((error) => {
  console.error(`e2e: ${error.stack || error}`);
  process.exit(1);
});
