// The five-colour grades (五色图) shared by the risk map and the command-centre screen: their
// colours (UI.md, exactly), names in both languages, a chip that always writes the grade out
// (never colour alone), the levels a map can show, and the risk map's requests.
import { get } from './api';
import type { ChartOption } from './charts';
import { h } from './dom';
import { fmtFixed, fmtNum } from './format';
import { label, lang, t, type MessageKey } from './i18n';
import { convertPeriod, kindOf } from './period';
import { session } from './state';
import type { GeoCollection, Grade, KeyType, RiskLevel, RiskMap, RiskUnit } from './types';

// The risk map grades months, quarters and years; another period becomes the month holding
// its last day (or the latest day of data).
export function riskPeriod(period: string): string {
  const kind = kindOf(period);
  if (kind === 'month' || kind === 'quarter' || kind === 'year') return period;
  return convertPeriod(period || session.me?.default_period || '', 'month', session.me?.latest_day);
}

// How many earlier periods the explanation's history asks for (each costs an assessment).
export function historyLength(period: string): number {
  const kind = kindOf(period);
  return kind === 'year' ? 5 : kind === 'quarter' ? 8 : 12;
}

export const GRADES: Grade[] = ['red', 'orange', 'yellow', 'blue', 'green'];

export const GRADE_COLORS: Record<Grade, string> = {
  red: '#D32F2F',
  orange: '#F57C00',
  yellow: '#FBC02D',
  blue: '#1976D2',
  green: '#388E3C',
};

// Text on a grade's colour: dark on yellow, white on the others.
export const GRADE_INK: Record<Grade, string> = {
  red: '#fff', orange: '#fff', yellow: '#3b2f00', blue: '#fff', green: '#fff',
};

export function isGrade(value: unknown): value is Grade {
  return typeof value === 'string' && (GRADES as string[]).includes(value);
}

// 红色 / Red
export function gradeName(grade: Grade | null | undefined): string {
  return grade ? t(`grade.${grade}` as MessageKey) : '—';
}

// 高风险 / high risk
export function gradeMeaning(grade: Grade | null | undefined): string {
  return grade ? t(`grade.${grade}.risk` as MessageKey) : '';
}

// A swatch and the grade written out: 「■ 红色」, with the meaning in the title (and on wide
// screens beside it).
export function gradeChip(grade: Grade | null | undefined, withMeaning = false, testid?: string): HTMLElement {
  if (!grade) return h('span', { class: 'grade-chip none', 'data-testid': testid ?? null }, '—');
  return h('span', {
    class: `grade-chip grade-${grade}`, title: `${gradeName(grade)} · ${gradeMeaning(grade)}`,
    'data-grade': grade, 'data-testid': testid ?? null,
  },
  h('span', { class: 'swatch', style: `background:${GRADE_COLORS[grade]}`, 'aria-hidden': 'true' }),
  gradeName(grade),
  withMeaning ? h('span', { class: 'grade-meaning' }, gradeMeaning(grade)) : null);
}

// Levels graded by the engine, top down.
export const RISK_LEVELS: RiskLevel[] = ['district', 'town', 'community', 'grid'];
const ALL_LEVELS = ['nation', 'province', 'city', 'district', 'town', 'community', 'grid', 'building', 'entrance', 'room'];

export function levelRank(level: string): number {
  return ALL_LEVELS.indexOf(level);
}

// The levels a map under a unit of `unitLevel` can show: those below it (a grid shows itself),
// grids from a district down (a city's ~12,000 grids are 8 MB of JSON and no map to read).
export function levelsUnder(unitLevel: string): RiskLevel[] {
  const below = RISK_LEVELS.filter((level) => levelRank(level) > levelRank(unitLevel) &&
    (level !== 'grid' || levelRank(unitLevel) >= levelRank('district')));
  return below.length ? below : ['grid'];
}

