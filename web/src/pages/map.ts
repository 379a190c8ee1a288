// Risk map (风险地图, 五色图): the units of one level under the current unit in the five grade
// colours, by the overall score or by one of the 9 key types; a legend with the count per
// colour; a unit opens its explanation (observed against expected per key type, the drivers,
// the change and the history) and drills down a level; the same units as a table sorted by
// score (the grade written out: colour-blind readers and phones); the period's warnings.
import { get, itemsOf } from '../api';
import { disposeCharts, mountChart, type Chart } from '../charts';
import { levelName, periodPicker, unitBreadcrumb, type PickerKind } from '../components';
import { append, clear, errorBox, h, loading, pageHead } from '../dom';
import { fmtFixed, fmtNum, fmtTime } from '../format';
import { label, t } from '../i18n';
import { periodLabel } from '../period';
import { go, href, replaceRoute } from '../router';
import { fullCode, sameUnit, session, shortCode } from '../state';
import {
  GRADE_COLORS, GRADES, defaultLevel, gradeChip, gradeCounts, gradeMeaning, gradeName, historyLength,
  keyIndex, keyName, levelsUnder, listText, loadRiskMap, nextLevel, riskMapOption, riskPeriod, shownGrade,
} from '../risk';
import type { Grade, RiskExplanation, RiskLevel, RiskMap, RiskUnit, RiskWarning, UnitInfo } from '../types';

const KINDS: readonly PickerKind[] = ['month', 'quarter', 'year'];
const TABLE_ROWS = 300; // rows drawn before "show all" (a city has ~12,000 grids)
const WARNINGS_SHOWN = 30;

interface View {
  unit: string;
  period: string;
  level: RiskLevel | null;
  key: string; // 'overall' or a key type id
  sel: string | null; // the selected unit (27 digits)
  risk: RiskMap | null;
  mapName: string;
  features: number;
  chart: Chart | null;
  panel: HTMLElement | null;
  abort: AbortController;
}

