// The closed loop's pieces shared by 我的任务, one task and 派发审核: the names of states,
// actions and outcomes in both languages, the order of a task list, the deadline in words
// (剩余… / 已超期…), a task's card, the actions sent with an Idempotency-Key and the task's
// version (a 409 hands back the current task), and photos: downscaled in a canvas before the
// upload, fetched with the token for the thumbnails.
import { ApiError, api, get, imageUrl, itemsOf, newIdempotencyKey } from './api';
import { clear, h, toast } from './dom';
import { fmtDuration, fmtTime } from './format';
import { lang, t, type MessageKey } from './i18n';
import { GRADES, gradeChip } from './risk';
import { taskHref } from './router';
import type { Task, TaskAction, TaskAnswer, TaskOutcome, TaskState } from './types';

export const TASK_STATES: TaskState[] = ['issued', 'accepted', 'in_progress', 'submitted', 'returned', 'closed'];
export const OUTCOMES: TaskOutcome[] = ['confirmed', 'false_alarm', 'resolved', 'needs_escalation'];
export const MAX_PHOTOS = 6;
const PHOTO_LONG_SIDE = 1600;
const PHOTO_QUALITY = 0.85;
export const PHOTO_MAX_BYTES = 5 * 1024 * 1024;

function known(prefix: string, id: string): string {
  const key = `${prefix}.${id}` as MessageKey;
  const text = t(key);
  return text === key ? id : text;
}

// 待接收, 处置中, 已办结 …
export function stateName(state: string): string {
  return known('task.state', state);
}

export function actionName(action: string): string {
  return known('task.action', action);
}

export function outcomeName(outcome: string): string {
  return known('task.outcome', outcome);
}

// The state as a chip, always in words.
export function stateChip(task: Task, testid?: string): HTMLElement {
  return h('span', { class: `state-chip state-${task.state}`, 'data-state': task.state, 'data-testid': testid ?? null },
    stateName(task.state));
}

export function keyTypeName(task: Task): string {
  if (lang() === 'en') return task.key_type_name_en || task.key_type_name || task.key_type;
  return task.key_type_name || task.key_type_name_en || task.key_type;
}

export function taskTitle(task: Task): string {
  return (lang() === 'en' ? task.title_en || task.title : task.title || task.title_en) || `#${task.id}`;
}

export function checklistOf(task: Task): string[] {
  const zh = task.checklist ?? [];
  const en = task.checklist_en ?? [];
  return lang() === 'en' && en.length ? en : zh.length ? zh : en;
}

export function isOpen(task: Task): boolean {
  return task.state !== 'closed';
}

export function photosOf(task: Task): NonNullable<Task['photos']> {
  return task.photos ?? [];
}

export function photoCount(task: Task): number {
  return task.photos?.length ?? task.photo_count ?? 0;
}

// Assigned to `name`, or offered to them (issued, no assignee yet, they are a candidate: the
// first candidate to accept takes it).
export function isMine(task: Task, name: string): boolean {
  return task.assignee === name || (!task.assignee && task.state === 'issued' && (task.candidates ?? []).includes(name));
}

// Who has it: the assignee, the candidates it is offered to, or the town official's queue.
export function holderText(task: Task): string {
  if (task.assignee) return task.assignee;
  const candidates = task.candidates ?? [];
  if (candidates.length && task.queue !== 'town') return t('task.offeredTo', { names: candidates.join(lang() === 'zh' ? '、' : ', ') });
  return t('task.townQueue');
}

// Open before closed, then by risk (grade red first, then score, higher first), then the
// deadline (sooner first).
export function compareTasks(a: Task, b: Task): number {
  const open = Number(isOpen(b)) - Number(isOpen(a));
  if (open) return open;
  const grade = GRADES.indexOf(a.grade) - GRADES.indexOf(b.grade);
  if (grade) return grade;
  if (a.score !== b.score) return (b.score ?? 0) - (a.score ?? 0);
  const deadline = Date.parse(a.deadline) - Date.parse(b.deadline);
  return deadline || a.id - b.id;
}

export interface DeadlineView {
  text: string; // 剩余3小时12分钟 / 已超期2天1小时 / 按时办结
  overdue: boolean;
  tone: 'ok' | 'soon' | 'late' | 'done';
}

