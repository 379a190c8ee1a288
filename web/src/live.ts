// Live feeds as Server-Sent Events: the major incidents (GET /api/major/stream?unit&token) and
// the tasks that concern the user (GET /api/tasks/stream?token). EventSource cannot send
// headers, so the token rides in the query. The server greets with a ": connected" comment;
// the connection shows in `status`, each event of the named kind goes to `onItem`, and when the
// server closed the stream it reconnects after 5 s (EventSource retries by itself otherwise).
// `onOpen(recovered)` runs on each connection, `recovered` true when it follows a failure
// (events sent meanwhile are lost: the page reads its data again). Returns a function that
// closes it.
import { queryString, token, type Query } from './api';
import { t, type MessageKey } from './i18n';
import type { Incident, Task } from './types';

export interface FeedLabels {
  live: MessageKey;
  offline: MessageKey;
}

export function follow<T>(
  path: string,
  query: Query,
  eventName: string,
  status: HTMLElement | null,
  labels: FeedLabels,
  onItem: (item: T) => void,
  signal: AbortSignal,
  onOpen?: (recovered: boolean) => void,
): () => void {
  let stream: EventSource | null = null;
  let retry: number | undefined;
  let failed = false;
  const show = (state: 'live' | 'offline') => {
    if (!status) return;
    status.className = `live-status ${state}`;
    status.textContent = t(state === 'live' ? labels.live : labels.offline);
  };
  const connect = () => {
    if (typeof EventSource === 'undefined' || signal.aborted) return;
    stream = new EventSource(`/api/${path}${queryString({ ...query, token: token() })}`);
    stream.addEventListener('open', () => {
      show('live');
      const recovered = failed;
      failed = false;
      onOpen?.(recovered);
    });
    stream.addEventListener(eventName, (event) => {
      try {
        onItem(JSON.parse((event as MessageEvent<string>).data) as T);
      } catch {
        // one malformed event does not stop the feed
      }
    });
    stream.addEventListener('error', () => {
      failed = true;
      show('offline');
      if (stream && stream.readyState === EventSource.CLOSED) {
        stream = null;
        retry = window.setTimeout(() => {
          if (!signal.aborted && token()) connect();
        }, 5000);
      }
    });
  };
  connect();
  const stop = () => {
    window.clearTimeout(retry);
    stream?.close();
    stream = null;
  };
  signal.addEventListener('abort', stop);
  return stop;
}

export function followMajor(
  unit: string,
  status: HTMLElement,
  onIncident: (incident: Incident) => void,
  signal: AbortSignal,
): () => void {
  return follow<Incident>('major/stream', { unit }, 'major', status,
    { live: 'major.live', offline: 'major.offline' }, onIncident, signal);
}

// Every change of a task that concerns the user (a new one, a state change, a reassignment).
// What changed while the stream was down is not replayed: `onRecover` (a page reading its list
// again) runs when it connects after a failure.
export function followTasks(
  status: HTMLElement | null,
  onTask: (task: Task) => void,
  signal: AbortSignal,
  onRecover?: () => void,
): () => void {
  return follow<Task>('tasks/stream', {}, 'task', status,
    { live: 'tasks.live', offline: 'tasks.offline' }, onTask, signal, (recovered) => {
      if (recovered) onRecover?.();
    });
}