export function renderMap(root: HTMLElement, params: URLSearchParams): () => void {
  const period = riskPeriod(session.period);
  session.period = period;
  const view: View = {
    unit: session.unit,
    period,
    level: null,
    key: params.get('key') || 'overall',
    sel: params.get('sel') ? fullCode(params.get('sel')!) : null,
    risk: null,
    mapName: '',
    features: 0,
    chart: null,
    panel: null,
    abort: new AbortController(),
  };
  const wanted = params.get('level');

  const urlParams = (changes: Record<string, string | undefined> = {}) => ({
    unit: view.unit,
    period: view.period,
    level: view.level ?? undefined,
    key: view.key === 'overall' ? undefined : view.key,
    sel: view.sel ? shortCode(view.sel) : undefined,
    ...changes,
  });
  const replaceUrl = () => replaceRoute(href('map', urlParams()));
  const navigate = (changes: Record<string, string | undefined>) => {
    const next = urlParams(changes);
    if (next.unit) session.unit = next.unit;
    if (next.period) session.period = next.period;
    go('map', next);
  };

  const controls = h('div', { class: 'risk-controls' });
  const body = h('div', { class: 'risk-body', 'data-testid': 'risk-body' }, loading());
  const warningsBox = h('section', { class: 'panel warnings-panel', 'data-testid': 'warnings' });
  root.append(
    pageHead(t('map.title'), t('map.subtitle')),
    h('div', { class: 'overview-head' },
      h('div', { class: 'head-row' },
        unitBreadcrumb(view.unit, (code) => navigate({ unit: code, level: undefined, sel: undefined })),
        periodPicker(view.period, (next) => navigate({ period: next }), KINDS)),
      controls),
    body,
    warningsBox);

  // The level tabs and the dimension chips (综合 and the 9 key types).
  const renderControls = (levels: RiskLevel[]) => {
    clear(controls);
    controls.appendChild(h('div', { class: 'control-group' },
      h('span', { class: 'control-label' }, t('map.level')),
      h('div', { class: 'seg', role: 'tablist', 'aria-label': t('map.level') },
        ...levels.map((level) => h('button', {
          type: 'button', role: 'tab', class: level === view.level ? 'active' : '', 'aria-selected': String(level === view.level),
          'data-testid': `level-${level}`,
          onclick: () => {
            if (level !== view.level) navigate({ level, sel: undefined });
          },
        }, levelName(level))))));
    const risk = view.risk;
    if (!risk) return;
    const chip = (id: string, text: string) => h('button', {
      type: 'button', role: 'tab', class: `key-chip ${id === view.key ? 'active' : ''}`, 'aria-selected': String(id === view.key),
      'data-testid': `key-${id}`,
      onclick: () => {
        if (id === view.key) return;
        view.key = id;
        replaceUrl();
        renderControls(levels);
        refresh();
      },
    }, text);
    controls.appendChild(h('div', { class: 'control-group' },
      h('span', { class: 'control-label' }, t('map.dimension')),
      h('div', { class: 'key-chips', role: 'tablist', 'aria-label': t('map.dimension') },
        chip('overall', t('map.overall')),
        ...risk.key_types.map((k) => chip(k.id, label(k))))));
  };

  // The map, legend and table for the current dimension (built once per answer, redrawn on a
  // change of dimension without asking the server again).
  const mapEl = h('div', { class: 'risk-map', 'data-testid': 'risk-map' });
  const mapHead = h('div', { class: 'section-head' });
  const legendBox = h('div');
  const tableHead = h('div', { class: 'section-head' });
  const tableBox = h('div', { class: 'table-wrap risk-table-wrap' });

  const keyIdx = () => (view.risk ? keyIndex(view.risk, view.key) : -1);

  const refresh = () => {
    const risk = view.risk!;
    const k = keyIdx();
    body.dataset.key = k < 0 ? 'overall' : view.key;
    clear(mapHead);
    mapHead.append(
      h('h3', null, t('map.heading', { unit: risk.unit_name, level: levelName(risk.level) })),
      h('span', { class: 'muted small' }, `${periodLabel(risk.period)} · ${k < 0 ? t('map.byOverall') : t('map.byKey', { key: label(risk.key_types[k]) })}`));
    clear(legendBox);
    legendBox.appendChild(legend(risk, k, (grade, on) => highlightGrade(grade, on)));
    clear(tableHead);
    tableHead.append(h('h3', null, k < 0 ? t('map.table') : t('map.tableKey', { key: label(risk.key_types[k]) })),
      h('span', { class: 'muted small' }, t('map.unitsOf', { n: fmtNum(risk.units.length), level: levelName(risk.level) })));
    clear(tableBox);
    tableBox.appendChild(unitTable(risk, k, view.sel, {
      select: (code) => select(code),
      hover: (code, on) => view.chart?.dispatchAction({ type: on ? 'highlight' : 'downplay', seriesIndex: 0, name: code }),
    }));
    drawMap();
  };

  const drawMap = () => {
    const risk = view.risk;
    if (!risk || !mapEl.isConnected) return;
    const wide = window.innerWidth > 760;
    const option = riskMapOption(risk, view.mapName, keyIdx(), {
      labels: wide && risk.units.length <= 80, roam: wide, selected: view.sel,
    });
    if (!view.chart) {
      view.chart = mountChart(mapEl, option);
      view.chart.on('click', (event) => {
        const code = String((event as { name?: string }).name ?? '');
        if (risk.units.some((unit) => unit.code === code)) select(code);
      });
    } else {
      view.chart.setOption(option);
    }
  };

  const highlightGrade = (grade: Grade, on: boolean) => {
    const risk = view.risk;
    if (!risk || !view.chart) return;
    const k = keyIdx();
    const dataIndex = risk.units.flatMap((unit, i) => (shownGrade(unit, k) === grade ? [i] : []));
    view.chart.dispatchAction({ type: on ? 'highlight' : 'downplay', seriesIndex: 0, dataIndex });
  };

  const select = (code: string) => {
    view.sel = code;
    replaceUrl();
    view.chart?.dispatchAction({ type: 'select', seriesIndex: 0, name: code });
    tableBox.querySelectorAll('tr.selected').forEach((row) => row.classList.remove('selected'));
    tableBox.querySelector(`[data-testid="risk-row-${CSS.escape(code)}"]`)?.classList.add('selected');
    openPanel(code);
  };

  const openPanel = (code: string) => {
    closePanel(false);
    const unit = view.risk?.units.find((u) => sameUnit(u.code, code));
    view.panel = explanationPanel(code, unit, view, () => closePanel(true),
      (target, level) => navigate({ unit: shortCode(target), level, sel: undefined }));
    document.body.appendChild(view.panel);
    document.body.classList.add('panel-open');
  };
  const closePanel = (unselect: boolean) => {
    if (!view.panel) return;
    disposeCharts(view.panel);
    view.panel.remove();
    view.panel = null;
    document.body.classList.remove('panel-open');
    if (unselect) {
      if (view.sel) view.chart?.dispatchAction({ type: 'unselect', seriesIndex: 0, name: view.sel });
      view.sel = null;
      tableBox.querySelectorAll('tr.selected').forEach((row) => row.classList.remove('selected'));
      replaceUrl();
    }
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') closePanel(true);
  };
  document.addEventListener('keydown', onKey);

  const load = async () => {
    clear(body);
    body.appendChild(loading());
    try {
      const info = await get<UnitInfo>(`units/${encodeURIComponent(view.unit)}`, undefined, view.abort.signal);
      const levels = levelsUnder(info.level);
      view.level = levels.includes(wanted as RiskLevel) ? (wanted as RiskLevel) : defaultLevel(info.level);
      renderControls(levels);
      replaceUrl();
      const answer = await loadRiskMap(view.unit, view.level, view.period, view.abort.signal);
      view.risk = answer.risk;
      view.mapName = answer.mapName;
      view.features = answer.features;
      if (keyIndex(answer.risk, view.key) < 0 && view.key !== 'overall') {
        view.key = 'overall';
        replaceUrl();
      }
      renderControls(levels);
      clear(body);
      // What the page shows, for the end-to-end tests to wait on.
      body.dataset.unit = answer.risk.unit;
      body.dataset.level = answer.risk.level;
      body.dataset.period = answer.risk.period;
      if (!answer.risk.units.length) {
        body.appendChild(h('p', { class: 'panel muted' }, t('map.empty')));
        return;
      }
      const missing = answer.risk.units.length - view.features;
      body.appendChild(h('div', { class: 'risk-layout' },
        h('section', { class: 'panel risk-map-panel' },
          mapHead, mapEl, legendBox,
          h('p', { class: 'muted small map-note' }, t('map.hint'),
            missing > 0 ? h('span', { class: 'tag warn' }, t('map.noOutline', { n: fmtNum(missing) })) : null)),
        h('section', { class: 'panel risk-table-panel' }, tableHead, tableBox)));
      requestAnimationFrame(() => {
        refresh();
        if (view.sel && answer.risk.units.some((unit) => unit.code === view.sel)) select(view.sel);
        else if (view.sel) {
          view.sel = null;
          replaceUrl();
        }
      });
      void loadWarnings(answer.risk);
    } catch (error) {
      if (view.abort.signal.aborted) return;
      clear(body);
      body.appendChild(errorBox(error, () => void load()));
    }
  };

  const loadWarnings = async (risk: RiskMap) => {
    clear(warningsBox);
    const list = h('div', null, loading());
    warningsBox.append(h('div', { class: 'section-head' },
      h('div', null, h('h3', null, t('warn.title')), h('p', { class: 'muted small' }, t('warn.subtitle'))),
      h('span', { class: 'muted', 'data-testid': 'warnings-count' })), list);
    try {
      const answer = await get<unknown>('warnings', { unit: view.unit, period: view.period, limit: 200 }, view.abort.signal);
      const { items } = itemsOf<RiskWarning>(answer, 'warnings');
      clear(list);
      const count = warningsBox.querySelector('[data-testid="warnings-count"]');
      if (count) count.textContent = t('warn.count', { n: fmtNum(items.length) });
      if (!items.length) {
        list.appendChild(h('p', { class: 'muted' }, t('warn.none')));
        return;
      }
      list.appendChild(warningsTable(items.slice(0, WARNINGS_SHOWN), risk, (code) => select(code)));
      if (items.length > WARNINGS_SHOWN) {
        const more: HTMLButtonElement = h('button', {
          type: 'button', class: 'btn', 'data-testid': 'warnings-all',
          onclick: () => {
            clear(list);
            list.appendChild(warningsTable(items, risk, (code) => select(code)));
          },
        }, t('map.showAll', { n: fmtNum(items.length) }));
        list.appendChild(h('div', { class: 'table-footer' }, more));
      }
    } catch (error) {
      if (view.abort.signal.aborted) return;
      clear(list);
      list.appendChild(errorBox(error, () => void loadWarnings(risk)));
    }
  };

  void load();
  return () => {
    view.abort.abort();
    document.removeEventListener('keydown', onKey);
    closePanel(false);
  };
}