// What a unit's map shows first: the city and a district their towns, a town its communities,
// a community its grids.
export function defaultLevel(unitLevel: string): RiskLevel {
  if (levelRank(unitLevel) <= levelRank('district')) return 'town';
  return levelsUnder(unitLevel)[0];
}

// The level one below (drilling down), or null under grids.
export function nextLevel(level: string): RiskLevel | null {
  const at = RISK_LEVELS.indexOf(level as RiskLevel);
  return at >= 0 && at < RISK_LEVELS.length - 1 ? RISK_LEVELS[at + 1] : null;
}

// 'overall' or the position of a key type in the answer's key_types.
export function keyIndex(map: RiskMap, key: string): number {
  return key === 'overall' ? -1 : map.key_types.findIndex((k) => k.id === key);
}

// A unit's grade on the shown dimension (the overall grade, or that of one key type).
export function shownGrade(unit: RiskUnit, index: number): Grade {
  return index < 0 ? unit.grade : unit.key_grades[index] ?? 'green';
}

export function gradeCounts(map: RiskMap, index: number): Record<Grade, number> {
  const counts: Record<Grade, number> = { red: 0, orange: 0, yellow: 0, blue: 0, green: 0 };
  if (index < 0) {
    for (const grade of GRADES) counts[grade] = map.counts?.[grade] ?? 0;
    return counts;
  }
  for (const unit of map.units) counts[shownGrade(unit, index)]++;
  return counts;
}

// 访源、偷盗 / Petition sources, Theft
export function listText(items: string[]): string {
  return items.join(lang() === 'zh' ? '、' : ', ');
}

export function keyName(keys: KeyType[], id: string): string {
  return label(keys.find((k) => k.id === id), id);
}

// Fetches the grades and the outlines of the units at `level` under `unit`, registering the
// outlines as an ECharts map; resolves to the map's name.
export async function loadRiskMap(unit: string, level: RiskLevel, period: string, signal?: AbortSignal):
  Promise<{ risk: RiskMap; mapName: string; features: number }> {
  const mapName = `pingan-${unit}-${level}`;
  const [risk, geo] = await Promise.all([
    get<RiskMap>('risk', { unit, level, period }, signal),
    geoCache.get(mapName) ?? fetchGeo(mapName, unit, level, signal),
  ]);
  return { risk, mapName, features: geo };
}

const geoCache = new Map<string, Promise<number>>();