// How the deadline reads now: time left or how late; for a closed task whether it closed on time.
export function deadlineView(task: Task, now = Date.now()): DeadlineView {
  const deadline = Date.parse(task.deadline);
  if (task.state === 'closed') {
    const closed = task.closed_at ? Date.parse(task.closed_at) : NaN;
    const late = Number.isFinite(closed) && Number.isFinite(deadline) ? closed > deadline : task.overdue;
    return { text: t(late ? 'task.closedLate' : 'task.closedOnTime'), overdue: late, tone: 'done' };
  }
  if (!Number.isFinite(deadline)) return { text: '—', overdue: task.overdue, tone: task.overdue ? 'late' : 'ok' };
  const left = (deadline - now) / 1000;
  if (left < 0 || task.overdue) {
    return { text: t('task.overdueBy', { time: fmtDuration(Math.max(0, -left), true) }), overdue: true, tone: 'late' };
  }
  return { text: t('task.timeLeft', { time: fmtDuration(left, true) }), overdue: false, tone: left < 6 * 3600 ? 'soon' : 'ok' };
}

// The deadline line: 截止 2024-07-01 18:00 · 剩余5小时; `data-deadline` lets a ticker refresh it.
export function deadlineLine(task: Task, testid?: string, withLabel = true): HTMLElement {
  const view = deadlineView(task);
  return h('span', { class: `deadline tone-${view.tone}`, 'data-testid': testid ?? null, 'data-deadline': task.deadline,
    'data-label': withLabel ? '1' : null },
  h('span', { class: withLabel ? 'muted' : '' }, withLabel ? `${t('task.deadline')} ${fmtTime(task.deadline)}` : fmtTime(task.deadline)),
  ' · ', h('strong', { class: 'deadline-left' }, view.text));
}

// Refreshes every deadline line under `root` once a minute (until the signal aborts).
export function tickDeadlines(root: HTMLElement, find: (id: number) => Task | undefined, signal: AbortSignal): void {
  const timer = window.setInterval(() => {
    root.querySelectorAll<HTMLElement>('[data-task-id]').forEach((card) => {
      const task = find(Number(card.dataset.taskId));
      const line = card.querySelector('.deadline');
      if (task && line) {
        line.replaceWith(deadlineLine(task, line.getAttribute('data-testid') ?? undefined, line.hasAttribute('data-label')));
      }
    });
  }, 60000);
  signal.addEventListener('abort', () => window.clearInterval(timer));
}

// A task in a list: grade (written out), key type, unit, deadline, state; a link to the task.
export function taskCard(task: Task, options: { fresh?: boolean; showAssignee?: boolean; extra?: HTMLElement[] } = {}): HTMLElement {
  const view = deadlineView(task);
  return h('article', {
    class: `task-card grade-edge-${task.grade} ${options.fresh ? 'fresh' : ''} ${view.overdue && isOpen(task) ? 'late' : ''}`,
    'data-testid': `task-card-${task.id}`, 'data-task-id': String(task.id), 'data-state': task.state,
    'data-grade': task.grade,
  },
  h('a', { class: 'task-link', href: taskHref(task.id), 'data-testid': `task-link-${task.id}` },
    h('div', { class: 'task-card-head' },
      gradeChip(task.grade, false, `task-grade-${task.id}`),
      h('strong', { class: 'task-key' }, keyTypeName(task)),
      options.fresh ? h('span', { class: 'new-tag' }, t('major.new')) : null,
      h('span', { class: 'spacer' }),
      stateChip(task, `task-state-${task.id}`)),
    h('div', { class: 'task-unit' }, task.unit_name),
    h('div', { class: 'task-meta' },
      deadlineLine(task, `task-deadline-${task.id}`),
      view.overdue && isOpen(task) ? h('span', { class: 'late-tag' }, t('task.overdue')) : null,
      task.returns ? h('span', { class: 'tag warn' }, t('task.returnsN', { n: task.returns })) : null),
    options.showAssignee ? h('div', { class: 'task-meta muted small', 'data-testid': `task-holder-${task.id}` },
      `${t('task.assignee')}：${holderText(task)}`) : null),
  ...(options.extra ?? []));
}

export type ActionResult =
  | { ok: true; task: Task; replayed: boolean }
  | { ok: false; error: ApiError; task: Task | null };

// Sends the actions of a page. Each click gets a fresh Idempotency-Key; when a request got no
// answer (network, 5xx), clicking the same button again for the same task version with the same
// fields resends the same key, so the server does the work at most once. The body carries the
// task's version; a 409 comes back with the task as it is now.
export class TaskActions {
  private pending = new Map<string, string>();

  private keyFor(signature: string): string {
    let key = this.pending.get(signature);
    if (!key) {
      key = newIdempotencyKey();
      this.pending.set(signature, key);
    }
    return key;
  }