// The five colours with the count of each (and the score at which the grade starts).
function legend(risk: RiskMap, k: number, hover: (grade: Grade, on: boolean) => void): HTMLElement {
  const counts = gradeCounts(risk, k);
  const total = GRADES.reduce((sum, grade) => sum + counts[grade], 0);
  return h('div', { class: 'risk-legend-box' },
    h('span', { class: 'legend-title' }, t('map.legend', { units: t('map.unitsOf', { n: fmtNum(total), level: levelName(risk.level) }) })),
    h('ul', { class: 'risk-legend', 'data-testid': 'risk-legend' },
      ...GRADES.map((grade, i) => {
        let threshold = '';
        if (k < 0) {
          const value = risk.thresholds[i];
          threshold = grade === 'green' ? t('map.rest')
            : typeof value === 'number' ? t('map.threshold', { v: fmtFixed(value, 2) }) : t('map.thresholdNone');
        }
        return h('li', {
          class: `legend-item ${counts[grade] ? '' : 'empty'}`, 'data-testid': `legend-${grade}`, 'data-count': String(counts[grade]),
          title: `${gradeName(grade)} · ${gradeMeaning(grade)}${threshold ? ` · ${threshold}` : ''}`,
          onmouseenter: () => hover(grade, true), onmouseleave: () => hover(grade, false),
        },
        h('span', { class: 'swatch', style: `background:${GRADE_COLORS[grade]}`, 'aria-hidden': 'true' }),
        h('span', { class: 'legend-name' }, gradeName(grade), h('span', { class: 'legend-meaning' }, gradeMeaning(grade))),
        h('strong', { class: 'legend-count' }, t('map.legendCount', { n: fmtNum(counts[grade]) })),
        threshold ? h('span', { class: 'legend-threshold muted' }, threshold) : null);
      })));
}

