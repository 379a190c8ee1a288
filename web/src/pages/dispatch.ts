// 任务派发与审核 (a town official, at the desk or on a phone): four tabs.
//   待派发  warnings not yet made into tasks (GET /api/warnings?undispatched=1): grade, unit, key
//           type, the evidence and the grids; 派发 → POST /api/warnings/{id}/dispatch.
//   待审核  tasks submitted by grid workers: the outcome, the feedback and the photos; 通过
//           (close) or 退回 (return, with a note).
//   进行中  open tasks, overdue ones flagged; 改派 to someone from GET /api/tasks/assignees or
//           back to the town queue.
//   超期    the overdue ones alone.
// #/dispatch?tab=pending|review|open|overdue. The task stream keeps the tabs current.
import { get, itemsOf, newIdempotencyKey, post } from '../api';
import { levelName } from '../components';
import { clear, errorBox, h, loading, pageHead, toast } from '../dom';
import { fmtFixed, fmtNum, fmtTime } from '../format';
import { label, t, type MessageKey } from '../i18n';
import { followTasks } from '../live';
import { periodLabel } from '../period';
import { gradeChip } from '../risk';
import { go } from '../router';
import { catalog, findItem } from '../state';
import {
  PhotoCache, TaskActions, actionBar, applyResult, compareTasks, outcomeName, photoCount, taskCard, tickDeadlines,
} from '../tasks';
import type { Catalog, RiskWarning, Task } from '../types';

type Tab = 'pending' | 'review' | 'open' | 'overdue';
const TABS: Tab[] = ['pending', 'review', 'open', 'overdue'];
const LIMIT = 200;

const TASK_STATE: Record<Exclude<Tab, 'pending'>, string> = { review: 'submitted', open: 'open', overdue: 'overdue' };

interface Lists {
  pending: RiskWarning[];
  review: Task[];
  open: Task[];
  overdue: Task[];
}

