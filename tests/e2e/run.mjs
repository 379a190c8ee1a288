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
// each level and going back up by the breadcrumb; the risk map's legend equals GET /api/risk,
// a clicked unit's panel shows the grade of GET /api/risk/unit, a key type switches the
// colours, a drill down goes one level lower; the command-centre screen fits 1920×1080 without
// scrolling; every page of the nav opens without an error; the language switch; logout. It
// writes every page at 1920×1080 and 390×844 in zh-CN to
// docs/screenshots/<page>-<desktop|phone>.png. Exit status 1 when a check fails.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BASE_URL, CHROMIUM, DESKTOP, PHONE, SHOTS, TIMEOUT, api, check, finish, login, repo, runMain } from './common.mjs';

const USER = process.env.E2E_USER || '';
const PASSWORD = process.env.E2E_PASSWORD || '';
const SCOPED_USER = process.env.E2E_SCOPED_USER || '';
const SCOPED_PASSWORD = process.env.E2E_SCOPED_PASSWORD || '';
// An address of the demo city down to the room (scripts/e2e.sh takes it from DATA/eval/).
const ADDRESS = process.env.E2E_ADDRESS || '';
// A "lon,lat" point inside a grid of the demo city (scripts/e2e.sh finds one with `pingan geocode --points`).
const POINT = process.env.E2E_POINT || '';
if (!BASE_URL || !USER || !PASSWORD) {
  console.error('e2e: set BASE_URL, E2E_USER and E2E_PASSWORD (see tests/e2e/run.mjs)');
  process.exit(2);
}

const PAGES = ['overview', 'map', 'league', 'bulletin', 'clusters', 'major', 'address', 'quarantine', 'audit'];
const GRADES = ['red', 'orange', 'yellow', 'blue', 'green'];

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

// Waits until the risk map shows the unit, level and period of its URL (and `want`, if given).
async function waitMap(page, want = {}) {
  await page.waitForFunction((w) => {
    const params = new URLSearchParams(location.hash.split('?')[1] || '');
    const body = document.querySelector('[data-testid="risk-body"]');
    if (!body || !document.querySelector('[data-testid="risk-legend"]')) return false;
    const unit = (params.get('unit') || '').padEnd(27, '0');
    return body.dataset.unit === unit && body.dataset.level === params.get('level') &&
      body.dataset.period === params.get('period') &&
      (!w.unit || body.dataset.unit === w.unit) && (!w.level || body.dataset.level === w.level) &&
      (!w.key || body.dataset.key === w.key);
  }, want, { timeout: TIMEOUT });
  await page.waitForTimeout(400); // the map draws on the next frame
}

// The legend's counts (and the table's grades) against GET /api/risk for the unit, level and
// period in the URL; with a key type, against the units' grades by that key type.
async function compareLegend(page, token, label) {
  const params = routeParams(page);
  const unit = params.get('unit');
  const level = params.get('level');
  const period = params.get('period');
  const key = params.get('key');
  const risk = await api(token, `risk?unit=${unit}&level=${level}&period=${encodeURIComponent(period)}`);
  let expected = risk.counts;
  if (key) {
    const index = risk.key_types.findIndex((k) => k.id === key);
    expected = Object.fromEntries(GRADES.map((g) => [g, 0]));
    for (const u of risk.units) expected[u.key_grades[index]]++;
  }
  const shown = await page.$$eval('[data-testid^="legend-"]', (els) =>
    Object.fromEntries(els.map((el) => [el.dataset.testid.slice(7), Number(el.dataset.count)])));
  const texts = await page.$$eval('[data-testid^="legend-"] .legend-count', (els) => els.map((el) => Number(el.textContent.replace(/[^\d]/g, ''))));
  const bad = GRADES.filter((g, i) => shown[g] !== expected[g] || texts[i] !== expected[g]);
  check(!bad.length, `${label}: legend counts equal /api/risk (${risk.unit_name}, ${level}, ${risk.period}${key ? `, ${key}` : ''})`,
    bad.map((g) => `${g}: page ${shown[g]}, API ${expected[g]}`).join('; '));
  if (risk.units.length <= 300) {
    const rows = await page.$$eval('[data-testid^="risk-row-"]', (els) => els.map((el) => el.dataset.grade));
    const byGrade = Object.fromEntries(GRADES.map((g) => [g, rows.filter((r) => r === g).length]));
    check(rows.length === risk.units.length && GRADES.every((g) => byGrade[g] === expected[g]),
      `${label}: the table lists every unit with its grade written out`, `${rows.length} rows, ${JSON.stringify(byGrade)}`);
  }
  return risk;
}

