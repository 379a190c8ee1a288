// Address lookup (地址查询): geocode a line of address text (status, confidence, the path from
// the province down, alternatives, former names), and browse or search the unit tree.
import { get, itemsOf } from '../api';
import { levelName } from '../components';
import { clear, errorBox, h, loading, pageHead } from '../dom';
import { fmtNum, fmtPct } from '../format';
import { t, type MessageKey } from '../i18n';
import { href, replaceRoute } from '../router';
import { session, shortCode } from '../state';
import type { GeocodeResult, UnitInfo, UnitRef } from '../types';

// The geocoder's reasons (src/geocode/matcher.cc, address/normalize.cc: fixed English strings)
// in the page's language; an unknown one is shown as it came.
const REASON_KEYS: Record<string, MessageKey> = {
  'no place name of the registry found': 'address.reason.noName',
  'place names found, but none can be placed': 'address.reason.unplaceable',
  'the house number named lies outside the community or grid named': 'address.reason.numberOutside',
  'the house number, building or room is not in the registry': 'address.reason.numberMissing',
  'a road, compound, building, village or community named is not in the registry': 'address.reason.placeMissing',
  'a district, town or zone named is not inside the place found': 'address.reason.areaOutside',
  "Hong Kong, Macao and Taiwan are not in the registry's division codes": 'address.reason.hkMacaoTaiwan',
  'a villager group (组) is not in the registry': 'address.reason.villagerGroup',
  'outside': 'address.reason.outside',
  'empty': 'address.reason.empty',
  'invalid UTF-8': 'address.reason.badUtf8',
  'control character': 'address.reason.control',
  'too long': 'address.reason.tooLong',
};

// The coordinate systems a point may be written in (docs/points.md), as the API names them.
const SYSTEMS = ['WGS-84', 'GCJ-02', 'BD-09'];
const SYSTEM_KEYS: Record<string, MessageKey> = {
  'WGS-84': 'address.system.wgs84', 'GCJ-02': 'address.system.gcj02', 'BD-09': 'address.system.bd09',
};

