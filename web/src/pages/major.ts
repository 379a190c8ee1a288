// Major incidents (重大事件): the period's major incidents, newest first, then live ones from
// the server-sent event stream (GET /api/major/stream?unit&token; EventSource cannot send an
// Authorization header, so this one route takes the token in the query).
import { get, itemsOf } from '../api';
import { periodPicker, unitBreadcrumb } from '../components';
import { clear, errorBox, h, loading, pageHead } from '../dom';
import { fmtNum, fmtTime } from '../format';
import { followMajor } from '../live';
import { label, lang, t } from '../i18n';
import { go } from '../router';
import { catalog, findItem, session } from '../state';
import type { Catalog, Incident } from '../types';

const LIMITS = [20, 50, 100, 200];

export function renderMajor(root: HTMLElement, params: URLSearchParams): () => void {
  const abort = new AbortController();
  const { unit, period } = session;
  const limit = LIMITS.includes(Number(params.get('limit'))) ? Number(params.get('limit')) : 50;
  const status = h('span', { class: 'live-status connecting', 'data-testid': 'live-status' }, t('major.connecting'));
  const count = h('span', { class: 'muted' });
  const list = h('ol', { class: 'incidents', 'data-testid': 'incidents' });
  const body = h('div', null, loading());
  const limitSelect = h('select', { 'aria-label': t('major.limit'),
    onchange: (e: Event) => go('major', { unit, period, limit: (e.target as HTMLSelectElement).value }) },
  ...LIMITS.map((n) => h('option', { value: String(n), selected: n === limit }, String(n))));

  root.append(
    pageHead(t('major.title'), t('major.subtitle'), status),
    h('div', { class: 'head-row' },
      unitBreadcrumb(unit, (code) => {
        session.unit = code;
        go('major', { unit: code, period, limit: String(limit) });
      }),
      periodPicker(period, (next) => {
        session.period = next;
        go('major', { unit, period: next, limit: String(limit) });
      })),
    h('div', { class: 'toolbar' }, count, h('label', { class: 'inline' }, t('major.limit'), ' ', limitSelect)),
    body);

  const seen = new Set<number | string>();
  let cat: Catalog | null = null;
  let stopFeed = () => {};
  let shown = 0;
  const updateCount = () => (count.textContent = t('major.count', { n: fmtNum(shown) }));

  const add = (incident: Incident, fresh: boolean) => {
    const key = incident.id ?? `${incident.source}/${incident.source_id}`;
    if (seen.has(key)) return;
    seen.add(key);
    const item = incidentItem(incident, cat, fresh);
    if (fresh) list.insertBefore(item, list.firstChild);
    else list.appendChild(item);
    shown++;
    updateCount();
    if (fresh) setTimeout(() => item.classList.remove('fresh'), 8000);
  };


  const load = async () => {
    clear(body);
    body.appendChild(loading());
    try {
      const [answer, catalogValue] = await Promise.all([
        get<unknown>('major', { unit, period, limit, lang: lang() }, abort.signal),
        catalog(),
      ]);
      cat = catalogValue;
      clear(body);
      body.appendChild(list);
      const { items } = itemsOf<Incident>(answer, 'incidents', 'events');
      for (const incident of items) add(incident, false);
      if (!items.length) updateCount();
      stopFeed = followMajor(unit, status, (incident) => add(incident, true), abort.signal);
    } catch (error) {
      if (abort.signal.aborted) return;
      clear(body);
      body.appendChild(errorBox(error, () => void load()));
    }
  };
  void load();
  return () => {
    abort.abort();
    stopFeed();
  };
}

function attributeText(name: string, value: unknown, cat: Catalog | null): string {
  const attr = cat?.attributes.find((a) => a.name === name);
  const title = attr ? label(attr) : name;
  let text: string;
  if (typeof value === 'boolean') text = value ? t('common.yes') : t('common.no');
  else if (typeof value === 'number') text = fmtNum(value);
  else text = String(value ?? '');
  return `${title}: ${text}`;
}

function incidentItem(incident: Incident, cat: Catalog | null, fresh: boolean): HTMLElement {
  const type = findItem(cat?.types, incident.type);
  const source = findItem(cat?.sources, incident.source);
  return h('li', { class: `incident ${fresh ? 'fresh' : ''}`, 'data-testid': `incident-${incident.id}` },
    h('div', { class: 'incident-head' },
      h('time', { datetime: incident.occurred_at }, fmtTime(incident.occurred_at)),
      h('strong', null, label(type, incident.type)),
      ...(incident.rules ?? []).map((rule) => h('span', { class: 'rule-tag' }, label(findItem(cat?.major, rule), rule))),
      fresh ? h('span', { class: 'new-tag' }, t('major.new')) : null),
    h('div', { class: 'incident-place' },
      incident.unit_name ? h('span', { class: 'unit-name' }, incident.unit_name) : null,
      incident.address ? h('span', { class: 'muted' }, incident.address) : null),
    incident.attributes && Object.keys(incident.attributes).length
      ? h('div', { class: 'incident-attrs' }, ...Object.entries(incident.attributes).map(([name, value]) =>
          h('span', { class: 'attr' }, attributeText(name, value, cat))))
      : null,
    h('div', { class: 'muted small' }, `${t('major.source')}: ${label(source, incident.source).replace(/\s*\(.*\)$/, '')} · ${incident.source_id}`));
}