// Clicks a unit on the map (the canvas), or failing that in the table, and checks the panel's
// grade against GET /api/risk/unit.
async function openUnitPanel(page, token, label) {
  const params = routeParams(page);
  const box = await page.getByTestId('risk-map').boundingBox();
  for (const [fx, fy] of [[0.5, 0.5], [0.35, 0.45], [0.65, 0.55], [0.5, 0.3]]) {
    await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    if (await page.getByTestId('risk-panel').waitFor({ timeout: 2000 }).then(() => true, () => false)) break;
  }
  let how = 'map';
  if (!(await page.getByTestId('risk-panel').count())) {
    how = 'table';
    await page.locator('[data-testid^="risk-row-"] a').first().click();
  }
  const panel = page.getByTestId('risk-panel');
  await panel.waitFor({ timeout: TIMEOUT });
  await page.getByTestId('panel-grade').waitFor({ timeout: TIMEOUT });
  const code = await panel.getAttribute('data-unit');
  const grade = await page.getByTestId('panel-grade').getAttribute('data-grade');
  const text = (await page.getByTestId('panel-grade').textContent()) || '';
  const explained = await api(token, `risk/unit?unit=${code}&period=${encodeURIComponent(params.get('period'))}&history=0`);
  const zh = { red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色', green: '绿色' };
  check(grade === explained.grade && text.includes(zh[explained.grade]),
    `${label}: a unit clicked on the ${how} opens its panel with the grade of /api/risk/unit (${explained.name}: ${explained.grade_zh})`,
    `page ${grade} "${text}", API ${explained.grade}`);
  const rows = await page.locator('[data-testid^="dim-row-"]').count();
  check(rows === explained.dimensions.length, `${label}: the panel lists observed against expected for the ${rows} key types`);
  const score = Number(await page.getByTestId('panel-score').getAttribute('data-value'));
  check(Math.abs(score - explained.score) < 1e-9, `${label}: the panel's score equals /api/risk/unit`, `${score} vs ${explained.score}`);
  return { code, explained };
}

async function testMap(page, token, me) {
  await page.getByTestId('nav-map').evaluate((a) => a.click());
  await waitMap(page);
  const params = routeParams(page);
  check(params.get('period') === me.default_period && params.get('level') === 'town',
    'map: opens on the default period at town level', `${params.get('period')} ${params.get('level')}`);
  await compareLegend(page, token, 'map');
  const { code, explained } = await openUnitPanel(page, token, 'map');
  await page.waitForTimeout(800);
  await shot(page, 'map-panel-desktop');
  await page.getByTestId('panel-close').click();

  // Another dimension: the key type's own grades.
  const keys = await page.$$eval('[data-testid^="key-key."]', (els) => els.map((el) => el.dataset.testid.slice(4)));
  const key = keys.includes('key.theft') ? 'key.theft' : keys[0];
  await page.getByTestId(`key-${key}`).click();
  await waitMap(page, { key });
  check(routeParams(page).get('key') === key, `map: the key type ${key} is in the URL`);
  await compareLegend(page, token, `map by ${key}`);

  // Drill down from the panel: the unit's sub-units one level lower.
  await page.getByTestId(`risk-row-${code}`).locator('a').click();
  await page.getByTestId('drill-down').waitFor({ timeout: TIMEOUT });
  await page.getByTestId('drill-down').click();
  const below = { district: 'town', town: 'community', community: 'grid' }[explained.level];
  await waitMap(page, { unit: code, level: below });
  check(true, `map: drilled down from ${explained.name} to its ${below} level`);
  const crumb = await page.locator(`[data-testid="breadcrumb"] .crumb.current[data-testid="crumb-${code}"]`).count();
  check(crumb === 1, 'map: the breadcrumb ends at the drilled unit');
  await compareLegend(page, token, `map, ${below} under ${explained.name}`);
  await openUnitPanel(page, token, `map, ${below}`);
  await page.getByTestId('panel-close').click();
  // Back up by the breadcrumb.
  const home = me.home.code.padEnd(27, '0');
  await page.getByTestId(`crumb-${home}`).click();
  await waitMap(page, { unit: home, level: 'town' });
  check(true, 'map: the breadcrumb goes back up to the city');
  await page.getByTestId('key-overall').click();
  await waitMap(page, { key: 'overall' });
}

// The command-centre screen: counts as /api/risk, the league, the live feed, no scrolling.
async function testCommand(page, token, unit, label) {
  await page.getByTestId('nav-command').evaluate((a) => a.click());
  await page.getByTestId('page-command').waitFor({ timeout: TIMEOUT });
  await page.locator('[data-testid="command-counts"] [data-testid="count-red"]').waitFor({ timeout: TIMEOUT });
  await page.locator('[data-testid^="command-league-"]').first().waitFor({ timeout: TIMEOUT });
  const period = await page.getByTestId('command-period').getAttribute('data-period');
  const risk = await api(token, `risk?unit=${unit}&level=town&period=${encodeURIComponent(period)}`);
  const shown = await page.$$eval('[data-testid^="count-"]', (els) =>
    Object.fromEntries(els.map((el) => [el.dataset.testid.slice(6), Number(el.dataset.count)])));
  check(GRADES.every((g) => shown[g] === risk.counts[g]), `${label}: grade counts equal /api/risk (${risk.unit_name}, towns, ${period})`,
    JSON.stringify(shown));
  const mapUnit = await page.getByTestId('command-map').getAttribute('data-unit');
  check(mapUnit === risk.unit, `${label}: the map shows ${risk.unit_name}`, mapUnit);
  const league = await api(token, `league?period=${encodeURIComponent(period)}`);
  const rows = await page.locator('[data-testid^="command-league-"]').count();
  check(rows === league.rows.length, `${label}: the league table lists ${league.rows.length} units`, `${rows}`);
  const live = await page.locator('[data-testid="live-status"].live').waitFor({ timeout: 20000 }).then(() => true, () => false);
  check(live, `${label}: the live feed connects`);
  const clock = (await page.getByTestId('command-clock').textContent()) || '';
  check(/\d{2}:\d{2}:\d{2}/.test(clock), `${label}: the clock shows the time`, clock);
  const fit = await page.evaluate(() => ({
    x: document.documentElement.scrollWidth - window.innerWidth, y: document.documentElement.scrollHeight - window.innerHeight,
  }));
  check(fit.x <= 1 && fit.y <= 1, `${label}: fits ${DESKTOP.width}×${DESKTOP.height} without scrolling`, JSON.stringify(fit));
  return risk;
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
      await page.getByTestId('geocode-input').fill(ADDRESS || '西湖区西溪街道文一路100号');
      await page.getByTestId('geocode-submit').click();
      const status = page.getByTestId('geocode-status');
      await status.waitFor({ timeout: TIMEOUT });
      if (ADDRESS) {
        const tag = (await status.getAttribute('class')) || '';
        check(tag.includes('status-matched'), `${suffix}: the address page matches ${ADDRESS}`, tag);
        // A partial answer: its status and the geocoder's reason in Chinese.
        await page.getByTestId('geocode-input').fill('西湖区文三路478号');
        await page.getByTestId('geocode-submit').click();
        const partial = await page.waitForFunction(() => document.querySelector('[data-testid="geocode-status"]')?.classList.contains('status-partial'),
          null, { timeout: TIMEOUT }).then(() => true, () => false);
        const reason = partial ? ((await page.getByTestId('geocode-reason').textContent()) || '') : '';
        const statusText = partial ? ((await page.getByTestId('geocode-status').textContent()) || '') : '';
        check(partial && statusText === '部分匹配' && /[\u4e00-\u9fff]/.test(reason),
          `${suffix}: a partial answer shows its status and reason in Chinese`, `${statusText} / ${reason}`);
        await page.getByTestId('geocode-input').fill(ADDRESS);
        await page.getByTestId('geocode-submit').click();
        await page.waitForFunction(() => document.querySelector('[data-testid="geocode-status"]')?.classList.contains('status-matched'),
          null, { timeout: TIMEOUT }).catch(() => {});
      }
      if (POINT) {
        // Point lookup: the grid holding the point, its path in Chinese; a point outside the city
        // answered as such; a malformed one refused with the server's message.
        const answerOf = async (text, system) => {
          await page.getByTestId('point-input').fill(text);
          await page.getByTestId('point-system').selectOption(system);
          await page.getByTestId('point-submit').click();
          await page.locator('[data-testid="point-result"] [data-testid="geocode-status"], [data-testid="point-result"] [data-testid="error"]')
            .first().waitFor({ timeout: TIMEOUT });
          return ((await page.getByTestId('point-result').textContent()) || '');
        };
        const inside = await answerOf(POINT, 'WGS-84');
        check(inside.includes('已匹配') && inside.includes('网格'), `${suffix}: the point ${POINT} finds its grid`, inside.slice(0, 200));
        const outside = await answerOf('0,0', 'WGS-84');
        check(outside.includes('未匹配') && outside.includes('坐标不在本市任何网格内'), `${suffix}: a point outside the city says so`,
          outside.slice(0, 200));
        const spaced = await answerOf(POINT.replace(',', ', '), 'GCJ-02');
        check(/已匹配|未匹配/.test(spaced) && !spaced.includes('point:'), `${suffix}: a pasted "lon, lat" in GCJ-02 is read`,
          spaced.slice(0, 200));
        const bad = await answerOf('120.1', 'WGS-84');
        check(bad.includes('point'), `${suffix}: a malformed point shows the server's error`, bad.slice(0, 200));
        await page.getByTestId('point-input').fill(POINT);
        await page.getByTestId('point-system').selectOption('WGS-84');
        await page.getByTestId('point-submit').click();
        await page.waitForFunction(() => (document.querySelector('[data-testid="point-result"]')?.textContent || '').includes('已匹配'),
          null, { timeout: TIMEOUT }).catch(() => {});
      }
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
    if (pageId === 'map') {
      await waitMap(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 1, `${suffix}: the map page has no horizontal scrolling`, `${overflow}px too wide`);
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
    // The records behind a figure: the town's card opens its events, as many rows as its value.
    {
      const town = path[path.length - 1];
      await page.getByTestId('card-criminal.filed').click();
      const value = Number(await page.getByTestId('panel-value').getAttribute('data-value'));
      await page.getByTestId('panel-events').click();
      await page.getByTestId('events').waitFor({ timeout: TIMEOUT });
      const settled = () => page.waitForFunction(() => {
        const footer = document.querySelector('.table-footer');
        return footer && !footer.querySelector('.loading');
      }, null, { timeout: TIMEOUT });
      await settled();
      for (let round = 0; round < 40 && (await page.getByTestId('more').count()); ++round) {
        const before = await page.locator('[data-testid^="events-row-"]').count();
        await page.getByTestId('more').click();
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid^="events-row-"]').length > n, before,
          { timeout: TIMEOUT }).catch(() => {});
        await settled();
      }
      await page.waitForTimeout(300);
      const rows = await page.locator('[data-testid^="events-row-"]').count();
      const context = (await page.getByTestId('events-context').textContent()) || '';
      check(rows === value, `the events page lists the ${value} records behind 刑事案件立案数 at ${town}`, `${rows} rows`);
      check(context.includes('刑事案件立案数'), 'the events page names the indicator', context);
      // The same records exported as CSV (GET /api/export/events): one row each, in time order.
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: TIMEOUT }),
        page.getByTestId('export-csv').click(),
      ]);
      const csvText = readFileSync(await download.path(), 'utf8');
      const csvRows = (csvText.match(/^"\d{4}-\d\d-\d\dT/gm) || []).length;
      check(csvText.startsWith('\uFEFF"时间"') && csvRows === value,
        `the CSV export of 事件明细 holds the ${value} records`, `${csvRows} rows; ${csvText.slice(0, 60)}`);
      await shot(page, 'events-desktop');
      await page.goBack();
      await waitOverview(page, town);
      if (await page.getByTestId('panel-close').count()) await page.getByTestId('panel-close').click();
    }
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
    check(allowed.includes('map') && allowed.includes('command'), 'the nav has the risk map and the command centre');

    // The risk map, then the command-centre screen.
    await testMap(page, token, me);
    await testCommand(page, token, home, 'command');
    await page.waitForTimeout(1200);
    await shot(page, 'command-desktop');
    await page.getByTestId('command-exit').click();
    await page.getByTestId('nav').waitFor({ timeout: TIMEOUT });
    await waitMap(page);
    check(true, 'command: the exit goes back to the map');

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
      check(navLinks.includes('map') && navLinks.includes('command'), 'scoped: the nav has the risk map and the command centre');
      await scoped.getByTestId('nav-map').evaluate((a) => a.click());
      await waitMap(scoped, { unit: scopeHome });
      const mapFirst = await scoped.locator('[data-testid="breadcrumb"] .crumb').first().getAttribute('data-testid');
      check(mapFirst === `crumb-${scopeHome}`, 'scoped: the map starts at the scope', mapFirst);
      await compareLegend(scoped, scopedToken, 'scoped map');
      await testCommand(scoped, scopedToken, scopeHome, 'scoped command');
      await scoped.getByTestId('command-exit').click();
      await scoped.getByTestId('nav').waitFor({ timeout: TIMEOUT });
      await scoped.goto(`${BASE_URL}/#/map?unit=3301&period=${encodeURIComponent(scopedMe.default_period)}`);
      const mapError = scoped.locator('#page [data-testid="error"]');
      await mapError.waitFor({ timeout: TIMEOUT });
      const mapMessage = (await mapError.textContent()) || '';
      check(/330100|杭州/.test(mapMessage), 'scoped: the city\'s map shows the server\'s 403 message', mapMessage);
      await navigationWhileLoading(scoped, scopeHome, scopedMe.default_period);
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
  finish('e2e');
}

