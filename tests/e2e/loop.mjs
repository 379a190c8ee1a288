#!/usr/bin/env node
// End-to-end test of the closed loop (warning → patrol task → handling → feedback → review) in
// Chromium against a running `pingan serve` (scripts/e2e.sh makes the users and picks the
// warning; this starts nothing itself).
//
//   BASE_URL=http://127.0.0.1:8093 E2E_OFFICIAL=town E2E_OFFICIAL_PASSWORD=... \
//   E2E_WORKER=grid E2E_WORKER_PASSWORD=... E2E_WARNING=42 node tests/e2e/loop.mjs
//
// Environment:
//   BASE_URL                                   the server (required)
//   E2E_OFFICIAL, E2E_OFFICIAL_PASSWORD        a town official whose scope holds the warning's
//                                              first grid (required)
//   E2E_WORKER, E2E_WORKER_PASSWORD            a grid worker for that grid (required)
//   E2E_WARNING                                the id of an undispatched warning (required)
//   CHROMIUM, SCREENSHOTS, E2E_HEADFUL         as tests/e2e/run.mjs
//
// What it checks, through the pages and after each step through the API as well: the worker
// (a phone, 390×844) lands on 我的任务 with the live stream connected; the official (desktop)
// sees the warning in 派发审核 › 待派发 and dispatches it; the task appears on the worker's
// phone at once (the stream, no reload) with a notice; the worker opens it (title, checklist,
// the grid on the map), accepts it; the same action sent twice from the page with different
// Idempotency-Keys gets 200 then 409 (and the first key again replays the first answer); the
// page, still showing the old version, gets the 409 on a click, shows the server's message and
// the current state; the worker writes the feedback, picks an outcome, adds a photo (a PNG made
// here, 2400×1200: it must arrive as a JPEG of 1600 px) and submits; the official returns it in
// 待审核 (退回 needs a note), the worker's page follows to 已退回, the worker starts again and
// resubmits with another outcome; the official approves it (通过); the worker's page follows to
// 已办结, and so does the list. Also: the 闭环处置 figures
// on the official's overview equal GET /api/loop/metrics, the worker's overview has none (403),
// the nav of each role, reassignment of a second task when the warning has one, English labels.
// Screenshots: tasks-phone.png, task-phone.png, dispatch-desktop.png (and a few more).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BASE_URL, CHROMIUM, DESKTOP, PHONE, SHOTS, TIMEOUT, api, call, check, finish, login, repo, runMain } from './common.mjs';
import zlib from 'node:zlib';

const OFFICIAL = process.env.E2E_OFFICIAL || '';
const OFFICIAL_PASSWORD = process.env.E2E_OFFICIAL_PASSWORD || '';
const WORKER = process.env.E2E_WORKER || '';
const WORKER_PASSWORD = process.env.E2E_WORKER_PASSWORD || '';
const WARNING = Number(process.env.E2E_WARNING || 0);
const LIVE = 15000; // how long a change may take to arrive by the stream

if (!BASE_URL || !OFFICIAL || !OFFICIAL_PASSWORD || !WORKER || !WORKER_PASSWORD || !WARNING) {
  console.error('e2e loop: set BASE_URL, E2E_OFFICIAL(_PASSWORD), E2E_WORKER(_PASSWORD) and E2E_WARNING (see tests/e2e/loop.mjs)');
  process.exit(2);
}