function driverNames(risk: RiskMap, unit: RiskUnit): string {
  return unit.drivers.length ? listText(unit.drivers.map((id) => keyName(risk.key_types, id))) : t('map.none');
}

// The units, highest score (or index of the key type) first, the grade written out.
function unitTable(risk: RiskMap, k: number, selected: string | null,
                   on: { select: (code: string) => void; hover: (code: string, on: boolean) => void }): HTMLElement {
  const units = [...risk.units].sort(k < 0
    ? (a, b) => b.score - a.score
    : (a, b) => b.indexes[k] - a.indexes[k] || b.counts[k] - a.counts[k] || b.score - a.score);
  const head = k < 0
    ? h('tr', null, h('th', { class: 'num' }, t('map.rank')), h('th', null, t('map.unit')), h('th', null, t('map.grade')),
      h('th', { class: 'num' }, t('map.score')), h('th', { class: 'hide-phone' }, t('map.previous')),
      h('th', { class: 'hide-phone' }, t('map.drivers')))
    : h('tr', null, h('th', { class: 'num' }, t('map.rank')), h('th', null, t('map.unit')), h('th', null, t('map.grade')),
      h('th', { class: 'num' }, t('map.index')), h('th', { class: 'num' }, t('map.count')),
      h('th', { class: 'hide-phone' }, t('map.overallGrade')));
  const tbody = h('tbody');
  const row = (unit: RiskUnit, rank: number) => {
    const grade = shownGrade(unit, k);
    const name = h('a', {
      href: '#', onclick: (event: Event) => {
        event.preventDefault();
        on.select(unit.code);
      },
    }, unit.name);
    const cells = k < 0
      ? [h('td', { class: 'num' }, fmtFixed(unit.score, 2)),
        h('td', { class: 'hide-phone' }, gradeChip(unit.previous)),
        h('td', { class: 'hide-phone drivers-cell' }, driverNames(risk, unit))]
      : [h('td', { class: 'num' }, fmtFixed(unit.indexes[k], 2)),
        h('td', { class: 'num' }, fmtNum(unit.counts[k])),
        h('td', { class: 'hide-phone' }, gradeChip(unit.grade))];
    return h('tr', {
      class: `clickable ${unit.code === selected ? 'selected' : ''}`, 'data-testid': `risk-row-${unit.code}`,
      'data-grade': grade, 'data-score': String(unit.score),
      onclick: (event: Event) => {
        if ((event.target as HTMLElement).closest('a')) return;
        on.select(unit.code);
      },
      onmouseenter: () => on.hover(unit.code, true), onmouseleave: () => on.hover(unit.code, false),
    }, h('td', { class: 'num muted' }, String(rank)), h('td', null, name), h('td', null, gradeChip(grade)), ...cells);
  };
  units.slice(0, TABLE_ROWS).forEach((unit, i) => tbody.appendChild(row(unit, i + 1)));
  const table = h('table', { class: 'table risk-table', 'data-testid': 'risk-table' }, h('thead', null, head), tbody);
  if (units.length <= TABLE_ROWS) return table;
  const more: HTMLButtonElement = h('button', {
    type: 'button', class: 'btn', 'data-testid': 'risk-table-all',
    onclick: () => {
      units.slice(TABLE_ROWS).forEach((unit, i) => tbody.appendChild(row(unit, TABLE_ROWS + i + 1)));
      more.remove();
    },
  }, t('map.showAll', { n: fmtNum(units.length) }));
  return h('div', null, table, h('div', { class: 'table-footer' }, more));
}