// A page that is still loading rewrites its URL (the map names the level it settled on) when
// its first answer comes. If that answer lands while the user's next navigation is queued, the
// page must leave the new URL alone, or the router renders the old page again. The map's
// first request is held and released at the moment the user goes to the city above the scope:
// every round must end on the city's 403, not on the scope's map.
async function navigationWhileLoading(page, scopeHome, period) {
  const rounds = 20;
  const pattern = `**/api/units/${scopeHome}*`;
  const stayed = [];
  for (let round = 0; round < rounds; round++) {
    await page.goto(`${BASE_URL}/#/overview?unit=${scopeHome}&period=${encodeURIComponent(period)}`);
    await page.getByTestId('nav').waitFor({ timeout: TIMEOUT });
    let held;
    const answer = new Promise((resolve) => { held = resolve; });
    await page.route(pattern, async (route) => held([route, await route.fetch()]), { times: 1 });
    await page.evaluate(([unit, p]) => { location.hash = `#/map?unit=${unit}&period=${encodeURIComponent(p)}`; }, [scopeHome, period]);
    const [route, response] = await Promise.race([answer, new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`the map did not ask for ${pattern}`)), TIMEOUT))]);
    const away = page.evaluate((p) => { location.hash = `#/map?unit=3301&period=${encodeURIComponent(p)}`; }, period);
    await route.fulfill({ response });
    await away;
    try {
      await page.locator('#page [data-testid="error"]').waitFor({ timeout: 10000 });
    } catch {
      stayed.push(await page.evaluate(() => location.hash));
    }
  }
  check(!stayed.length, `scoped: going to the city while the map loads ends on the city's 403 (${rounds} rounds)`,
    `${stayed.length} ended on ${stayed[0]}`);
}

runMain('e2e', main);