  private async send(signature: string, request: (key: string) => Promise<TaskAnswer>): Promise<ActionResult> {
    const key = this.keyFor(signature);
    try {
      const answer = await request(key);
      this.pending.delete(signature);
      return { ok: true, task: answer.task, replayed: !!answer.replayed };
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(0, 'network', String(error));
      if (apiError.status >= 400 && apiError.status < 500) this.pending.delete(signature);
      const body = apiError.body as { task?: Task } | null;
      return { ok: false, error: apiError, task: body?.task && typeof body.task === 'object' ? body.task : null };
    }
  }

  run(task: Task, action: TaskAction, fields: Record<string, unknown> = {}): Promise<ActionResult> {
    const body = { ...fields, version: task.version };
    const signature = `${task.id}:${action}:${JSON.stringify(body)}`;
    return this.send(signature, (key) => api<TaskAnswer>(`tasks/${task.id}/${action}`, {
      method: 'POST', body, headers: { 'Idempotency-Key': key },
    }));
  }

  // One photo: a retry of the same blob resends its key.
  upload(task: Task, photo: Blob, id: string): Promise<ActionResult> {
    return this.send(`${task.id}:photo:${id}`, (key) => api<TaskAnswer>(`tasks/${task.id}/photos`, {
      method: 'POST', raw: photo, headers: { 'Idempotency-Key': key },
    }));
  }
}