// A unit's explanation: grade, score, change, complexity, drivers, observed against expected per
// key type, the history, and the way down a level.
function explanationPanel(code: string, unit: RiskUnit | undefined, view: View, close: () => void,
                          drill: (code: string, level: RiskLevel) => void): HTMLElement {
  const content = h('div', { class: 'drawer-body' }, loading());
  const panel = h('aside', { class: 'drawer risk-drawer', role: 'dialog', 'aria-modal': 'false', 'data-testid': 'risk-panel',
    'data-unit': code },
  h('div', { class: 'drawer-head' },
    h('div', null,
      h('h2', null, unit?.name ?? code),
      h('p', { class: 'muted' }, `${t('map.explain')} · ${view.level ? levelName(view.level) : ''} · ${periodLabel(view.period)}`)),
    h('button', { type: 'button', class: 'btn icon', 'aria-label': t('common.close'), 'data-testid': 'panel-close', onclick: close }, '✕')),
  content);

  get<RiskExplanation>('risk/unit', { unit: shortCode(code), period: view.period, history: historyLength(view.period) }, view.abort.signal)
    .then((ex) => {
      if (!panel.isConnected) return;
      panel.dataset.grade = ex.grade;
      clear(content);
      fillExplanation(content, ex, view, drill);
    }, (error) => {
      if (!panel.isConnected || view.abort.signal.aborted) return;
      clear(content);
      content.appendChild(errorBox(error));
    });
  return panel;
}

