// Hash routing: #/overview?unit=330106&period=2024-06. The unit and period the user picked
// follow them from page to page (session.unit, session.period) and stay in the URL, so a link
// or a reload shows the same figures.
import { session, type PageId } from './state';

export interface Route {
  page: string; // 'login', a PageId, or something unknown
  params: URLSearchParams;
  id: string; // what follows the page in the path: #/task/12 → '12'
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const [page, ...rest] = path.split('/');
  return { page: page || '', params: new URLSearchParams(query), id: decodeURIComponent(rest.join('/')) };
}

// One task: #/task/12.
export function taskHref(id: number | string): string {
  return `#/task/${encodeURIComponent(String(id))}`;
}

export function href(page: PageId | 'login', params?: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params ?? {})) if (value) search.set(name, value);
  const text = search.toString();
  return `#/${page}${text ? `?${text}` : ''}`;
}

// Pages that read the shared unit and period get them in their links.
const SCOPED: ReadonlySet<string> = new Set(['overview', 'map', 'bulletin', 'clusters', 'major']);

export function pageHref(page: PageId): string {
  if (SCOPED.has(page)) return href(page, { unit: session.unit, period: session.period });
  if (page === 'league') return href(page, { period: session.period });
  return href(page);
}

// The hash the page on screen was rendered for. A page that rewrites its own URL (the unit it
// settled on, a panel it opened) must not do so once the user has navigated away: that
// navigation's hashchange may still be queued, and would then read the stale page's URL.
let shownHash = '';

export function markShown(): void {
  shownHash = location.hash;
}

// Replaces the URL of the page on screen, unless a navigation away from it is pending.
export function replaceRoute(target: string): void {
  if (location.hash !== shownHash) return;
  history.replaceState(null, '', target);
  shownHash = location.hash;
}

export function go(page: PageId | 'login', params?: Record<string, string | undefined>): void {
  const target = href(page, params);
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = target;
}

// Same page, some parameters changed (undefined removes one).
export function update(changes: Record<string, string | undefined>): void {
  const route = currentRoute();
  const params: Record<string, string | undefined> = {};
  route.params.forEach((value, name) => (params[name] = value));
  Object.assign(params, changes);
  if (route.id) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
    const text = search.toString();
    location.hash = `#/${route.page}/${encodeURIComponent(route.id)}${text ? `?${text}` : ''}`;
    return;
  }
  go(route.page as PageId, params);
}