// A photo from the camera or the gallery as a JPEG of at most 1600 px on its long side, quality
// 0.85 (a phone's 12-megapixel photo becomes a few hundred kB; re-encoding also drops the EXIF
// block with the GPS position). The browser applies the EXIF orientation when it decodes.
export async function downscalePhoto(file: Blob): Promise<Blob> {
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const width = img.naturalWidth;
    const height = img.naturalHeight;
    if (!width || !height) throw new Error(t('task.photoUnreadable'));
    const scale = Math.min(1, PHOTO_LONG_SIDE / Math.max(width, height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    const context = canvas.getContext('2d');
    if (!context) throw new Error(t('task.photoUnreadable'));
    context.fillStyle = '#fff'; // a transparent PNG gets a white background, not black
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', PHOTO_QUALITY));
    if (!blob) throw new Error(t('task.photoUnreadable'));
    return blob;
  } catch (error) {
    if (error instanceof Error && error.message === t('task.photoUnreadable')) throw error;
    throw new Error(t('task.photoUnreadable'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

// Object URLs of a page's photos (fetched once each with the token), all revoked on leaving.
export class PhotoCache {
  private urls = new Map<string, Promise<string>>();

  get(url: string, signal?: AbortSignal): Promise<string> {
    let promise = this.urls.get(url);
    if (!promise) {
      promise = imageUrl(url, signal);
      this.urls.set(url, promise);
      promise.catch(() => this.urls.delete(url));
    }
    return promise;
  }

  // An <img> that fills in when the photo arrives (a grey box until then).
  thumb(url: string, alt: string, testid?: string): HTMLElement {
    const img = h('img', { alt, class: 'thumb-img', loading: 'lazy' });
    const link = h('a', { class: 'thumb', href: '#', 'data-testid': testid ?? null, title: alt,
      onclick: (e: Event) => {
        e.preventDefault();
        if (img.src) window.open(img.src, '_blank', 'noopener');
      } }, img);
    this.get(url).then((src) => {
      img.src = src;
      link.classList.add('loaded');
    }, () => link.classList.add('failed'));
    return link;
  }

  dispose(): void {
    for (const promise of this.urls.values()) promise.then((url) => URL.revokeObjectURL(url), () => {});
    this.urls.clear();
  }
}

// What an action's answer does to the page: a notice, and the task as the server has it now
// (after a 409 too: the page shows the current state rather than the stale one).
export function applyResult(result: ActionResult, action: string, apply: (task: Task) => void,
                            notice?: HTMLElement | null): boolean {
  if (notice) {
    clear(notice);
    notice.hidden = true;
  }
  if (result.ok) {
    toast(`${t('task.done', { action: actionName(action) })}${result.replayed ? t('task.replayed') : ''}`);
    apply(result.task);
    return true;
  }
  const message = result.task ? t('task.conflict', { message: result.error.message }) : result.error.message;
  toast(message, 'error');
  if (notice) {
    notice.append(h('strong', null, result.task ? t('task.conflictTitle') : t('common.error')), ' ', message);
    notice.hidden = false;
  }
  if (result.task) apply(result.task);
  return false;
}

const BUTTON_LABELS: Record<Exclude<TaskAction, 'submit'>, MessageKey> = {
  accept: 'task.action.accept',
  start: 'task.action.start',
  close: 'dispatch.approve',
  return: 'dispatch.return',
  reassign: 'dispatch.reassign',
};

interface Assignee {
  name: string;
  role?: string;
}

// The buttons for what the caller may do now (the server's `actions`, 提交反馈 aside: that is
// the feedback form). 通过 and 退回 open a note (退回 needs one), 改派 a list of the people who
// may take the task (GET /api/tasks/assignees: the grid workers and town officials whose scope
// holds it; an official may take one on themself) and 退回镇街队列.
export function actionBar(task: Task, runner: TaskActions, onResult: (result: ActionResult, action: TaskAction) => void): HTMLElement {
  const bar = h('div', { class: 'action-bar', 'data-testid': `actions-${task.id}` });
  const buttons = h('div', { class: 'action-buttons' });
  const form = h('div', { class: 'action-form', hidden: true });
  bar.append(buttons, form);
  const setBusy = (busy: boolean) => bar.querySelectorAll('button, select, textarea').forEach((el) => {
    (el as HTMLButtonElement).disabled = busy;
  });
  const run = async (action: TaskAction, fields: Record<string, unknown> = {}) => {
    setBusy(true);
    bar.classList.add('busy');
    const result = await runner.run(task, action, fields);
    bar.classList.remove('busy');
    setBusy(false);
    onResult(result, action);
  };
  const closeForm = () => {
    clear(form);
    form.hidden = true;
  };
  const openForm = (...children: HTMLElement[]) => {
    clear(form);
    form.append(...children);
    form.hidden = false;
  };
  const confirmRow = (action: TaskAction, onConfirm: () => void) => h('div', { class: 'action-buttons' },
    h('button', { type: 'button', class: `btn ${action === 'return' ? 'danger' : 'primary'}`, 'data-testid': `confirm-${action}-${task.id}`,
      onclick: onConfirm }, t('task.confirm')),
    h('button', { type: 'button', class: 'btn', onclick: closeForm }, t('task.cancel')));

  const noteForm = (action: 'close' | 'return') => {
    const note = h('textarea', { class: 'note', rows: 2, maxlength: 1000, 'data-testid': `note-${action}-${task.id}`,
      placeholder: t(action === 'return' ? 'task.returnNote' : 'task.closeNote'), 'aria-label': t(action === 'return' ? 'task.returnNote' : 'task.closeNote') });
    openForm(
      h('label', { class: 'field-label' }, t(action === 'return' ? 'task.returnNote' : 'task.closeNote')),
      note,
      confirmRow(action, () => {
        const text = note.value.trim();
        if (action === 'return' && !text) {
          toast(t('task.needNote'), 'error');
          note.focus();
          return;
        }
        void run(action, text ? { note: text } : {});
      }));
    note.focus();
  };

  const reassignForm = async () => {
    openForm(h('span', { class: 'muted' }, t('common.loading')));
    let people: Assignee[] = [];
    try {
      people = itemsOf<Assignee>(await get<unknown>('tasks/assignees', { task: task.id })).items;
    } catch (error) {
      openForm(h('span', { class: 'tone-bad' }, error instanceof Error ? error.message : String(error)));
      return;
    }
    const TOWN = ' town-queue'; // a user name has no leading space
    const select = h('select', { 'data-testid': `reassign-select-${task.id}`, 'aria-label': t('task.reassignTo') },
      h('option', { value: '' }, t('task.pickAssignee')),
      ...people.filter((p) => p.name !== task.assignee).map((p) => h('option', { value: p.name },
        p.role ? `${p.name}（${t(`role.${p.role}` as MessageKey)}）` : p.name)),
      task.queue !== 'town' ? h('option', { value: TOWN }, t('task.toTownQueue')) : null);
    openForm(
      h('label', { class: 'field-label' }, t('task.reassignTo')),
      select,
      confirmRow('reassign', () => {
        if (!select.value) {
          select.focus();
          return;
        }
        void run('reassign', { assignee: select.value === TOWN ? null : select.value });
      }));
  };

  for (const action of task.actions) {
    if (action === 'submit' || !(action in BUTTON_LABELS)) continue;
    const primary = action === 'accept' || action === 'start' || action === 'close';
    buttons.appendChild(h('button', {
      type: 'button', class: `btn ${primary ? 'primary' : action === 'return' ? 'danger-outline' : ''}`,
      'data-testid': `action-${action}-${task.id}`,
      onclick: () => {
        if (action === 'close' || action === 'return') noteForm(action);
        else if (action === 'reassign') void reassignForm();
        else void run(action);
      },
    }, t(BUTTON_LABELS[action as Exclude<TaskAction, 'submit'>])));
  }
  return bar;
}