function changeLine(ex: RiskExplanation): HTMLElement {
  if (!ex.previous) return h('span', { class: 'muted' }, t('map.noPrevious'));
  const now = GRADES.indexOf(ex.grade);
  const before = GRADES.indexOf(ex.previous);
  const tone = now < before ? 'tone-bad' : now > before ? 'tone-good' : 'tone-flat';
  const word = now < before ? `▲ ${t('map.worse')}` : now > before ? `▼ ${t('map.better')}` : t('map.same');
  const delta = ex.previous_score === null ? '' : ` (${ex.score - ex.previous_score >= 0 ? '+' : ''}${fmtFixed(ex.score - ex.previous_score, 2)})`;
  return h('span', { class: 'risk-change', 'data-testid': 'panel-change' },
    h('span', { class: `chg ${tone}` }, word), ' ',
    h('span', { class: 'muted' }, t('map.prevText', {
      grade: gradeName(ex.previous),
      score: ex.previous_score === null ? '—' : fmtFixed(ex.previous_score, 2),
    }), delta));
}

function fillExplanation(content: HTMLElement, ex: RiskExplanation, view: View,
                         drill: (code: string, level: RiskLevel) => void): void {
  const drivers = new Set(ex.drivers);
  const name = (id: string) => label(ex.dimensions.find((d) => d.key_type === id), id);
  const below = nextLevel(ex.level);
  const history = h('div', { class: 'chart small', 'data-testid': 'history-chart' });
  append(content, [
    h('div', { class: 'risk-summary' },
      h('div', { class: 'risk-grade-big' }, gradeChip(ex.grade, true, 'panel-grade')),
      h('div', { class: 'risk-score' },
        h('span', { class: 'muted' }, t('map.score')),
        h('span', { class: 'big-num', 'data-testid': 'panel-score', 'data-value': String(ex.score) }, fmtFixed(ex.score, 2))),
      h('div', { class: 'risk-change-line' }, h('span', { class: 'muted' }, t('map.change')), changeLine(ex))),
    ex.raw_grade !== ex.grade ? h('p', { class: 'tag warn' }, t('map.held', { grade: gradeName(ex.raw_grade) })) : null,
    h('dl', { class: 'facts' },
      h('dt', null, t('map.complexity')),
      h('dd', null, fmtFixed(ex.complexity, 2), ex.complexity_imputed ? h('span', { class: 'tag warn' }, t('map.imputed')) : null),
      h('dt', null, t('map.drivers')),
      h('dd', { 'data-testid': 'panel-drivers' }, ex.drivers.length
        ? ex.drivers.map((id) => h('span', { class: 'driver-chip' }, name(id)))
        : h('span', { class: 'muted' }, t('map.none')))),
    h('p', { class: 'muted small' }, t('map.scoreHint')),
    h('div', { class: 'panel-actions' },
      below ? h('button', { type: 'button', class: 'btn primary', 'data-testid': 'drill-down',
        onclick: () => drill(ex.code, below) }, `${t('map.drill', { level: levelName(below) })} ›`)
        : h('span', { class: 'muted small' }, t('map.finest')),
      h('a', { class: 'btn', href: href('overview', { unit: shortCode(ex.code), period: view.period }) }, t('common.openOverview'))),
    h('div', { class: 'section-head' }, h('h3', null, t('map.dimensions'))),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table dims-table', 'data-testid': 'dimensions-table' },
      h('thead', null, h('tr', null,
        h('th', null, t('map.keyType')), h('th', { class: 'num' }, t('map.weight')),
        h('th', { class: 'num' }, t('map.observed')), h('th', { class: 'num' }, t('map.expected')),
        h('th', { class: 'num', title: t('map.indexHint') }, t('map.index')))),
      h('tbody', null, ...ex.dimensions.map((d) => {
        const driver = drivers.has(d.key_type);
        const high = d.index > 1 && d.count > d.expected;
        return h('tr', { class: driver ? 'driver' : '', 'data-testid': `dim-row-${d.key_type}`, 'data-index': String(d.index) },
          h('td', null, label(d), driver ? h('span', { class: 'driver-tag' }, t('map.driver')) : null),
          h('td', { class: 'num' }, fmtNum(d.weight, 1)),
          h('td', { class: 'num' }, fmtNum(d.count, 1)),
          h('td', { class: 'num' }, fmtNum(d.expected, d.expected < 10 ? 2 : 1)),
          h('td', { class: 'num' },
            h('span', { class: 'index-bar', 'aria-hidden': 'true' },
              h('span', { class: high ? 'over' : '', style: `width:${Math.min(100, (d.index / 3) * 100).toFixed(1)}%` }),
              h('span', { class: 'one' })),
            h('span', { class: high ? 'tone-bad index-text' : 'index-text' }, fmtFixed(d.index, 2))));
      })))),
    h('p', { class: 'muted small' }, t('map.indexHint')),
    h('div', { class: 'section-head' }, h('h3', null, t('map.history'))),
    history]);

  requestAnimationFrame(() => {
    if (!history.isConnected) return;
    const points = [...ex.history, { period: ex.period, grade: ex.grade, score: ex.score }];
    mountChart(history, {
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      tooltip: {
        trigger: 'axis',
        formatter: (params: unknown) => {
          const first = (Array.isArray(params) ? params[0] : params) as { dataIndex: number };
          const point = points[first.dataIndex];
          if (!point) return '';
          return `${periodLabel(point.period)}<br/>${gradeName(point.grade)} · ${t('map.score')} ${fmtFixed(point.score, 2)}`;
        },
      },
      xAxis: { type: 'category', data: points.map((p) => p.period), axisLabel: { fontSize: 11 } },
      yAxis: { type: 'value', axisLabel: { fontSize: 11 } },
      series: [{
        type: 'line', name: t('map.score'), symbol: 'circle', symbolSize: 10, lineStyle: { width: 2, color: '#90a4ae' },
        data: points.map((p) => ({ value: Number(p.score.toFixed(3)), itemStyle: { color: GRADE_COLORS[p.grade], borderColor: '#fff', borderWidth: 1 } })),
      }],
    });
  });
}