export function renderAddress(root: HTMLElement, params: URLSearchParams): () => void {
  const abort = new AbortController();
  const state = { q: params.get('q') ?? '', code: params.get('code') ?? session.unit, s: params.get('s') ?? '',
    p: params.get('p') ?? '', crs: SYSTEMS.includes(params.get('crs') ?? '') ? params.get('crs')! : SYSTEMS[0] };
  const remember = () => {
    const search = new URLSearchParams();
    if (state.q) search.set('q', state.q);
    if (state.p) search.set('p', state.p);
    if (state.p && state.crs !== SYSTEMS[0]) search.set('crs', state.crs);
    if (state.code) search.set('code', shortCode(state.code));
    if (state.s) search.set('s', state.s);
    replaceRoute(`#/address${search.toString() ? `?${search}` : ''}`);
  };

  // Geocoding.
  const input = h('input', { type: 'search', value: state.q, placeholder: t('address.placeholder'), 'data-testid': 'geocode-input',
    'aria-label': t('address.title') });
  const result = h('div', { class: 'geocode-result', 'data-testid': 'geocode-result' });
  const lookup = async () => {
    state.q = input.value.trim();
    remember();
    clear(result);
    if (!state.q) return;
    result.appendChild(loading());
    try {
      const answer = await get<GeocodeResult | GeocodeResult[]>('geocode', { q: state.q }, abort.signal);
      clear(result);
      result.appendChild(geocodeView(Array.isArray(answer) ? answer[0] : answer, (code) => browse(code)));
    } catch (error) {
      if (abort.signal.aborted) return;
      clear(result);
      result.appendChild(errorBox(error));
    }
  };
  const form = h('form', { class: 'search-form', onsubmit: (e: Event) => { e.preventDefault(); void lookup(); } },
    input, h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'geocode-submit' }, t('common.search')));

  // Points (GET /api/geocode?point=lon,lat&coordinates=...): the grid and the nearest building.
  const pointInput = h('input', { type: 'search', value: state.p, placeholder: t('address.pointPlaceholder'),
    'data-testid': 'point-input', 'aria-label': t('address.pointTitle'), inputmode: 'decimal' });
  const systemSelect = h('select', { 'data-testid': 'point-system', 'aria-label': t('address.pointSystem') },
    ...SYSTEMS.map((system) => h('option', { value: system, selected: system === state.crs }, t(SYSTEM_KEYS[system]))));
  const pointResult = h('div', { class: 'geocode-result', 'data-testid': 'point-result' });
  const locate = async () => {
    // Also "120.15, 30.28", 120.15，30.28 or "120.15 30.28", as people paste them.
    state.p = pointInput.value.trim().replace(/\s*[,，]\s*|\s+/g, ',');
    state.crs = systemSelect.value;
    remember();
    clear(pointResult);
    if (!state.p) return;
    pointResult.appendChild(loading());
    try {
      const answer = await get<GeocodeResult>('geocode', { point: state.p, coordinates: state.crs }, abort.signal);
      clear(pointResult);
      pointResult.appendChild(geocodeView(answer, (code) => browse(code)));
    } catch (error) {
      if (abort.signal.aborted) return;
      clear(pointResult);
      pointResult.appendChild(errorBox(error));
    }
  };
  const pointForm = h('form', { class: 'search-form point-form', onsubmit: (e: Event) => { e.preventDefault(); void locate(); } },
    pointInput, systemSelect, h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'point-submit' }, t('common.search')));

  // The unit browser.
  const unitInput = h('input', { type: 'search', value: state.s, placeholder: t('units.placeholder'), 'data-testid': 'unit-search',
    'aria-label': t('units.title') });
  const searchResults = h('div', { class: 'unit-results' });
  const browser = h('div', { class: 'unit-browser', 'data-testid': 'unit-browser' });
  const search = async () => {
    state.s = unitInput.value.trim();
    remember();
    clear(searchResults);
    if (!state.s) return;
    searchResults.appendChild(loading());
    try {
      const answer = await get<unknown>('units', { q: state.s, limit: 20 }, abort.signal);
      const { items } = itemsOf<UnitRef & { path?: UnitRef[] }>(answer, 'units', 'results');
      clear(searchResults);
      if (!items.length) {
        searchResults.appendChild(h('p', { class: 'muted' }, t('units.noResults')));
        return;
      }
      searchResults.appendChild(h('ul', { class: 'unit-list' }, ...items.map((unit) => h('li', null,
        h('a', { href: '#', onclick: (e: Event) => { e.preventDefault(); void browse(unit.code); } }, unit.name),
        ' ', h('span', { class: 'tag' }, levelName(unit.level)),
        unit.path?.length ? h('span', { class: 'muted small' }, ` ${unit.path.map((p) => p.name).join(' › ')}`) : null))));
    } catch (error) {
      if (abort.signal.aborted) return;
      clear(searchResults);
      searchResults.appendChild(errorBox(error));
    }
  };
  const browse = async (code: string) => {
    state.code = code;
    remember();
    clear(browser);
    browser.appendChild(loading());
    try {
      const info = await get<UnitInfo>(`units/${encodeURIComponent(shortCode(code))}`, undefined, abort.signal);
      clear(browser);
      browser.appendChild(unitView(info, (next) => void browse(next)));
    } catch (error) {
      if (abort.signal.aborted) return;
      clear(browser);
      browser.appendChild(errorBox(error));
    }
  };
  const unitForm = h('form', { class: 'search-form', onsubmit: (e: Event) => { e.preventDefault(); void search(); } },
    unitInput, h('button', { type: 'submit', class: 'btn' }, t('common.search')));

  root.append(
    pageHead(t('address.title'), t('address.subtitle')),
    h('div', { class: 'two-col' },
      h('div', { class: 'column-stack' },
        h('section', { class: 'panel' }, h('h3', null, t('address.title')), form, result),
        h('section', { class: 'panel', 'data-testid': 'point-panel' }, h('h3', null, t('address.pointTitle')),
          h('p', { class: 'muted small' }, t('address.pointHint')), pointForm, pointResult)),
      h('section', { class: 'panel' }, h('h3', null, t('units.title')), unitForm, searchResults, browser)));

  if (state.q) void lookup();
  if (state.p) void locate();
  if (state.s) void search();
  if (state.code) void browse(state.code);
  return () => abort.abort();
}

