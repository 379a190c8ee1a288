#!/usr/bin/env node
// First load of the Overview in headless Chromium: a fresh browser context (empty cache) with a
// logged-in session opens BASE_URL/#/overview; timed from navigation start until the first
// indicator card shows its value and until every sparkline is drawn. Five runs; prints the median.
//   BASE_URL=http://127.0.0.1:18089 TOKEN=... node bench/first_load.mjs
import { chromium } from 'playwright-core';

const base = (process.env.BASE_URL || '').replace(/\/+$/, '');
const token = process.env.TOKEN || '';
if (!base || !token) {
  console.error('first_load: set BASE_URL and TOKEN');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const cards = [], sparks = [];
for (let run = 0; run < 5; ++run) {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  await context.addInitScript((value) => sessionStorage.setItem('pingan.token', value), token);
  const page = await context.newPage();
  const start = Date.now();
  await page.goto(`${base}/#/overview`);
  await page.waitForSelector('[data-testid="value-criminal.filed"]', { timeout: 30000 });
  cards.push(Date.now() - start);
  await page.waitForFunction(() => {
    const spark = document.querySelectorAll('[data-testid^="spark-"]');
    return spark.length >= 33 && [...spark].every((s) => s.querySelector('canvas, svg'));
  }, null, { timeout: 30000 });
  sparks.push(Date.now() - start);
  await context.close();
}
await browser.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ cards_ms: median(cards), sparklines_ms: median(sparks), runs: cards.length }));