function warningsTable(items: RiskWarning[], risk: RiskMap, select: (code: string) => void): HTMLElement {
  const shown = new Set(risk.units.map((unit) => unit.code));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table warnings-table' },
    h('thead', null, h('tr', null,
      h('th', null, t('warn.unit')), h('th', null, t('warn.keyType')), h('th', null, t('warn.grade')),
      h('th', { class: 'num' }, t('map.score')), h('th', null, t('warn.evidence')),
      h('th', { class: 'hide-phone' }, t('warn.grids')), h('th', { class: 'hide-phone' }, t('warn.created')))),
    h('tbody', null, ...items.map((item) => {
      const ev = item.evidence ?? {};
      const unitCell = shown.has(item.unit)
        ? h('a', { href: '#', onclick: (e: Event) => { e.preventDefault(); select(item.unit); } }, item.unit_name)
        : h('span', null, item.unit_name);
      return h('tr', { 'data-testid': `warning-${item.id}` },
        h('td', null, unitCell, ' ', h('span', { class: 'tag' }, levelName(item.level))),
        h('td', null, keyName(risk.key_types, item.key_type)),
        h('td', null, gradeChip(item.grade), ev.entering ? h('span', { class: 'new-tag' }, t('warn.entering')) : null),
        h('td', { class: 'num' }, fmtFixed(item.score, 2)),
        h('td', null, t('warn.evidenceText', {
          count: fmtNum(ev.count ?? null, 1), expected: fmtNum(ev.expected ?? null, 1), index: fmtFixed(ev.index ?? null, 2),
        })),
        h('td', { class: 'hide-phone', title: item.grids.join('\n') }, t('warn.gridsN', { n: fmtNum(item.grids.length) })),
        h('td', { class: 'hide-phone' }, fmtTime(item.created_at)));
    }))));
}