export function renderDispatch(root: HTMLElement, params: URLSearchParams): () => void {
  const abort = new AbortController();
  const tab: Tab = TABS.includes(params.get('tab') as Tab) ? (params.get('tab') as Tab) : 'pending';
  const runner = new TaskActions();
  const photos = new PhotoCache();
  const dispatchKeys = new Map<number, string>(); // a retried 派发 resends its key
  const status = h('span', { class: 'live-status connecting', 'data-testid': 'live-status' }, t('tasks.connecting'));
  const tabs = h('div', { class: 'seg dispatch-tabs', role: 'tablist', 'aria-label': t('dispatch.title') });
  const list = h('div', { class: 'task-list', 'data-testid': `dispatch-${tab}` });
  const body = h('div', { 'data-testid': 'dispatch-body' }, loading());
  root.append(
    pageHead(t('dispatch.title'), t('dispatch.subtitle'), status),
    h('div', { class: 'toolbar' }, tabs,
      h('button', { type: 'button', class: 'btn', 'data-testid': 'dispatch-reload', onclick: () => void load() }, t('dispatch.reload'))),
    body);

  let lists: Lists | null = null;
  let cat: Catalog | null = null;

  const drawTabs = () => {
    clear(tabs);
    for (const id of TABS) {
      const n = lists ? lists[id].length : null;
      tabs.appendChild(h('button', {
        type: 'button', role: 'tab', class: id === tab ? 'active' : '', 'aria-selected': String(id === tab),
        'data-testid': `tab-${id}`, onclick: () => id !== tab && go('dispatch', { tab: id }),
      }, t(`dispatch.tab.${id}` as MessageKey),
      n !== null ? h('span', { class: `tab-count ${id === 'overdue' && n ? 'late' : ''}`, 'data-testid': `tab-count-${id}` },
        n >= LIMIT ? `${LIMIT}+` : String(n)) : null));
    }
  };

  // The cards by key, with what they were drawn from: a reload keeps a card whose task did not
  // change (a note or a 改派 list being filled in stays open while other tasks of the town move).
  let drawn = new Map<string, { sig: string; el: HTMLElement }>();
  const draw = () => {
    drawTabs();
    if (!lists) return;
    const wanted: Array<{ key: string; sig: string; make: () => HTMLElement }> = tab === 'pending'
      ? lists.pending.map((warning) => ({
        key: `w${warning.id}`, sig: `${warning.tasks ?? 0}`, make: () => warningCard(warning),
      }))
      : [...lists[tab]].sort(compareTasks).map((task) => ({
        key: `t${task.id}`, sig: `${task.version}|${task.overdue}`, make: () => taskItem(task),
      }));
    const next = new Map<string, { sig: string; el: HTMLElement }>();
    for (const item of wanted) {
      const old = drawn.get(item.key);
      next.set(item.key, old && old.sig === item.sig ? old : { sig: item.sig, el: item.make() });
    }
    const keep = new Set([...next.values()].map((entry) => entry.el));
    for (const child of [...list.children]) if (!keep.has(child as HTMLElement)) child.remove();
    [...next.values()].forEach((entry, index) => {
      if (list.children[index] !== entry.el) list.insertBefore(entry.el, list.children[index] ?? null);
    });
    drawn = next;
    if (!wanted.length) {
      list.appendChild(h('p', { class: 'muted empty', 'data-testid': 'dispatch-empty' }, t(`dispatch.none.${tab}` as MessageKey)));
    }
  };

  const keyName = (id: string) => label(findItem(cat?.key_types, id), id);

  const warningCard = (warning: RiskWarning): HTMLElement => {
    const ev = warning.evidence ?? {};
    const button = h('button', {
      type: 'button', class: 'btn primary', 'data-testid': `dispatch-${warning.id}`,
      onclick: async () => {
        button.disabled = true;
        let key = dispatchKeys.get(warning.id);
        if (!key) {
          key = newIdempotencyKey();
          dispatchKeys.set(warning.id, key);
        }
        try {
          const answer = await post<{ tasks?: Task[] }>(`warnings/${warning.id}/dispatch`, {}, { 'Idempotency-Key': key });
          dispatchKeys.delete(warning.id);
          toast(t('dispatch.dispatched', { n: fmtNum(answer?.tasks?.length ?? 0) }));
          await load(true);
        } catch (error) {
          const status = (error as { status?: number }).status ?? 0;
          if (status >= 400 && status < 500) dispatchKeys.delete(warning.id);
          toast(error instanceof Error ? error.message : String(error), 'error');
          button.disabled = false;
          if (status === 409) void load(true);
        }
      },
    }, t('dispatch.dispatch'));
    return h('article', { class: `task-card grade-edge-${warning.grade}`, 'data-testid': `warning-card-${warning.id}`,
      'data-grade': warning.grade },
    h('div', { class: 'task-card-head' },
      gradeChip(warning.grade, false, `warning-grade-${warning.id}`),
      h('strong', { class: 'task-key' }, keyName(warning.key_type)),
      h('span', { class: 'tag' }, levelName(warning.level)),
      h('span', { class: 'spacer' }),
      h('span', { class: 'muted small' }, periodLabel(warning.period))),
    h('div', { class: 'task-unit' }, warning.unit_name),
    h('div', { class: 'task-meta muted small' },
      t('warn.evidenceText', {
        count: fmtNum(ev.count ?? null, 1), expected: fmtNum(ev.expected ?? null, 1), index: fmtFixed(ev.index ?? null, 2),
      }), ` · ${t('map.score')} ${fmtFixed(warning.score, 2)}`),
    h('div', { class: 'task-meta muted small', title: warning.grids.join('\n') },
      t('dispatch.gridsN', { n: fmtNum(warning.grids.length) }),
      warning.tasks ? ` · ${t('dispatch.tasksMade', { n: fmtNum(warning.tasks) })}` : '',
      ` · ${t('warn.created')} ${fmtTime(warning.created_at)}`),
    h('div', { class: 'action-buttons' }, button));
  };

  // The photos of a task to review (a list's items carry only their count: the task's detail
  // has them).
  const reviewPhotos = (task: Task): HTMLElement => {
    const strip = h('div', { class: 'photo-strip small', 'data-testid': `review-photos-${task.id}` });
    const fill = (items: NonNullable<Task['photos']>) => items.forEach((photo, i) =>
      strip.appendChild(photos.thumb(photo.url, `${t('task.photos')} ${i + 1}`, `review-photo-${task.id}-${photo.id}`)));
    if (task.photos) fill(task.photos);
    else get<Task>(`tasks/${task.id}`, undefined, abort.signal).then((full) => fill(full.photos ?? []), () => {});
    return strip;
  };

  const onResult = (result: Parameters<typeof applyResult>[0], action: string) =>
    applyResult(result, action, () => void load(true));

  const taskItem = (task: Task): HTMLElement => {
    const extra: HTMLElement[] = [];
    if (tab === 'review') {
      extra.push(h('div', { class: 'review-box', 'data-testid': `review-${task.id}` },
        h('div', { class: 'muted small' }, t('dispatch.submittedBy', { who: task.assignee ?? '—', time: fmtTime(task.submitted_at) })),
        task.outcome ? h('span', { class: `outcome-tag outcome-${task.outcome}`, 'data-testid': `review-outcome-${task.id}` },
          outcomeName(task.outcome)) : null,
        task.feedback ? h('p', { class: 'feedback-text' }, task.feedback) : null,
        photoCount(task) ? reviewPhotos(task) : null));
    }
    if (task.actions.some((a) => a !== 'submit')) extra.push(actionBar(task, runner, onResult));
    return taskCard(task, { showAssignee: true, extra });
  };

  let loaded = false;
  const load = async (quiet = false) => {
    if (!quiet) {
      clear(body);
      body.appendChild(loading());
    }
    try {
      const tasks = (state: string) => get<unknown>('tasks', { view: 'town', state, limit: LIMIT }, abort.signal)
        .then((answer) => itemsOf<Task>(answer).items);
      const [pending, review, open, overdue, catalogValue] = await Promise.all([
        get<unknown>('warnings', { undispatched: 1, limit: LIMIT }, abort.signal).then((answer) => itemsOf<RiskWarning>(answer).items),
        tasks(TASK_STATE.review), tasks(TASK_STATE.open), tasks(TASK_STATE.overdue), catalog(),
      ]);
      lists = { pending, review, open, overdue };
      cat = catalogValue;
      if (!loaded || !quiet) {
        clear(body);
        body.appendChild(list);
      }
      loaded = true;
      draw();
    } catch (error) {
      if (abort.signal.aborted) return;
      if (quiet && loaded) {
        toast(error instanceof Error ? error.message : String(error), 'error');
        return;
      }
      clear(body);
      body.appendChild(errorBox(error, () => void load()));
    }
  };

  // Any change of a task in the town reloads the lists (a few at a time: one reload per burst).
  let timer: number | undefined;
  const soon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void load(true), 400);
  };
  followTasks(status, soon, abort.signal, soon);
  tickDeadlines(list, (id) => lists?.[tab === 'pending' ? 'open' : tab].find((task) => task.id === id), abort.signal);

  drawTabs();
  void load();
  return () => {
    abort.abort();
    window.clearTimeout(timer);
    photos.dispose();
  };
}
