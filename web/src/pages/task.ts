// One patrol task (巡查任务书), #/task/12: its title, grade, key type and state; the grid with
// its path, on a small map (GET /api/geojson?unit&level=grid); the deadline with the time left;
// the checklist; the buttons for what the caller may do now (the server's `actions`); the
// feedback form (text, outcome 属实/误报/已处置/需上报, up to 6 photos from the camera, shrunk to
// 1600 px JPEG before the upload); the photos and the history. Every POST carries an
// Idempotency-Key and the task's version; on a 409 the server's message shows and the page
// takes the task as the server returned it. Changes by others arrive by the task stream.
import { get } from '../api';
import { mountChart, registerGeo } from '../charts';
import { append, clear, errorBox, h, loading, toast } from '../dom';
import { fmtFixed, fmtNum, fmtTime } from '../format';
import { t } from '../i18n';
import { followTasks } from '../live';
import { periodLabel } from '../period';
import { GRADE_COLORS, GRADE_INK, gradeChip } from '../risk';
import { session } from '../state';
import {
  MAX_PHOTOS, OUTCOMES, PHOTO_MAX_BYTES, PhotoCache, TaskActions, actionBar, actionName, applyResult, checklistOf,
  deadlineLine, deadlineView, downscalePhoto, holderText, isOpen, keyTypeName, outcomeName, photoCount, photosOf,
  stateChip, stateName, taskTitle,
} from '../tasks';
import type { GeoCollection, Task, TaskOutcome } from '../types';

interface PendingPhoto {
  id: string;
  blob: Blob;
  preview: string;
  failed: boolean;
}