function pathChips(path: UnitRef[], onPick?: (code: string) => void): HTMLElement {
  const el = h('div', { class: 'path-chips' });
  path.forEach((item, index) => {
    if (index) el.appendChild(h('span', { class: 'sep' }, '›'));
    el.appendChild(onPick
      ? h('a', { href: '#', class: 'chip', title: `${levelName(item.level)} · ${item.code}`,
          onclick: (e: Event) => { e.preventDefault(); onPick(item.code); } }, item.name)
      : h('span', { class: 'chip', title: `${levelName(item.level)} · ${item.code}` }, item.name));
  });
  return el;
}

function geocodeView(result: GeocodeResult | undefined, browse: (code: string) => void): HTMLElement {
  if (!result) return h('p', { class: 'muted' }, t('common.none'));
  const statusKey = `address.status.${result.status}` as MessageKey;
  const statusText = t(statusKey) === statusKey ? result.status : t(statusKey);
  const rows: Array<[string, HTMLElement | string]> = [
    [t('address.status'), h('span', { class: `status-tag status-${result.status}`, 'data-testid': 'geocode-status' }, statusText)],
    [t('address.confidence'), h('span', { 'data-testid': 'geocode-confidence' }, fmtPct((result.confidence ?? 0) * 100))],
  ];
  if (result.level) rows.push([t('common.level'), levelName(result.level)]);
  if (result.code) rows.push([t('common.code'), h('code', { 'data-testid': 'geocode-code' }, result.code)]);
  if (result.corrected) rows.push([t('address.corrected'), result.corrected]);
  if (result.distance_m !== undefined) rows.push([t('address.distance'), `${fmtNum(result.distance_m, 1)} m`]);
  if (result.path?.length) rows.push([t('address.path'), pathChips(result.path, browse)]);
  if (result.formerly) {
    rows.push([t('address.formerly'), h('span', { class: 'tag warn' },
      t('address.formerlyText', { name: result.formerly.name, code: shortCode(result.formerly.code), until: result.formerly.until }))]);
  }
  if (result.reason) {
    const key = REASON_KEYS[result.reason];
    rows.push([t('address.reason'), h('span', { 'data-testid': 'geocode-reason' }, key ? t(key) : result.reason)]);
  }
  return h('div', null,
    h('dl', { class: 'facts' }, ...rows.flatMap(([name, value]) => [h('dt', null, name), h('dd', null, value)])),
    result.alternatives?.length
      ? h('div', null, h('h4', null, t('address.alternatives')),
          h('ol', { class: 'alternatives', 'data-testid': 'geocode-alternatives' }, ...result.alternatives.map((alt) => h('li', null,
            h('strong', null, alt.name), ' ', h('span', { class: 'tag' }, levelName(alt.level)),
            alt.path?.length ? pathChips(alt.path, browse) : null))))
      : null);
}

function unitView(info: UnitInfo, browse: (code: string) => void): HTMLElement {
  const path = [...(info.path ?? [])];
  if (!path.length || path[path.length - 1].code !== info.code) path.push({ code: info.code, name: info.name, level: info.level });
  const children = info.children ?? [];
  return h('div', null,
    pathChips(path, browse),
    h('dl', { class: 'facts' },
      h('dt', null, t('common.unit')), h('dd', { 'data-testid': 'unit-name' }, info.name),
      h('dt', null, t('common.level')), h('dd', null, levelName(info.level)),
      h('dt', null, t('common.code')), h('dd', null, h('code', null, info.code))),
    h('p', null, h('a', { class: 'btn small', href: href('overview', { unit: shortCode(info.code), period: session.period }) },
      t('common.openOverview'))),
    h('h4', null, `${t('common.children')} (${children.length})`),
    children.length
      ? h('ul', { class: 'unit-list columns', 'data-testid': 'unit-children' }, ...children.map((child) => h('li', null,
          h('a', { href: '#', onclick: (e: Event) => { e.preventDefault(); browse(child.code); } }, child.name),
          ' ', h('span', { class: 'muted small' }, levelName(child.level)))))
      : h('p', { class: 'muted' }, t('common.none')));
}
