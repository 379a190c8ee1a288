// The events behind a figure (事件明细): the records the report counts for one indicator (or key
// type) in one unit and period, as GET /api/events?indicator&unit&period lists them (the
// server checks the list against the report: docs/server.md). Reached from a card's panel.
import { get } from '../api';
import { exportButtons, levelName } from '../components';
import { h, pageHead } from '../dom';
import { fmtTime } from '../format';
import { label, lang, t } from '../i18n';
import { periodLabel } from '../period';
import { catalog, findItem, session, shortCode } from '../state';
import type { Catalog, StoredEventItem, UnitInfo } from '../types';
import { pagedTable } from './paged';

const PLACED_BY: Record<string, 'events.placed.code' | 'events.placed.point' | 'events.placed.text' | 'events.placed.none'> = {
  code: 'events.placed.code', point: 'events.placed.point', text: 'events.placed.text', none: 'events.placed.none',
};

export function renderEvents(root: HTMLElement, params: URLSearchParams): () => void {
  const abort = new AbortController();
  const unit = params.get('unit') || session.unit;
  const period = params.get('period') || session.period;
  const indicator = params.get('indicator') ?? '';
  // The records behind a figure export as CSV or XLSX (GET /api/export/events: at most 100,000).
  const head = indicator
    ? pageHead(t('events.title'), t('events.subtitle'), exportButtons('events',
      { unit: shortCode(unit), period, indicator, lang: lang() }, `events-${shortCode(unit)}-${period}-${indicator}`))
    : pageHead(t('events.title'), t('events.subtitle'));
  const context = h('p', { class: 'muted', 'data-testid': 'events-context' });
  const holder = h('div');
  root.append(head, context, holder);
  void Promise.all([
    catalog(),
    get<UnitInfo>(`units/${encodeURIComponent(shortCode(unit))}`, undefined, abort.signal).catch(() => null),
  ]).then(([cat, info]: [Catalog | null, UnitInfo | null]) => {
    if (abort.signal.aborted) return;
    const measure = findItem(cat?.indicators, indicator) ?? findItem(cat?.key_types, indicator);
    context.textContent = [info?.name ?? shortCode(unit), periodLabel(period), measure ? label(measure) : t('events.allTypes')]
      .join(' · ');
    const attributeName = (name: string) => {
      const def = cat?.attributes.find((a) => a.name === name);
      return def ? label(def) : name;
    };
    const attributes = (item: StoredEventItem) => {
      const entries = Object.entries(item.attributes ?? {});
      if (!entries.length) return '—';
      return entries.map(([name, value]) =>
        `${attributeName(name)}: ${value === true ? t('common.yes') : value === false ? t('common.no') : String(value)}`).join('；');
    };
    holder.appendChild(pagedTable<StoredEventItem>('events', { unit: shortCode(unit), period, indicator: indicator || undefined, limit: 50 }, [
      { title: t('events.occurred'), cell: (e) => fmtTime(e.occurred_at) },
      { title: t('events.type'), cell: (e) => label(findItem(cat?.types, e.type), e.type) },
      { title: t('events.source'), cell: (e) => label(findItem(cat?.sources, e.source), e.source).replace(/\s*\(.*\)$/, ''), className: 'hide-phone' },
      { title: t('events.sourceId'), cell: (e) => e.source_id, className: 'mono hide-phone' },
      { title: t('events.address'), cell: (e) => e.address || (e.code ? h('code', null, e.code) : '—') },
      { title: t('events.unit'), cell: (e) => h('span', { title: e.unit }, `${levelName(e.level)} ${shortCode(e.unit)}`), className: 'mono' },
      { title: t('events.placedBy'), cell: (e) => t(PLACED_BY[e.placed_by] ?? 'events.placed.none'), className: 'hide-phone' },
      { title: t('events.attributes'), cell: attributes },
    ], (e) => String(e.id), abort.signal, 'events'));
  });
  return () => abort.abort();
}