export function renderTask(root: HTMLElement, params: URLSearchParams): () => void {
  const abort = new AbortController();
  const id = Number(params.get('id'));
  const me = session.me!;
  const official = me.role !== 'grid_worker';
  const runner = new TaskActions();
  const photos = new PhotoCache();
  const pending: PendingPhoto[] = [];
  const draft: { feedback: string; outcome: TaskOutcome | '' } = { feedback: '', outcome: '' };
  let task: Task | null = null;
  let uploads = 0;

  const back = h('a', { class: 'back-link', href: official ? '#/dispatch' : '#/tasks', 'data-testid': 'task-back' },
    '‹ ', t(official ? 'task.backDispatch' : 'task.back'));
  const body = h('div', { class: 'task-page', 'data-testid': 'task-page' }, loading());
  root.append(back, body);

  // Built once (the map and its chart stay; the rest is redrawn on each change).
  const head = h('div', { class: 'task-head' });
  const notice = h('div', { class: 'task-notice', role: 'alert', 'data-testid': 'task-notice', hidden: true });
  const facts = h('dl', { class: 'facts task-facts', 'data-testid': 'task-facts' });
  const actionsBox = h('section', { class: 'panel task-actions-panel', 'data-testid': 'task-actions' });
  const feedbackBox = h('section', { class: 'panel', 'data-testid': 'task-feedback' });
  const photosBox = h('section', { class: 'panel', 'data-testid': 'task-photos' });
  const checklistBox = h('section', { class: 'panel', 'data-testid': 'task-checklist' });
  const mapPanel = h('section', { class: 'panel' });
  const historyBox = h('section', { class: 'panel', 'data-testid': 'task-history' });

  const apply = (next: Task, refetch = true) => {
    // Events and a 409's task carry neither history nor photos: keep what is shown and read
    // the task again for them.
    const partial = !next.history || !next.photos;
    task = { ...next, history: next.history ?? task?.history, photos: next.photos ?? task?.photos };
    draw();
    if (refetch && partial) void reload(true);
  };

  const draw = () => {
    if (!task) return;
    body.dataset.state = task.state;
    body.dataset.version = String(task.version);
    document.title = `${taskTitle(task)} · ${t('app.title')}`;
    drawHead(task);
    drawFacts(task);
    drawActions(task);
    drawFeedback(task);
    drawPhotos(task);
    drawChecklist(task);
    drawHistory(task);
  };

  const drawHead = (task: Task) => {
    clear(head);
    const view = deadlineView(task);
    head.append(
      h('h1', { 'data-testid': 'task-title' }, taskTitle(task)),
      h('div', { class: 'task-head-tags' },
        gradeChip(task.grade, true, 'task-grade'),
        h('span', { class: 'tag', 'data-testid': 'task-key' }, keyTypeName(task)),
        stateChip(task, 'task-state'),
        view.overdue && isOpen(task) ? h('span', { class: 'late-tag' }, t('task.overdue')) : null,
        task.escalated ? h('span', { class: 'tag warn' }, t('task.escalated')) : null));
  };

  const drawFacts = (task: Task) => {
    clear(facts);
    const row = (name: string, ...value: Array<Node | string | null>) => [h('dt', null, name), h('dd', null, ...value)];
    const path = (task.path ?? []).map((item) => item.name);
    facts.append(
      ...row(t('task.unit'), h('strong', null, task.unit_name),
        path.length > 1 ? h('div', { class: 'muted small' }, path.join(' › ')) : null),
      ...row(t('task.deadline'), deadlineLine(task, 'task-deadline', false)),
      ...row(t('task.assignee'), holderText(task)),
      ...row(t('task.score'), `${fmtFixed(task.score, 2)} · ${t('task.period')} ${periodLabel(task.period)}`),
      ...row(t('task.created'), fmtTime(task.created_at)),
      ...(task.accepted_at ? row(t('task.acceptedAt'), fmtTime(task.accepted_at)) : []),
      ...(task.submitted_at ? row(t('task.submittedAt'), fmtTime(task.submitted_at)) : []),
      ...(task.closed_at ? row(t('task.closedAt'), fmtTime(task.closed_at)) : []),
      ...(task.returns ? row(t('dispatch.return'), t('task.returnsN', { n: task.returns })) : []));
  };

  const drawActions = (task: Task) => {
    clear(actionsBox);
    const buttons = task.actions.filter((a) => a !== 'submit');
    let note: string | null = null;
    if (!task.actions.length) {
      note = task.state === 'closed' ? t('task.closedNote')
        : task.state === 'submitted' && !official ? t('task.waitReview') : t('task.noActions');
    }
    // Why it came back: the latest return's note, when the history carries one.
    const returned = task.state === 'returned'
      ? [...(task.history ?? [])].reverse().find((entry) => entry.action === 'return') : undefined;
    append(actionsBox, [
      h('div', { class: 'task-actions-head' }, stateChip(task), h('span', { class: 'muted' }, deadlineView(task).text)),
      task.state === 'returned' ? h('p', { class: 'return-note', 'data-testid': 'task-return-note' },
        returned?.detail ? t('task.returnedBecause', { n: task.returns, note: returned.detail })
          : t('task.returnedNoReason', { n: task.returns })) : null,
      buttons.length ? actionBar(task, runner, (result, action) => applyResult(result, action, (next) => apply(next), notice)) : null,
      note ? h('p', { class: 'muted', 'data-testid': 'task-actions-note' }, note) : null]);
  };

  // The feedback: a form while the caller may submit, else what was submitted.
  const drawFeedback = (task: Task) => {
    clear(feedbackBox);
    const canSubmit = task.actions.includes('submit');
    feedbackBox.hidden = !canSubmit && !task.outcome && !task.feedback;
    if (feedbackBox.hidden) return;
    feedbackBox.appendChild(h('div', { class: 'section-head' }, h('h3', null, t('task.feedback'))));
    if (!canSubmit) {
      append(feedbackBox, [
        task.outcome ? h('p', null, h('span', { class: `outcome-tag outcome-${task.outcome}`, 'data-testid': 'task-outcome' },
          outcomeName(task.outcome))) : null,
        task.feedback ? h('p', { class: 'feedback-text', 'data-testid': 'task-feedback-text' }, task.feedback) : null]);
      return;
    }
    const text = h('textarea', {
      rows: 4, maxlength: 2000, 'data-testid': 'feedback-text', placeholder: t('task.feedbackPlaceholder'),
      'aria-label': t('task.feedbackText'), value: draft.feedback,
      oninput: (e: Event) => (draft.feedback = (e.target as HTMLTextAreaElement).value),
    });
    const radios = h('div', { class: 'outcome-options', role: 'radiogroup', 'aria-label': t('task.outcome') },
      ...OUTCOMES.map((outcome) => h('label', { class: 'outcome-option', 'data-testid': `outcome-${outcome}` },
        h('input', { type: 'radio', name: `outcome-${task.id}`, value: outcome, checked: draft.outcome === outcome,
          onchange: () => (draft.outcome = outcome) }),
        h('span', null, outcomeName(outcome)))));
    const submit = h('button', { type: 'submit', class: 'btn primary block', 'data-testid': 'feedback-submit' },
      t('task.action.submit'));
    const form = h('form', {
      class: 'feedback-form', 'data-testid': 'feedback-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!draft.outcome) {
          toast(t('task.needOutcome'), 'error');
          return;
        }
        if (!draft.feedback.trim()) {
          toast(t('task.needFeedback'), 'error');
          text.focus();
          return;
        }
        if (uploads) {
          toast(t('task.uploading'), 'error');
          return;
        }
        submit.disabled = true;
        const result = await runner.run(task, 'submit', { feedback: draft.feedback.trim(), outcome: draft.outcome });
        submit.disabled = false;
        applyResult(result, 'submit', (next) => apply(next), notice);
      },
    },
    h('label', { class: 'field-label' }, t('task.outcome')),
    radios,
    h('label', { class: 'field-label' }, t('task.feedbackText')),
    text,
    h('label', { class: 'field-label' }, t('task.photos'), ' ',
      h('span', { class: 'muted small' }, t('task.photoLimit', { n: MAX_PHOTOS }))),
    photoStrip(task, true),
    submit);
    feedbackBox.appendChild(form);
  };

  // The photos: thumbnails (fetched with the token), those being uploaded, and the camera input.
  const photoStrip = (task: Task, editable: boolean): HTMLElement => {
    const strip = h('div', { class: 'photo-strip', 'data-testid': editable ? 'photo-strip' : 'photo-list' });
    photosOf(task).forEach((photo, index) =>
      strip.appendChild(photos.thumb(photo.url, `${t('task.photos')} ${index + 1}`, `photo-${photo.id}`)));
    if (!editable) return strip;
    for (const item of pending) {
      strip.appendChild(h('button', {
        type: 'button', class: `thumb pending ${item.failed ? 'failed' : ''}`, 'data-testid': 'photo-pending',
        title: item.failed ? t('task.uploadFailed') : t('task.uploading'),
        onclick: () => item.failed && void uploadOne(item),
      },
      h('img', { class: 'thumb-img', src: item.preview, alt: '' }),
      h('span', { class: 'thumb-status' }, item.failed ? t('task.uploadFailed') : t('task.uploading'))));
    }
    const room = MAX_PHOTOS - photoCount(task) - pending.length;
    if (room > 0) {
      const input = h('input', {
        type: 'file', accept: 'image/*', capture: 'environment', multiple: true, class: 'visually-hidden',
        'data-testid': 'photo-input', 'aria-label': t('task.addPhoto'),
        onchange: () => {
          const files = [...(input.files ?? [])].slice(0, room);
          input.value = '';
          void addPhotos(files);
        },
      });
      strip.appendChild(h('label', { class: 'thumb add-photo', 'data-testid': 'photo-add' }, input,
        h('span', { class: 'add-icon', 'aria-hidden': 'true' }, '＋'), h('span', null, t('task.addPhoto'))));
    } else {
      strip.appendChild(h('span', { class: 'muted small photo-full' }, t('task.photoFull', { n: MAX_PHOTOS })));
    }
    return strip;
  };

  const addPhotos = async (files: File[]) => {
    for (const file of files) {
      let blob: Blob;
      try {
        blob = await downscalePhoto(file);
      } catch (error) {
        toast(error instanceof Error ? error.message : String(error), 'error');
        continue;
      }
      if (blob.size > PHOTO_MAX_BYTES) {
        toast(t('task.photoTooBig'), 'error');
        continue;
      }
      const item: PendingPhoto = { id: `${Date.now()}-${Math.random()}`, blob, preview: URL.createObjectURL(blob), failed: false };
      pending.push(item);
      void uploadOne(item);
    }
  };

  const uploadOne = async (item: PendingPhoto) => {
    if (!task) return;
    item.failed = false;
    uploads++;
    drawFeedback(task);
    const result = await runner.upload(task, item.blob, item.id);
    uploads--;
    if (abort.signal.aborted) return;
    if (result.ok) {
      pending.splice(pending.indexOf(item), 1);
      URL.revokeObjectURL(item.preview);
      toast(t('task.uploaded'));
      apply(result.task, false);
      return;
    }
    if (result.error.status === 0 || result.error.status >= 500) {
      item.failed = true; // a retry sends the same key
      toast(result.error.message, 'error');
      drawFeedback(task);
      return;
    }
    pending.splice(pending.indexOf(item), 1);
    URL.revokeObjectURL(item.preview);
    applyResult(result, 'photo', (next) => apply(next), notice);
    if (!result.task) drawFeedback(task);
  };

  const drawPhotos = (task: Task) => {
    clear(photosBox);
    // While the form is open its strip shows them.
    photosBox.hidden = task.actions.includes('submit');
    if (photosBox.hidden) return;
    photosBox.append(h('div', { class: 'section-head' }, h('h3', null, t('task.photos'))),
      photoCount(task) ? photoStrip(task, false) : h('p', { class: 'muted' }, t('task.noPhotos')));
  };

  const drawChecklist = (task: Task) => {
    clear(checklistBox);
    const items = checklistOf(task);
    checklistBox.hidden = !items.length;
    checklistBox.append(h('div', { class: 'section-head' }, h('h3', null, t('task.checklist'))),
      h('ol', { class: 'checklist' }, ...items.map((item) => h('li', null, item))));
  };

  const drawHistory = (task: Task) => {
    clear(historyBox);
    const entries = [...(task.history ?? [])].sort((a, b) => b.version - a.version);
    historyBox.append(h('div', { class: 'section-head' }, h('h3', null, t('task.history'))),
      entries.length ? h('ol', { class: 'timeline', 'data-testid': 'history' }, ...entries.map((entry) => h('li', {
        'data-action': entry.action,
      },
      h('div', { class: 'timeline-head' },
        h('strong', null, actionName(entry.action)),
        entry.to && entry.from !== entry.to ? h('span', { class: 'muted small' },
          entry.from ? `${stateName(entry.from)} → ${stateName(entry.to)}` : stateName(entry.to)) : null),
      h('div', { class: 'muted small' }, t('task.byAt', {
        actor: entry.actor === 'system' ? t('task.system') : entry.actor, time: fmtTime(entry.at),
      })),
      entry.detail ? h('div', { class: 'timeline-detail', title: entry.detail }, detailText(entry.detail)) : null)))
        : h('p', { class: 'muted' }, '—'));
  };

  // The grid on a small map in its grade's colour (once: the unit does not change).
  const drawMap = async (task: Task) => {
    const mapEl = h('div', { class: 'task-map', 'data-testid': 'task-map' });
    mapPanel.append(h('div', { class: 'section-head' }, h('h3', null, t('task.map')),
      h('span', { class: 'muted small' }, task.unit_name)), mapEl);
    try {
      const geo = await get<GeoCollection>('geojson', { unit: task.unit, level: 'grid' }, abort.signal);
      const features = (geo?.features ?? []).filter((f) => f.geometry && f.properties?.code);
      if (!features.length) {
        mapEl.replaceWith(h('p', { class: 'muted' }, t('task.noOutline')));
        return;
      }
      const name = `pingan-task-${task.unit}`;
      registerGeo(name, { type: 'FeatureCollection', features });
      if (!mapEl.isConnected) return;
      mapEl.dataset.features = String(features.length);
      mountChart(mapEl, {
        series: [{
          type: 'map', map: name, nameProperty: 'code', roam: false, selectedMode: false, silent: true,
          top: 12, bottom: 12, left: 12, right: 12,
          itemStyle: { areaColor: '#e0e0e0', borderColor: '#37474f', borderWidth: 1 },
          label: { show: true, fontSize: 12, color: GRADE_INK[task.grade], formatter: () => `${task.unit_name}\n${t(`grade.${task.grade}`)}` },
          data: features.map((f) => ({
            name: f.properties.code,
            itemStyle: { areaColor: f.properties.code === task.unit ? GRADE_COLORS[task.grade] : '#e0e0e0' },
          })),
        }],
      });
    } catch (error) {
      if (abort.signal.aborted) return;
      mapEl.replaceWith(h('p', { class: 'muted small' }, error instanceof Error ? error.message : String(error)));
    }
  };

  const reload = async (quiet = false) => {
    if (!quiet) {
      clear(body);
      body.appendChild(loading());
    }
    try {
      const answer = await get<Task>(`tasks/${id}`, undefined, abort.signal);
      const first = !task;
      task = answer;
      if (first || !quiet) {
        clear(body);
        body.append(head, notice,
          h('div', { class: 'task-grid' },
            h('div', { class: 'task-main' }, h('section', { class: 'panel' }, facts), actionsBox, feedbackBox, photosBox),
            h('div', { class: 'task-side' }, checklistBox, mapPanel, historyBox)));
        if (first) requestAnimationFrame(() => void drawMap(answer));
      }
      draw();
    } catch (error) {
      if (abort.signal.aborted || quiet) return;
      clear(body);
      body.appendChild(errorBox(error, () => void reload()));
    }
  };

  if (!Number.isInteger(id) || id <= 0) {
    clear(body);
    body.appendChild(errorBox(new Error(t('task.notFound'))));
    return () => abort.abort();
  }

  // Someone else's change (the official closed it, a reassignment): take the newer version.
  followTasks(null, (next) => {
    if (next.id !== id || !task || next.version <= task.version) return;
    const changed = next.state !== task.state;
    apply(next);
    if (changed) toast(t('tasks.changed', { unit: next.unit_name, state: stateName(next.state) }));
  }, abort.signal, () => {
    if (task) void reload(true);
  });

  // The time left, once a minute (the form is left alone: it may be half filled in).
  const tick = window.setInterval(() => {
    if (!task) return;
    drawHead(task);
    drawFacts(task);
    const left = actionsBox.querySelector('.task-actions-head .muted');
    if (left) left.textContent = deadlineView(task).text;
  }, 60000);

  void reload();
  return () => {
    window.clearInterval(tick);
    abort.abort();
    photos.dispose();
    for (const item of pending) URL.revokeObjectURL(item.preview);
  };
}

// A history entry's detail in words where the server's `key=value` form is known
// (warning=874 to=w1 · outcome=confirmed · to=town queue · photo=1 image/jpeg 31128 bytes);
// anything else as it came.
function detailText(detail: string): string {
  const photo = /^photo=(\d+) image\/(\w+) (\d+) bytes$/.exec(detail);
  if (photo) return t('task.detail.photo', { n: photo[1], type: photo[2].toUpperCase(), size: fmtNum(Number(photo[3]) / 1024, 0) });
  const outcome = /^outcome=(\w+)$/.exec(detail);
  if (outcome) return `${t('task.outcome')}：${outcomeName(outcome[1])}`;
  const parts = /^(?:warning=(\d+) )?to=(.+)$/.exec(detail);
  if (parts) {
    const to = parts[2] === 'town queue' ? t('task.townQueue') : parts[2];
    return [parts[1] ? t('task.detail.warning', { id: parts[1] }) : '', t('task.detail.to', { to })].filter(Boolean).join(' · ');
  }
  return detail;
}
