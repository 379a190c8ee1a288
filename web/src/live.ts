// The live feed of major incidents: GET /api/major/stream?unit&token as Server-Sent Events
// (EventSource cannot send headers, so the token rides in the query). Shows the connection in
// `status`, hands each incident to `onIncident`, and reconnects after 5 s when the server closed
// the stream (EventSource retries by itself otherwise). Returns a function that closes it.
import { queryString, token } from './api';
import { t } from './i18n';
import type { Incident } from './types';

export function followMajor(
  unit: string,
  status: HTMLElement,
  onIncident: (incident: Incident) => void,
  signal: AbortSignal,
): () => void {
  let stream: EventSource | null = null;
  let retry: number | undefined;
  const connect = () => {
    if (typeof EventSource === 'undefined' || signal.aborted) return;
    stream = new EventSource(`/api/major/stream${queryString({ unit, token: token() })}`);
    stream.addEventListener('open', () => {
      status.className = 'live-status live';
      status.textContent = t('major.live');
    });
    stream.addEventListener('major', (event) => {
      try {
        onIncident(JSON.parse((event as MessageEvent<string>).data) as Incident);
      } catch {
        // one malformed event does not stop the feed
      }
    });
    stream.addEventListener('error', () => {
      status.className = 'live-status offline';
      status.textContent = t('major.offline');
      if (stream && stream.readyState === EventSource.CLOSED) {
        stream = null;
        retry = window.setTimeout(() => {
          if (!signal.aborted && token()) connect();
        }, 5000);
      }
    });
  };
  connect();
  return () => {
    window.clearTimeout(retry);
    stream?.close();
    stream = null;
  };
}
