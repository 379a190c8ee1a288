// What the app knows about the session: the user (/api/me), the catalog, and the unit and
// period the pages share (also in the URL: #/overview?unit=330106&period=2024-06).
import { get } from './api';
import type { Catalog, CatalogItem, Me, Role, UnitRef } from './types';

export type PageId = 'overview' | 'map' | 'league' | 'bulletin' | 'clusters' | 'major' | 'address' | 'command' |
  'quarantine' | 'audit' | 'tasks' | 'task' | 'dispatch' | 'events';

// The pages in each role's nav, the first its landing page (the server checks again; this only
// keeps the nav honest). A grid worker starts on their tasks (UI.md: the phone shows the grid
// worker's tasks first).
const PAGES_BY_ROLE: Record<Role, PageId[]> = {
  admin: ['overview', 'map', 'league', 'bulletin', 'clusters', 'major', 'address', 'command', 'quarantine', 'audit'],
  city_analyst: ['overview', 'map', 'league', 'bulletin', 'clusters', 'major', 'address', 'command'],
  district_analyst: ['overview', 'map', 'league', 'bulletin', 'clusters', 'major', 'address', 'command'],
  town_official: ['overview', 'map', 'tasks', 'dispatch', 'league', 'bulletin', 'clusters', 'major', 'address'],
  grid_worker: ['tasks', 'overview', 'map', 'major', 'bulletin', 'clusters', 'address'],
  auditor: ['audit'],
};

// Pages reached by a link, not from the nav: one task (#/task/12).
const LINKED_PAGES: Partial<Record<Role, PageId[]>> = {
  admin: ['events'],
  city_analyst: ['events'],
  district_analyst: ['events'],
  town_official: ['task', 'events'],
  grid_worker: ['task', 'events'],
};

export const ALL_PAGES: PageId[] = [...PAGES_BY_ROLE.admin, 'tasks', 'task', 'dispatch', 'events'];

export function pagesFor(role: Role | undefined): PageId[] {
  return (role && PAGES_BY_ROLE[role]) || ['overview'];
}

// The nav's pages and those reached by a link.
export function allowedPages(role: Role | undefined): PageId[] {
  return [...pagesFor(role), ...((role && LINKED_PAGES[role]) || [])];
}

interface Session {
  me: Me | null;
  catalog: Catalog | null;
  unit: string; // the current unit, as a significant-digit prefix
  period: string;
}

export const session: Session = { me: null, catalog: null, unit: '', period: '' };

export async function loadSession(): Promise<Me> {
  const me = await get<Me>('me');
  session.me = me;
  if (!session.unit) session.unit = shortCode(topUnit(me));
  if (!session.period) session.period = me.default_period;
  return me;
}

// Where the user starts: their first scope (a district analyst's district), else the home city.
export function topUnit(me: Me): string {
  const scope = me.scopes?.[0] as UnitRef | string | undefined;
  if (scope) return typeof scope === 'string' ? scope : scope.code;
  return me.home?.code ?? '';
}

// The units a user's breadcrumb may start at: their scopes, or the home city without scopes.
export function rootUnits(me: Me | null): string[] {
  if (!me) return [];
  const scopes = (me.scopes ?? []).map((s: UnitRef | string) => (typeof s === 'string' ? s : s.code));
  return (scopes.length ? scopes : [me.home?.code ?? '']).filter(Boolean).map(fullCode);
}

export function resetSession(): void {
  session.me = null;
  session.catalog = null;
  session.unit = '';
  session.period = '';
}

let catalogPromise: Promise<Catalog | null> | null = null;

// The catalog (names of indicators, types, rules, attributes); null if it cannot be read.
export function catalog(): Promise<Catalog | null> {
  if (session.catalog) return Promise.resolve(session.catalog);
  if (!catalogPromise) {
    catalogPromise = get<Catalog>('catalog').then(
      (value) => (session.catalog = value),
      () => {
        catalogPromise = null;
        return null;
      },
    );
  }
  return catalogPromise;
}

export function findItem(list: CatalogItem[] | undefined, id: string): CatalogItem | undefined {
  return list?.find((item) => item.id === id);
}

const PREFIX_LENGTHS = [2, 4, 6, 9, 12, 15, 20, 22, 27];

// 330106000000000000000000000 → 330106 (the API accepts either).
export function shortCode(code: string): string {
  if (!code) return code;
  for (const length of PREFIX_LENGTHS) {
    if (length >= code.length || /^0*$/.test(code.slice(length))) return code.slice(0, length);
  }
  return code;
}

export function fullCode(code: string): string {
  return code.padEnd(27, '0');
}

export function sameUnit(a: string, b: string): boolean {
  return fullCode(a) === fullCode(b);
}