function fetchGeo(mapName: string, unit: string, level: RiskLevel, signal?: AbortSignal): Promise<number> {
  // ECharts (charts.ts) loads here, with the first map: the pages that only show grades do not need it.
  const promise = Promise.all([get<GeoCollection>('geojson', { unit, level }, signal), import('./charts')]).then(([geo, charts]) => {
    // A unit without an outline (and without a bounding box) has a null geometry: ECharts
    // cannot draw it, the table still lists it.
    const features = (geo?.features ?? []).filter((f) => f.geometry && f.properties?.code);
    charts.registerGeo(mapName, { type: 'FeatureCollection', features });
    return features.length;
  });
  geoCache.set(mapName, promise);
  promise.catch(() => geoCache.delete(mapName));
  return promise;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ECharts reads a null colour in a state as "keep the normal one"; its types do not say so.
const KEEP = null as unknown as string;

export interface MapLook {
  dark?: boolean;
  labels?: boolean; // unit names on the map
  roam?: boolean; // zoom and pan
  fontSize?: number;
  selected?: string | null; // a unit's code
}

// The choropleth: each unit's region in its grade's colour, the grade written out in the
// tooltip with the score (or the key type's index and count) and the top drivers.
export function riskMapOption(risk: RiskMap, mapName: string, key: number, look: MapLook = {}): ChartOption {
  const byCode = new Map(risk.units.map((unit) => [unit.code, unit]));
  const border = look.dark ? '#0a1630' : '#ffffff';
  const fontSize = look.fontSize ?? 11;
  const dense = risk.units.length > 400;
  const tooltip = (code: string): string => {
    const unit = byCode.get(code);
    if (!unit) return '';
    const grade = shownGrade(unit, key);
    const swatch = `<span style="display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;background:${GRADE_COLORS[grade]}"></span>`;
    const lines = [`<strong>${escapeHtml(unit.name)}</strong>`];
    if (key < 0) {
      lines.push(`${swatch}${escapeHtml(`${gradeName(grade)} · ${gradeMeaning(grade)}`)}`);
      lines.push(escapeHtml(`${t('map.score')} ${fmtFixed(unit.score, 2)}`) +
        (unit.previous ? escapeHtml(` · ${t('map.previous')} ${gradeName(unit.previous)}`) : ''));
    } else {
      const keyType = risk.key_types[key];
      lines.push(`${escapeHtml(label(keyType))}: ${swatch}${escapeHtml(`${gradeName(grade)} · ${gradeMeaning(grade)}`)}`);
      lines.push(escapeHtml(`${t('map.index')} ${fmtFixed(unit.indexes[key], 2)} · ${t('map.count')} ${fmtNum(unit.counts[key])}`));
      lines.push(escapeHtml(`${t('map.overallGrade')} ${gradeName(unit.grade)} · ${t('map.score')} ${fmtFixed(unit.score, 2)}`));
    }
    const drivers = unit.drivers.slice(0, 3).map((id) => keyName(risk.key_types, id));
    lines.push(escapeHtml(`${t('map.drivers')}: ${drivers.length ? listText(drivers) : t('map.none')}`));
    return lines.join('<br/>');
  };
  return {
    backgroundColor: 'transparent',
    tooltip: {
      trigger: 'item', confine: true,
      formatter: (params: unknown) => tooltip(String((params as { name?: string }).name ?? '')),
      ...(look.dark ? { backgroundColor: 'rgba(8,20,45,0.92)', borderColor: '#2d5b9a', textStyle: { color: '#e8f1ff', fontSize: 16 } } : {}),
    },
    series: [{
      type: 'map',
      map: mapName,
      nameProperty: 'code',
      roam: look.roam ?? false,
      selectedMode: 'single',
      labelLayout: { hideOverlap: true },
      top: 8, bottom: 8, left: 8, right: 8,
      itemStyle: { areaColor: look.dark ? '#1b2a44' : '#e0e0e0', borderColor: border, borderWidth: dense ? 0.2 : 0.8 },
      label: {
        show: !!look.labels && !dense,
        fontSize,
        color: look.dark ? '#ffffff' : '#1a1a1a',
        textBorderColor: look.dark ? 'rgba(0,0,0,0.7)' : 'rgba(255,255,255,0.85)',
        textBorderWidth: 2,
        formatter: (params: unknown) => byCode.get(String((params as { name?: string }).name ?? ''))?.name ?? '',
      },
      emphasis: {
        label: { show: !dense, fontSize, color: '#000', textBorderColor: '#fff', textBorderWidth: 2,
          formatter: (params: unknown) => byCode.get(String((params as { name?: string }).name ?? ''))?.name ?? '' },
        // Null colours keep each region's grade colour when hovered or selected (ECharts'
        // default would paint it gold, which reads as the yellow grade).
        itemStyle: { areaColor: KEEP, color: KEEP, borderColor: look.dark ? '#ffffff' : '#111111', borderWidth: 2 },
      },
      select: {
        label: { show: !dense, fontSize, color: '#000', textBorderColor: '#fff', textBorderWidth: 2 },
        itemStyle: { areaColor: KEEP, color: KEEP, borderColor: look.dark ? '#ffffff' : '#111111', borderWidth: 3 },
      },
      data: risk.units.map((unit) => ({
        name: unit.code,
        value: key < 0 ? unit.score : unit.indexes[key],
        itemStyle: { areaColor: GRADE_COLORS[shownGrade(unit, key)] },
        ...(unit.code === look.selected ? { selected: true } : {}),
      })),
    }],
  };
}
