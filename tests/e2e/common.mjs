// What the end-to-end tests share: the server and browser they use (from the environment), the
// check tally, API calls and logging in through the page.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
export const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.SCREENSHOTS === undefined ? path.join(repo, 'docs', 'screenshots') : process.env.SCREENSHOTS;
export const TIMEOUT = 30000;
export const DESKTOP = { width: 1920, height: 1080 };
export const PHONE = { width: 390, height: 844 };

const tally = { checks: 0, failures: 0 };

// Counts and prints one check; returns `ok`.
export function check(ok, what, detail = '') {
  tally.checks++;
  if (ok) {
    console.log(`  ok   ${what}`);
  } else {
    tally.failures++;
    console.log(`  FAIL ${what}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

// Prints the tally and exits: 1 when a check failed.
export function finish(name) {
  const { checks, failures } = tally;
  console.log(`${name}: ${checks - failures}/${checks} checks passed${SHOTS ? `; screenshots in ${path.relative(repo, SHOTS) || SHOTS}` : ''}`);
  process.exit(failures ? 1 : 0);
}

// A request as the given user: {status, body, bytes}.
export async function call(token, pathAndQuery, { method = 'GET', body, headers = {} } = {}) {
  const response = await fetch(`${BASE_URL}/api/${pathAndQuery}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed, bytes: text.length };
}

// GET /api/...: the parsed body, or an error naming the status.
export async function api(token, pathAndQuery) {
  const { status, body } = await call(token, pathAndQuery);
  if (status !== 200) throw new Error(`GET /api/${pathAndQuery}: ${status} ${JSON.stringify(body).slice(0, 200)}`);
  return body;
}

// Logs in through the page; the session token.
export async function login(page, user, password) {
  await page.goto(`${BASE_URL}/#/login`);
  await page.getByTestId('login-username').fill(user);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('nav').waitFor({ state: 'attached', timeout: TIMEOUT });
  return page.evaluate(() => sessionStorage.getItem('pingan.token'));
}

// Runs a test's main(): an exception is a failure with its stack.
export function runMain(name, main) {
  main().catch((error) => {
    console.error(`${name}: ${error.stack || error}`);
    process.exit(1);
  });
}