// A screenshot; notices (toasts) of earlier steps are cleared unless `toasts`.
async function shot(page, name, { toasts = false, fullPage = false } = {}) {
  if (!SHOTS) return;
  await page.waitForTimeout(600);
  if (!toasts) await page.evaluate(() => document.querySelectorAll('.toast').forEach((el) => el.remove()));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

async function navLinks(page) {
  return page.$$eval('[data-testid="nav"] a', (links) => links.map((a) => a.dataset.testid.slice(4)));
}

async function openNav(page, id) {
  await page.getByTestId(`nav-${id}`).evaluate((a) => a.click()); // the phone's nav is a hidden menu
  await page.getByTestId(`page-${id}`).waitFor({ timeout: TIMEOUT });
}

async function waitState(page, state, timeout = TIMEOUT) {
  await page.locator(`[data-testid="task-page"][data-state="${state}"]`).waitFor({ timeout });
}

// A PNG of width × height (a colour gradient), made here without any library.
function makePng(width, height) {
  const table = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const crc32 = (buffer) => {
    let c = -1;
    for (const byte of buffer) c = table[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * stride + 1 + x * 3;
      raw[at] = Math.round((x / width) * 255);
      raw[at + 1] = Math.round((y / height) * 255);
      raw[at + 2] = 140;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

// A JPEG's width and height from its start-of-frame marker.
function jpegSize(buffer) {
  if (buffer[0] !== 0xff || buffer[1] !== 0xd8) return null;
  let at = 2;
  while (at + 9 < buffer.length) {
    if (buffer[at] !== 0xff) return null;
    const marker = buffer[at + 1];
    const length = buffer.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return { height: buffer.readUInt16BE(at + 5), width: buffer.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  return null;
}

async function main() {
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !process.env.E2E_HEADFUL,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=zh-CN'],
    env: { ...process.env, LANG: 'zh_CN.UTF-8', LANGUAGE: 'zh_CN:zh' },
  });
  const pageErrors = [];
  try {
    console.log(`e2e loop: ${BASE_URL}, warning ${WARNING}, official ${OFFICIAL}, worker ${WORKER}`);
    // The grid worker, on a phone.
    const phone = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', isMobile: true, hasTouch: true });
    const worker = await phone.newPage();
    worker.on('pageerror', (error) => pageErrors.push(`worker: ${error}`));
    const workerToken = await login(worker, WORKER, WORKER_PASSWORD);
    await worker.getByTestId('page-tasks').waitFor({ timeout: TIMEOUT });
    check(new URL(worker.url()).hash.startsWith('#/tasks'), 'worker: lands on 我的任务', new URL(worker.url()).hash);
    const workerNav = await navLinks(worker);
    check(workerNav[0] === 'tasks' && !workerNav.includes('dispatch'), 'worker: the nav starts with 我的任务 and has no 派发审核',
      workerNav.join(','));
    const workerMe = await api(workerToken, 'me');
    const scope = workerMe.scopes?.[0];
    const grid = String(scope?.code ?? scope ?? '').padEnd(27, '0');
    const workerLive = await worker.locator('[data-testid="live-status"].live').waitFor({ timeout: LIVE }).then(() => true, () => false);
    check(workerLive, 'worker: the task stream connects');
    const before = await api(workerToken, 'tasks?view=mine&limit=1000');
    check(!before.items.some((task) => task.warning_id === WARNING), 'worker: no task of the warning before its dispatch');

    // The town official, at the desk.
    const desk = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const official = await desk.newPage();
    official.on('pageerror', (error) => pageErrors.push(`official: ${error}`));
    const officialToken = await login(official, OFFICIAL, OFFICIAL_PASSWORD);
    const officialNav = await navLinks(official);
    check(officialNav.includes('tasks') && officialNav.includes('dispatch'), 'official: the nav has 我的任务 and 派发审核',
      officialNav.join(','));
    check(officialNav[0] === 'overview', 'official: lands on the overview', officialNav[0]);

    // 派发审核 › 待派发: the warning, then 派发.
    await openNav(official, 'dispatch');
    const card = official.getByTestId(`warning-card-${WARNING}`);
    await card.waitFor({ timeout: TIMEOUT });
    const pending = await api(officialToken, 'warnings?undispatched=1&limit=1000');
    const shownWarnings = await official.locator('[data-testid^="warning-card-"]').count();
    check(shownWarnings === pending.items.length, `official: 待派发 lists the ${pending.items.length} undispatched warnings of /api/warnings`,
      `${shownWarnings} cards`);
    const warning = pending.items.find((w) => w.id === WARNING);
    const gradeText = (await official.getByTestId(`warning-grade-${WARNING}`).textContent()) || '';
    const zhGrade = { red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色', green: '绿色' };
    check(!!warning && gradeText.includes(zhGrade[warning.grade]), `official: the warning's grade is written out (${gradeText})`);
    await shot(official, 'dispatch-desktop');
    await official.getByTestId(`dispatch-${WARNING}`).click();
    await card.waitFor({ state: 'detached', timeout: TIMEOUT });
    const town = await api(officialToken, 'tasks?view=town&limit=1000');
    const made = town.items.filter((task) => task.warning_id === WARNING);
    const task0 = made.find((task) => task.unit === grid);
    check(!!task0, `API: dispatching made ${made.length} task(s), one for the worker's grid`, made.map((t) => t.unit).join(','));
    if (!task0) throw new Error('no task for the worker\'s grid: cannot go on');
    const id = task0.id;
    check(task0.state === 'issued' && (task0.candidates || []).includes(WORKER) && task0.assignee === null,
      `API: task ${id} is issued and offered to ${WORKER}`, `${task0.state} ${task0.assignee} ${task0.candidates}`);
    const after = await api(officialToken, 'warnings?undispatched=1&limit=1000');
    check(!after.items.some((w) => w.id === WARNING), 'API: the warning has left the undispatched list');

    // The worker's phone: the task arrives by the stream, with a notice.
    const taskCard = worker.getByTestId(`task-card-${id}`);
    const arrived = await taskCard.waitFor({ timeout: LIVE }).then(() => true, () => false);
    check(arrived, `worker: task ${id} appears in 我的任务 at once (live, no reload)`);
    if (!arrived) {
      await worker.reload();
      await taskCard.waitFor({ timeout: TIMEOUT });
    }
    const notice = await worker.locator('.toast', { hasText: '新任务' }).count();
    check(!arrived || notice > 0 || (await taskCard.getAttribute('class')).includes('fresh'), 'worker: a notice shows the new task');
    const cardText = (await taskCard.textContent()) || '';
    check(cardText.includes(zhGrade[task0.grade]) && cardText.includes(task0.key_type_name) && cardText.includes(task0.unit_name),
      'worker: the card shows the grade written out, the key type and the grid', cardText);
    check(/剩余|已超期/.test(cardText) && cardText.includes('待接收'), 'worker: the card shows the time left and the state 待接收', cardText);
    const overflow = await worker.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, 'worker: 我的任务 fits 390 px without horizontal scrolling', `${overflow}px too wide`);
    await worker.waitForTimeout(300);
    await shot(worker, 'tasks-phone', { toasts: true });

    // The task's page. Its stream is held off here, so that the page keeps an old version for
    // the 409 below (else it would follow the change before the click).
    await worker.route('**/api/tasks/stream**', (route) => route.abort());
    await worker.getByTestId(`task-link-${id}`).click();
    await worker.getByTestId('task-title').waitFor({ timeout: TIMEOUT });
    const detail = await api(workerToken, `tasks/${id}`);
    check((await worker.getByTestId('task-title').textContent()) === detail.title, `worker: the task page shows its title (${detail.title})`);
    const items = await worker.locator('[data-testid="task-checklist"] li').count();
    check(items === detail.checklist.length && items > 0, `worker: the checklist has the template's ${detail.checklist.length} items`, `${items}`);
    const mapped = await worker.locator('[data-testid="task-map"][data-features] canvas').waitFor({ timeout: TIMEOUT }).then(() => true, () => false);
    check(mapped, 'worker: the grid is drawn on the map');
    check((await worker.getByTestId('task-state').getAttribute('data-state')) === 'issued', 'worker: the page shows 待接收');

    // 接收.
    await worker.getByTestId(`action-accept-${id}`).click();
    await waitState(worker, 'accepted');
    let now = await api(workerToken, `tasks/${id}`);
    check(now.state === 'accepted' && now.assignee === WORKER && !!now.accepted_at, `API: task ${id} accepted by ${WORKER}`,
      `${now.state} ${now.assignee}`);
    check(now.history.some((entry) => entry.action === 'accept'), 'API: the history records the acceptance');

    // The same action twice with different keys: 200 then 409; the first key again: a replay.
    const version = now.version;
    const answers = await worker.evaluate(async ({ taskId, v }) => {
      const token = sessionStorage.getItem('pingan.token');
      const send = async (key) => {
        const response = await fetch(`/api/tasks/${taskId}/start`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
          body: JSON.stringify({ version: v }),
        });
        return { status: response.status, body: await response.json() };
      };
      const first = `e2e-${crypto.randomUUID()}`;
      const a = await send(first);
      const b = await send(`e2e-${crypto.randomUUID()}`);
      const c = await send(first);
      return [a, b, c];
    }, { taskId: id, v: version });
    const [a, b, c] = answers;
    check(a.status === 200 && a.body.task?.state === 'in_progress' && a.body.replayed === false,
      'API: 开始处置 from the page: 200', `${a.status} ${JSON.stringify(a.body).slice(0, 160)}`);
    check(b.status === 409 && !!b.body.error?.message && b.body.task?.state === 'in_progress',
      'API: the same action with another Idempotency-Key: 409 with the message and the current task',
      `${b.status} ${JSON.stringify(b.body).slice(0, 200)}`);
    check(c.status === 200 && c.body.replayed === true && c.body.task?.version === a.body.task?.version,
      'API: the first key again: the first answer, replayed', `${c.status} ${JSON.stringify(c.body).slice(0, 160)}`);
    now = await api(workerToken, `tasks/${id}`);
    check(now.state === 'in_progress' && now.version === version + 1, 'API: the task started once', `${now.state} v${now.version}`);

    // The page still shows version `version`: its click gets the 409, shows the message and the
    // current state.
    check((await worker.getByTestId('task-state').getAttribute('data-state')) === 'accepted', 'worker: the page still shows the old state');
    await worker.getByTestId(`action-start-${id}`).click();
    const noticeBox = worker.getByTestId('task-notice');
    await noticeBox.waitFor({ state: 'visible', timeout: TIMEOUT });
    const message = (await noticeBox.textContent()) || '';
    check(message.includes(b.body.error.message), 'worker: a stale click shows the server\'s 409 message', message);
    await waitState(worker, 'in_progress');
    check(await worker.getByTestId('feedback-form').isVisible(), 'worker: and the page moves to the current state (处置中, the feedback form)');
    await worker.unroute('**/api/tasks/stream**');

    // Feedback with a photo.
    const feedback = '已到现场核实，情况属实，已提醒相关住户加强防范。';
    await worker.getByTestId('feedback-text').fill(feedback);
    await worker.getByTestId('outcome-confirmed').click();
    await worker.getByTestId('photo-input').setInputFiles({ name: 'scene.png', mimeType: 'image/png', buffer: makePng(2400, 1200) });
    await worker.locator('[data-testid="photo-strip"] .thumb.loaded').first().waitFor({ timeout: TIMEOUT });
    now = await api(workerToken, `tasks/${id}`);
    check(now.photos.length === 1 && now.photos[0].mime === 'image/jpeg', 'API: the photo was uploaded as a JPEG',
      JSON.stringify(now.photos));
    if (now.photos.length) {
      const response = await fetch(`${BASE_URL}${now.photos[0].url}`, { headers: { Authorization: `Bearer ${workerToken}` } });
      const size = jpegSize(Buffer.from(await response.arrayBuffer()));
      check(!!size && size.width === 1600 && size.height === 800, 'the 2400×1200 photo was shrunk to 1600×800 before the upload',
        JSON.stringify(size));
    }
    await worker.evaluate(() => window.scrollTo(0, 0));
    await shot(worker, 'task-phone', { fullPage: true });
    await worker.getByTestId('feedback-submit').click();
    await waitState(worker, 'submitted');
    now = await api(workerToken, `tasks/${id}`);
    check(now.state === 'submitted' && now.outcome === 'confirmed' && now.feedback === feedback,
      'API: submitted with the outcome 属实 and the feedback', `${now.state} ${now.outcome} ${now.feedback}`);
    check((await worker.getByTestId('task-actions-note').textContent()).includes('等待'), 'worker: the page says it waits for review');

    // The official: 待审核 › 退回 (a note is required), then the worker starts again and
    // resubmits, then 通过.
    await official.goto(`${BASE_URL}/#/dispatch?tab=review`);
    const review = official.getByTestId(`review-${id}`);
    await review.waitFor({ timeout: TIMEOUT });
    check(((await official.getByTestId(`review-outcome-${id}`).textContent()) || '').includes('属实'), 'official: 待审核 shows the outcome 属实');
    const reviewText = (await review.textContent()) || '';
    check(reviewText.includes(feedback), 'official: and the feedback');
    const thumb = await official.locator(`[data-testid^="review-photo-${id}-"].loaded`).first().waitFor({ timeout: TIMEOUT }).then(() => true, () => false);
    check(thumb, 'official: and the photo');
    await shot(official, 'dispatch-review-desktop');
    await official.getByTestId(`action-return-${id}`).click();
    await official.getByTestId(`confirm-return-${id}`).click();
    await official.locator('.toast', { hasText: '请填写退回原因' }).waitFor({ timeout: TIMEOUT });
    now = await api(officialToken, `tasks/${id}`);
    check(now.state === 'submitted', 'official: 退回 without a note is refused in the page (the task stays submitted)', now.state);
    const returnNote = '请补充现场整改后的照片。';
    await official.getByTestId(`note-return-${id}`).fill(returnNote);
    await official.getByTestId(`confirm-return-${id}`).click();
    await official.getByTestId(`task-card-${id}`).waitFor({ state: 'detached', timeout: TIMEOUT });
    now = await api(officialToken, `tasks/${id}`);
    check(now.state === 'returned' && now.returns === 1, `API: task ${id} returned by ${OFFICIAL}`, `${now.state} ${now.returns}`);
    const returnedLive = await worker.locator('[data-testid="task-page"][data-state="returned"]').waitFor({ timeout: LIVE }).then(() => true, () => false);
    check(returnedLive, 'worker: the task page follows to 已退回 by itself (the stream)');
    if (!returnedLive) await worker.reload();
    await waitState(worker, 'returned');
    const why = (await worker.getByTestId('task-return-note').textContent()) || '';
    check(why.includes('退回'), 'worker: the page says the town returned it', why);
    await worker.getByTestId(`action-start-${id}`).click();
    await waitState(worker, 'in_progress');
    check((await worker.getByTestId('feedback-text').inputValue()) === feedback, 'worker: the feedback form keeps what was written');
    await worker.getByTestId('outcome-resolved').click();
    await worker.getByTestId('feedback-submit').click();
    await waitState(worker, 'submitted');
    now = await api(workerToken, `tasks/${id}`);
    check(now.state === 'submitted' && now.outcome === 'resolved' && now.photos.length === 1,
      'API: resubmitted with the outcome 已处置 (the photo kept)', `${now.state} ${now.outcome} ${now.photos.length}`);
    await official.goto(`${BASE_URL}/#/dispatch?tab=review`);
    await review.waitFor({ timeout: TIMEOUT });
    check(((await official.getByTestId(`review-outcome-${id}`).textContent()) || '').includes('已处置'),
      'official: 待审核 shows the new outcome 已处置');
    await official.getByTestId(`action-close-${id}`).click();
    await official.getByTestId(`note-close-${id}`).fill('处置到位，同意办结。');
    await official.getByTestId(`confirm-close-${id}`).click();
    await official.getByTestId(`task-card-${id}`).waitFor({ state: 'detached', timeout: TIMEOUT });
    now = await api(officialToken, `tasks/${id}`);
    check(now.state === 'closed' && !!now.closed_at, `API: task ${id} closed by ${OFFICIAL}`, now.state);
    check(now.history.some((entry) => entry.action === 'close' && entry.actor === OFFICIAL) &&
      now.history.some((entry) => entry.action === 'return' && entry.actor === OFFICIAL),
    'API: the history records who returned and who closed it');

    // The worker sees 已办结: on the task's page (live), then in the list.
    const followed = await worker.locator('[data-testid="task-page"][data-state="closed"]').waitFor({ timeout: LIVE }).then(() => true, () => false);
    check(followed, 'worker: the task page follows to 已办结 by itself (the stream)');
    if (!followed) await worker.reload();
    await waitState(worker, 'closed');
    check(((await worker.getByTestId('task-state').textContent()) || '') === '已办结', 'worker: the state reads 已办结');
    await worker.getByTestId('task-back').click();
    await worker.getByTestId(`task-state-${id}`).waitFor({ timeout: TIMEOUT });
    check(((await worker.getByTestId(`task-state-${id}`).textContent()) || '') === '已办结', 'worker: 我的任务 shows the task 已办结');
    const mine = await api(workerToken, 'tasks?view=mine&state=closed&limit=1000');
    check(mine.items.some((task) => task.id === id && task.state === 'closed'), 'API: the worker\'s closed tasks hold it');

    // English labels on the phone, then back to Chinese.
    await worker.getByTestId('lang-switch').click();
    await worker.getByTestId(`task-state-${id}`).waitFor({ timeout: TIMEOUT });
    check(((await worker.getByTestId(`task-state-${id}`).textContent()) || '') === 'Closed', 'worker: in English the state reads Closed');
    await worker.getByTestId('lang-switch').click();
    await worker.getByTestId(`task-state-${id}`).waitFor({ timeout: TIMEOUT });

    // Another task (of the same warning, or of a second warning dispatched from 待派发): 改派
    // to someone from /api/tasks/assignees, then back to the town queue.
    let second = made.find((task) => task.id !== id && task.state === 'issued');
    if (!second) {
      const other = after.items.find((w) => w.id !== WARNING);
      if (other) {
        await official.goto(`${BASE_URL}/#/dispatch?tab=pending`);
        await official.getByTestId(`dispatch-${other.id}`).click();
        await official.getByTestId(`warning-card-${other.id}`).waitFor({ state: 'detached', timeout: TIMEOUT });
        const list = await api(officialToken, 'tasks?view=town&limit=1000');
        second = list.items.find((task) => task.warning_id === other.id && task.state === 'issued');
        check(!!second, `official: a second warning (${other.id}) dispatched from 待派发 made task ${second?.id}`);
      }
    }
    if (second) {
      await official.goto(`${BASE_URL}/#/dispatch?tab=open`);
      await official.getByTestId(`task-card-${second.id}`).waitFor({ timeout: TIMEOUT });
      await official.getByTestId(`action-reassign-${second.id}`).click();
      const select = official.getByTestId(`reassign-select-${second.id}`);
      await select.waitFor({ timeout: TIMEOUT });
      const people = await api(officialToken, `tasks/assignees?task=${second.id}`);
      const holders = new Set([...(second.candidates || []), second.assignee].filter(Boolean));
      const free = people.items.filter((p) => !holders.has(p.name));
      const target = (free.find((p) => p.name !== OFFICIAL) ?? free[0])?.name;
      const options = await select.locator('option').evaluateAll((els) => els.map((el) => el.value).filter(Boolean));
      check(!!target && free.every((p) => options.includes(p.name)),
        `official: 改派 offers the people of /api/tasks/assignees (${people.items.map((p) => p.name).join(', ')})`, options.join(','));
      if (target) {
        await select.selectOption(target);
        await official.getByTestId(`confirm-reassign-${second.id}`).click();
        await official.waitForFunction(({ taskId, name }) =>
          (document.querySelector(`[data-testid="task-holder-${taskId}"]`)?.textContent || '').includes(name),
        { taskId: second.id, name: target }, { timeout: TIMEOUT });
        const moved = await api(officialToken, `tasks/${second.id}`);
        check((moved.candidates || []).includes(target) || moved.assignee === target, `API: task ${second.id} reassigned to ${target}`,
          `${moved.assignee} ${moved.candidates}`);
        await official.getByTestId(`action-reassign-${second.id}`).click();
        await official.getByTestId(`reassign-select-${second.id}`).selectOption(' town-queue');
        await official.getByTestId(`confirm-reassign-${second.id}`).click();
        await official.waitForFunction((taskId) =>
          (document.querySelector(`[data-testid="task-holder-${taskId}"]`)?.textContent || '').includes('镇街队列'),
        second.id, { timeout: TIMEOUT });
        const back = await api(officialToken, `tasks/${second.id}`);
        check(back.queue === 'town' && back.assignee === null, `API: task ${second.id} back in the town queue (退回镇街队列)`,
          `${back.queue} ${back.assignee}`);
      }
    } else {
      console.log('  --   no second task or warning in the town: reassignment not tried');
    }
    await official.goto(`${BASE_URL}/#/dispatch?tab=open`);
    await official.getByTestId('dispatch-open').waitFor({ timeout: TIMEOUT });
    await official.waitForFunction(() => !document.querySelector('#page .loading'), null, { timeout: TIMEOUT });
    await shot(official, 'dispatch-open-desktop');
    await official.goto(`${BASE_URL}/#/tasks`);
    await official.getByTestId('task-list').waitFor({ timeout: TIMEOUT });
    await shot(official, 'tasks-desktop');
    await official.goto(`${BASE_URL}/#/task/${id}`);
    await official.locator('[data-testid="task-page"][data-state="closed"]').waitFor({ timeout: TIMEOUT });
    await official.locator('[data-testid="task-map"][data-features] canvas').waitFor({ timeout: TIMEOUT }).catch(() => {});
    await shot(official, 'task-desktop');

    // 闭环处置 on the official's overview equals /api/loop/metrics.
    await openNav(official, 'overview');
    const loop = official.getByTestId('loop-section');
    await official.locator('[data-testid="loop-section"] [data-testid="loop-warnings"]').waitFor({ timeout: TIMEOUT });
    const params = new URLSearchParams(new URL(official.url()).hash.split('?')[1] || '');
    const metrics = await api(officialToken, `loop/metrics?unit=${params.get('unit')}&period=${encodeURIComponent(params.get('period'))}`);
    const shown = await loop.locator('[data-testid^="loop-"][data-value]').evaluateAll((els) =>
      Object.fromEntries(els.map((el) => [el.dataset.testid.slice(5), el.dataset.value])));
    const want = {
      warnings: metrics.total.warnings, landed: metrics.total.landed, tasks: metrics.total.tasks, 'on-time': metrics.total.on_time,
      overdue: metrics.total.overdue,
      ...Object.fromEntries(Object.entries(metrics.total.outcomes).map(([outcome, n]) => [`outcome-${outcome}`, n])),
    };
    const wrong = Object.entries(want).filter(([key, value]) => Number(shown[key]) !== value);
    check(!wrong.length, `official: 闭环处置 equals /api/loop/metrics (${metrics.unit_name}, ${metrics.period}: ${metrics.total.warnings} warnings, ${metrics.total.tasks} tasks)`,
      wrong.map(([key, value]) => `${key}: page ${shown[key]}, API ${value}`).join('; '));
    const active = metrics.rows.filter((row) => row.warnings || row.tasks).length;
    let rows = await official.locator('[data-testid^="loop-row-"]').count();
    check(rows === active, `official: 闭环处置 lists the ${active} sub-units with a warning or a task`, `${rows}`);
    if (SHOTS) {
      await official.evaluate(() => document.querySelectorAll('.toast').forEach((el) => el.remove()));
      await loop.screenshot({ path: path.join(SHOTS, 'overview-loop-desktop.png') });
    }
    if (await official.getByTestId('loop-show-all').count()) await official.getByTestId('loop-show-all').click();
    rows = await official.locator('[data-testid^="loop-row-"]').count();
    check(rows === metrics.rows.length, `official: and all ${metrics.rows.length} after 显示全部`, `${rows}`);

    // A 403 hides it: the grid worker's overview.
    const denied = await call(workerToken, `loop/metrics?unit=${grid}&period=${encodeURIComponent(workerMe.default_period)}`);
    await openNav(worker, 'overview');
    await worker.waitForFunction(() => !!document.querySelector('[data-testid="overview-body"] [data-testid^="value-"]') &&
      !document.querySelector('[data-testid="loop-section"] .loading'), null, { timeout: TIMEOUT });
    const sections = await worker.getByTestId('loop-section').count();
    check(denied.status === 403 ? sections === 0 : sections === 1,
      `worker: 闭环处置 ${denied.status === 403 ? 'hidden (the API answers 403)' : 'shown'}`, `${sections} sections, API ${denied.status}`);

    // The official on a phone: 派发审核 in one column.
    await official.setViewportSize(PHONE);
    await official.goto(`${BASE_URL}/#/dispatch?tab=pending`);
    await official.getByTestId('dispatch-pending').waitFor({ timeout: TIMEOUT });
    await official.waitForFunction(() => !document.querySelector('#page .loading'), null, { timeout: TIMEOUT });
    const wide = await official.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(wide <= 1, 'official: 派发审核 fits 390 px without horizontal scrolling', `${wide}px too wide`);
    await shot(official, 'dispatch-phone');
    await desk.close();
    await phone.close();
  } finally {
    await browser.close();
  }
  check(!pageErrors.length, 'no uncaught script errors in the pages', pageErrors.slice(0, 3).join(' | '));
  finish('e2e loop');
}

runMain('e2e loop', main);
