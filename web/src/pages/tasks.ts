// 我的任务 (the grid worker's landing page, on a phone first): the patrol tasks made from
// warnings, ordered by risk (grade red first, then score) and deadline, each a card with the
// grade written out, the key type, the grid, the deadline with the time left (or how late) and
// the state. It stays live: the task stream (GET /api/tasks/stream) puts a new task at the top
// at once with a notice and updates a changed one in place. A town official sees their town's
// tasks (or those assigned to them). #/tasks?view=mine|town&state=open|overdue|closed
import { get, itemsOf } from '../api';
import { clear, errorBox, h, loading, pageHead, toast } from '../dom';
import { fmtNum } from '../format';
import { t, type MessageKey } from '../i18n';
import { followTasks } from '../live';
import { go } from '../router';
import { session } from '../state';
import { compareTasks, isMine, isOpen, keyTypeName, stateName, taskCard, tickDeadlines } from '../tasks';
import type { Task } from '../types';

type Filter = 'all' | 'open' | 'overdue' | 'closed';
const FILTERS: Filter[] = ['all', 'open', 'overdue', 'closed'];
const PAGE_SIZE = 50;

export function renderTasks(root: HTMLElement, params: URLSearchParams): () => void {
  const abort = new AbortController();
  const me = session.me!;
  const official = me.role !== 'grid_worker';
  const view: 'mine' | 'town' = official && params.get('view') !== 'mine' ? 'town' : 'mine';
  const filter: Filter = FILTERS.includes(params.get('state') as Filter) ? (params.get('state') as Filter) : 'all';
  const navigate = (changes: { view?: string; state?: string }) => go('tasks', {
    view: official ? changes.view ?? view : undefined,
    state: (changes.state ?? filter) === 'all' ? undefined : changes.state ?? filter,
  });

  const status = h('span', { class: 'live-status connecting', 'data-testid': 'live-status' }, t('tasks.connecting'));
  const count = h('span', { class: 'muted', 'data-testid': 'tasks-count' });
  const list = h('div', { class: 'task-list', 'data-testid': 'task-list' });
  const more = h('div', { class: 'table-footer' });
  const body = h('div', { 'data-testid': 'tasks-body' }, loading());

  const seg = (label: string, ids: string[], current: string, key: (id: string) => MessageKey, pick: (id: string) => void,
               testid: string) => h('div', { class: 'control-group' },
    h('span', { class: 'control-label' }, label),
    h('div', { class: 'seg', role: 'tablist', 'aria-label': label },
      ...ids.map((id) => h('button', {
        type: 'button', role: 'tab', class: id === current ? 'active' : '', 'aria-selected': String(id === current),
        'data-testid': `${testid}-${id}`, onclick: () => id !== current && pick(id),
      }, t(key(id))))));

  root.append(
    pageHead(t('tasks.title'), t(official && view === 'town' ? 'tasks.subtitleTown' : 'tasks.subtitle'), status),
    h('div', { class: 'toolbar task-toolbar' },
      h('div', { class: 'task-filters' },
        official ? seg(t('tasks.view'), ['town', 'mine'], view, (id) => `tasks.view.${id}` as MessageKey,
          (id) => navigate({ view: id }), 'tasks-view') : null,
        seg(t('tasks.filter'), FILTERS, filter, (id) => `tasks.filter.${id}` as MessageKey,
          (id) => navigate({ state: id }), 'tasks-filter')),
      count),
    body);

  const items = new Map<number, Task>();
  const fresh = new Set<number>();
  let next: string | number | null = null;

  const matches = (task: Task) => {
    if (view === 'mine' && !isMine(task, me.name)) return false;
    if (filter === 'open') return isOpen(task);
    if (filter === 'overdue') return isOpen(task) && task.overdue;
    if (filter === 'closed') return !isOpen(task);
    return true;
  };

  const render = () => {
    clear(list);
    const sorted = [...items.values()].sort(compareTasks);
    for (const task of sorted) list.appendChild(taskCard(task, { fresh: fresh.has(task.id), showAssignee: official }));
    if (!sorted.length) list.appendChild(h('p', { class: 'muted empty', 'data-testid': 'tasks-empty' }, t('tasks.none')));
    count.textContent = t('tasks.count', { n: `${fmtNum(sorted.length)}${next ? '+' : ''}` });
    clear(more);
    if (next) {
      more.appendChild(h('button', { type: 'button', class: 'btn', 'data-testid': 'tasks-more',
        onclick: () => void loadPage(next) }, t('common.more')));
    }
  };

  const query = (after: string | number | null) => ({
    view, state: filter === 'all' ? undefined : filter, limit: PAGE_SIZE, after: after ?? undefined,
  });

  const loadPage = async (after: string | number | null) => {
    const answer = itemsOf<Task>(await get<unknown>('tasks', query(after), abort.signal));
    for (const task of answer.items) items.set(task.id, task);
    next = answer.next;
    render();
  };

  let started = false;
  const load = async (quiet = false) => {
    if (!quiet) {
      clear(body);
      body.appendChild(loading());
    }
    try {
      const answer = itemsOf<Task>(await get<unknown>('tasks', query(null), abort.signal));
      items.clear();
      for (const task of answer.items) items.set(task.id, task);
      next = answer.next;
      clear(body);
      body.append(list, more);
      render();
      if (!started) {
        started = true;
        followTasks(status, onTask, abort.signal, () => void load(true));
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      clear(body);
      body.appendChild(errorBox(error, () => void load()));
    }
  };

  const onTask = (task: Task) => {
    const had = items.has(task.id);
    const known = items.get(task.id);
    if (known && known.version > task.version) return; // an older event than what is shown
    if (!matches(task)) {
      if (had) {
        items.delete(task.id);
        render();
      }
      return;
    }
    items.set(task.id, task);
    if (!had) {
      fresh.add(task.id);
      setTimeout(() => {
        fresh.delete(task.id);
        const card = list.querySelector(`[data-testid="task-card-${task.id}"]`);
        card?.classList.remove('fresh');
        card?.querySelector('.new-tag')?.remove();
      }, 8000);
    }
    render();
    if (!had) {
      toast(t('tasks.newTask', { unit: task.unit_name, key: keyTypeName(task) }));
    } else if (known && known.state !== task.state) {
      toast(t('tasks.changed', { unit: task.unit_name, state: stateName(task.state) }));
      const card = list.querySelector(`[data-testid="task-card-${task.id}"]`);
      card?.classList.add('changed');
      setTimeout(() => card?.classList.remove('changed'), 3000);
    }
  };

  tickDeadlines(list, (id) => items.get(id), abort.signal);
  void load();
  return () => abort.abort();
}
