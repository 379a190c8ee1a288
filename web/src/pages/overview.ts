// Overview (总览): the 33 indicators in their 7 domains and the 9 key types for one unit and
// period, each with 同比/环比 and a sparkline; a card opens its trend and its breakdown by
// sub-unit, where a sub-unit drills down. Below, the closed loop (闭环处置: warnings, tasks,
// timeliness, outcomes) for roles the server shows it to.
import { ApiError, get } from '../api';
import type { mountChart } from '../charts';
import { COLORS, disposeCharts } from '../palette';
import { exportButtons, levelName, periodPicker, unitBreadcrumb } from '../components';
import { append, clear, errorBox, h, loading, pageHead, svg } from '../dom';
import { changeView, fmtDuration, fmtNum, fmtPct } from '../format';
import { label, lang, t } from '../i18n';
import { periodLabel } from '../period';
import { go, href, replaceRoute } from '../router';
import { catalog, session, shortCode } from '../state';
import { OUTCOMES, outcomeName } from '../tasks';
import type { Breakdown, Catalog, Freshness, IndicatorFigure, LoopFigures, LoopMetrics, Report, Series } from '../types';

interface View {
  unit: string;
  period: string;
  report: Report | null;
  catalog: Catalog | null;
  series: Map<string, Series>;
  abort: AbortController;
  panel: HTMLElement | null;
}

export function renderOverview(root: HTMLElement, params: URLSearchParams): () => void {
  const view: View = {
    unit: session.unit,
    period: session.period,
    report: null,
    catalog: null,
    series: new Map(),
    abort: new AbortController(),
    panel: null,
  };
  const navigate = (unit: string, keepIndicator = true) => {
    const ind = keepIndicator ? new URLSearchParams(location.hash.split('?')[1] ?? '').get('ind') ?? undefined : undefined;
    session.unit = unit;
    go('overview', { unit, period: view.period, ind });
  };

  const head = h('div', { class: 'overview-head' },
    h('div', { class: 'head-row' },
      unitBreadcrumb(view.unit, (code) => navigate(code)),
      periodPicker(view.period, (period) => {
        session.period = period;
        go('overview', { unit: view.unit, period, ind: params.get('ind') ?? undefined });
      })));
  const meta = h('div', { class: 'head-meta' });
  head.appendChild(meta);
  const body = h('div', { class: 'overview-body', 'data-testid': 'overview-body' }, loading());
  root.append(head, body);

  const load = async () => {
    clear(body);
    body.appendChild(loading());
    // The trends behind the sparklines are asked for with the report, not after the cards are
    // drawn: one round trip and one layout less before the cards are complete.
    const trends = get<{ series: Series[] }>('trends', { unit: view.unit, period: view.period, count: 13 },
      view.abort.signal);
    trends.catch(() => undefined); // read (or dropped) by loadSparklines
    try {
      const [report, cat] = await Promise.all([
        get<Report>('report', { unit: view.unit, period: view.period, lang: lang() }, view.abort.signal),
        catalog(),
      ]);
      view.report = report;
      view.catalog = cat;
      clear(body);
      // What the cards show, for the end-to-end tests to wait on.
      body.dataset.unit = view.unit;
      body.dataset.period = view.period;
      renderMeta(meta, view);
      renderCards(body, view, (id) => openPanel(id));
      body.appendChild(loopSection(view, navigate));
      loadSparklines(view, trends);
      const ind = params.get('ind');
      if (ind && findFigure(report, ind)) openPanel(ind);
    } catch (error) {
      if (view.abort.signal.aborted) return;
      clear(body);
      body.appendChild(errorBox(error, () => void load()));
    }
  };

  const openPanel = (id: string) => {
    closePanel(false);
    const figure = view.report && findFigure(view.report, id);
    if (!figure) return;
    replaceRoute(href('overview', { unit: view.unit, period: view.period, ind: id }));
    view.panel = detailPanel(view, figure, () => closePanel(true), (code) => navigate(code));
    document.body.appendChild(view.panel);
    document.body.classList.add('panel-open');
    root.querySelectorAll('.card.selected').forEach((el) => el.classList.remove('selected'));
    root.querySelector(`[data-testid="card-${CSS.escape(id)}"]`)?.classList.add('selected');
  };
  const closePanel = (updateUrl: boolean) => {
    if (!view.panel) return;
    disposeCharts(view.panel);
    view.panel.remove();
    view.panel = null;
    document.body.classList.remove('panel-open');
    root.querySelectorAll('.card.selected').forEach((el) => el.classList.remove('selected'));
    if (updateUrl) replaceRoute(href('overview', { unit: view.unit, period: view.period }));
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') closePanel(true);
  };
  document.addEventListener('keydown', onKey);

  void load();
  return () => {
    view.abort.abort();
    document.removeEventListener('keydown', onKey);
    closePanel(false);
  };
}

function findFigure(report: Report, id: string): IndicatorFigure | undefined {
  return report.indicators.find((f) => f.id === id) ?? report.key_types.find((f) => f.id === id);
}

function renderMeta(meta: HTMLElement, view: View): void {
  const report = view.report!;
  clear(meta);
  const title = `${report.unit_name} · ${t('overview.title')}`;
  meta.append(
    pageHead(title, undefined, exportButtons('report', { unit: view.unit, period: view.period, lang: lang() },
      `report-${shortCode(report.unit)}-${report.period}`)),
    h('div', { class: 'meta-line' },
      h('span', { class: 'tag' }, levelName(report.level)),
      h('strong', { 'data-testid': 'period-label' }, periodLabel(report.period)),
      h('span', { class: 'muted' }, t('period.range', { first: report.first, last: report.last })),
      h('span', { class: 'muted' }, t('period.through', { date: report.through })),
      report.complete ? null : h('span', { class: 'tag warn' }, t('period.incomplete'))),
    freshnessStrip(report.freshness ?? []));
}

function freshnessStrip(sources: Freshness[]): HTMLElement {
  return h('div', { class: 'freshness', 'data-testid': 'freshness' },
    h('span', { class: 'freshness-title' }, `${t('overview.freshness')}：`),
    ...sources.map((source) => h('span', {
      class: `source ${source.quiet ? 'quiet' : ''}`,
      'data-testid': `source-${source.source}`,
      title: `${label(source)} · ${t('overview.latest', { date: source.latest ?? '—' })} · ${t('overview.rate', { rate: fmtNum(source.daily_rate, 1) })}`,
    },
    h('span', { class: 'dot' }),
    label(source).replace(/\s*\(.*\)$/, ''),
    ' ',
    h('span', { class: 'muted' }, source.latest ? source.latest.slice(5) : '—'),
    source.quiet ? h('span', { class: 'quiet-tag' }, t('overview.quiet', { days: source.silent_days })) : null)));
}

function domainGroups(view: View): Array<{ id: string; name: string; figures: IndicatorFigure[] }> {
  const report = view.report!;
  const domains = view.catalog?.domains ?? [];
  const domainOf = (id: string) => view.catalog?.indicators.find((item) => item.id === id)?.domain ?? id.split('.')[0];
  const groups = new Map<string, IndicatorFigure[]>();
  for (const domain of domains) groups.set(domain.id, []);
  for (const figure of report.indicators) {
    const domain = domainOf(figure.id);
    if (!groups.has(domain)) groups.set(domain, []);
    groups.get(domain)!.push(figure);
  }
  return [...groups.entries()].filter(([, figures]) => figures.length).map(([id, figures]) => ({
    id,
    name: label(domains.find((d) => d.id === id), id),
    figures,
  }));
}

function renderCards(body: HTMLElement, view: View, open: (id: string) => void): void {
  const report = view.report!;
  for (const group of domainGroups(view)) {
    body.appendChild(h('section', { class: 'domain-row', 'data-testid': `domain-${group.id}` },
      h('h2', { class: 'domain-title' }, group.name),
      h('div', { class: 'cards' }, ...group.figures.map((figure) => card(figure, open)))));
  }
  if (report.key_types?.length) {
    body.appendChild(h('section', { class: 'domain-row key-row', 'data-testid': 'domain-key' },
      h('h2', { class: 'domain-title' }, t('overview.keyTypes')),
      h('div', { class: 'cards' }, ...report.key_types.map((figure) => card(figure, open)))));
  }
}

function card(figure: IndicatorFigure, open: (id: string) => void): HTMLElement {
  const unit = label(figure.unit);
  const yoy = changeView('yoy', figure.yoy, figure.higher_is_better, unit);
  const mom = changeView('mom', figure.mom, figure.higher_is_better, unit);
  const name = label(figure);
  return h('button', {
    type: 'button', class: `card ${figure.stale ? 'stale' : ''}`, 'data-testid': `card-${figure.id}`,
    'data-indicator': figure.id, 'aria-label': `${name} ${fmtNum(figure.value)}${unit}`,
    onclick: () => open(figure.id),
  },
  h('span', { class: 'card-name', title: name }, name,
    figure.stale ? h('span', { class: 'stale-tag', title: t('overview.stale', { date: figure.through }) }, '!') : null),
  h('span', { class: 'card-value' },
    h('span', { class: 'num', 'data-testid': `value-${figure.id}`, 'data-value': String(figure.value) }, fmtNum(figure.value)),
    h('span', { class: 'unit' }, unit),
    h('span', { class: `mini-arrow tone-${yoy.tone}`, 'aria-hidden': 'true' }, yoy.arrow)),
  h('span', { class: 'card-changes' },
    changeChip(t('cmp.yoy'), yoy, `yoy-${figure.id}`),
    changeChip(t('cmp.mom'), mom, `mom-${figure.id}`, 'mom')),
  h('span', { class: 'spark', 'data-testid': `spark-${figure.id}`, title: t('overview.sparkTitle') }));
}

function changeChip(name: string, view: ReturnType<typeof changeView>, testid: string, extra = ''): HTMLElement {
  return h('span', { class: `chg tone-${view.tone} ${extra}`, title: view.title, 'data-testid': testid },
    h('span', { class: 'chg-name' }, name), ' ', view.text);
}

function loadSparklines(view: View, request: Promise<{ series: Series[] }>): void {
  // Every card's trend in one request (GET /api/trends); a failure leaves the cards readable.
  void request.then(
    (trends) => {
      if (view.abort.signal.aborted) return;
      const byId = new Map(trends.series.map((series) => [series.indicator, series]));
      // Every box's width is read before any sparkline is drawn: reading one after drawing
      // another made the browser lay the page out again for each card (42 layouts, about a
      // quarter of a second on the first load).
      const draws: Array<() => void> = [];
      for (const figure of [...view.report!.indicators, ...view.report!.key_types]) {
        const series = byId.get(figure.id);
        if (!series) continue;
        view.series.set(figure.id, series);
        const target = document.querySelector<HTMLElement>(`[data-testid="spark-${CSS.escape(figure.id)}"]`);
        if (!target) continue;
        const width = target.clientWidth;
        draws.push(() => drawSparkline(target, series, figure, width));
      }
      for (const draw of draws) draw();
    },
    () => {
      // a missing sparkline leaves the card readable
    });
}

function drawSparkline(target: HTMLElement, series: Series, figure: IndicatorFigure, boxWidth: number): void {
  const values = series.points.map((p) => p.value);
  if (values.length < 2) return;
  // Drawn at the box's own size (no stretching, so the end dot stays round).
  const width = Math.max(60, Math.round(boxWidth) || 120);
  const height = 30;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (i: number) => (i / (values.length - 1)) * (width - 4) + 2;
  const y = (v: number) => height - 3 - ((v - min) / span) * (height - 6);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const last = values.length - 1;
  const colour = figure.higher_is_better ? COLORS.good : COLORS.primary;
  const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
  title.textContent = series.points.map((p) => `${p.period}: ${fmtNum(p.value)}`).join('\n');
  clear(target);
  target.appendChild(svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' },
    title,
    svg('polygon', { points: `${x(0)},${height} ${points} ${x(last)},${height}`, fill: colour, 'fill-opacity': 0.08 }),
    svg('polyline', { points, fill: 'none', stroke: colour, 'stroke-width': 1.5, 'stroke-linejoin': 'round' }),
    svg('circle', { cx: x(last), cy: y(values[last]), r: 2.2, fill: colour })));
}

function detailPanel(view: View, figure: IndicatorFigure, close: () => void, drill: (code: string) => void): HTMLElement {
  const report = view.report!;
  const unit = label(figure.unit);
  const yoy = changeView('yoy', figure.yoy, figure.higher_is_better, unit);
  const mom = changeView('mom', figure.mom, figure.higher_is_better, unit);
  const trend = h('div', { class: 'chart', 'data-testid': 'trend-chart' });
  const breakdownBox = h('div', { class: 'breakdown' }, loading());
  const panel = h('aside', { class: 'drawer', role: 'dialog', 'aria-modal': 'false', 'data-testid': 'detail-panel',
    'data-indicator': figure.id },
  h('div', { class: 'drawer-head' },
    h('div', null,
      h('h2', null, label(figure)),
      h('p', { class: 'muted' }, `${report.unit_name} · ${periodLabel(report.period)}`)),
    h('button', { type: 'button', class: 'btn icon', 'aria-label': t('common.close'), 'data-testid': 'panel-close', onclick: close }, '✕')),
  h('div', { class: 'drawer-body' },
    h('div', { class: 'detail-figure' },
      h('span', { class: 'big-num', 'data-testid': 'panel-value', 'data-value': String(figure.value) }, fmtNum(figure.value)),
      h('span', { class: 'unit' }, unit),
      h('span', { class: `chg tone-${yoy.tone}`, title: yoy.title }, `${t('cmp.yoy')} ${yoy.text}`),
      h('span', { class: `chg tone-${mom.tone}`, title: mom.title }, `${t('cmp.mom')} ${mom.text}`)),
    h('p', { class: 'muted small' }, yoy.title, h('br'), mom.title),
    figure.stale ? h('p', { class: 'tag warn' }, t('overview.stale', { date: figure.through })) : null,
    h('div', { class: 'section-head' }, h('h3', null, t('overview.trend')),
      exportButtons('series', { unit: view.unit, indicator: figure.id, period: view.period, count: 13, lang: lang() },
        `series-${figure.id}-${report.period}`)),
    trend,
    h('div', { class: 'section-head' }, h('h3', null, t('overview.breakdown')), h('span', { class: 'muted small' }, t('overview.drillHint'))),
    breakdownBox,
    h('p', null, h('a', { class: 'btn small', 'data-testid': 'panel-events',
      href: href('events', { unit: view.unit, period: view.period, indicator: figure.id }) },
    t('events.open')))));

  // Charts need a laid-out box: draw once the panel is in the document.
  requestAnimationFrame(() => {
    const cached = view.series.get(figure.id);
    const series = cached ? Promise.resolve(cached)
      : get<Series>('series', { unit: view.unit, indicator: figure.id, period: view.period, count: 13 });
    // ECharts loads with the first panel (the cards and sparklines do not need it).
    Promise.all([series, import('../charts')]).then(([s, charts]) => {
      view.series.set(figure.id, s);
      if (!trend.isConnected) return;
      charts.mountChart(trend, {
        grid: { left: 48, right: 16, top: 20, bottom: 28 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'category', data: s.points.map((p) => p.period), axisLabel: { fontSize: 11 } },
        yAxis: { type: 'value', minInterval: 1, axisLabel: { fontSize: 11 } },
        series: [{
          type: 'line', name: label(figure), data: s.points.map((p) => p.value), smooth: false, symbolSize: 6,
          areaStyle: { opacity: 0.08 }, lineStyle: { width: 2 },
        }],
      });
    }, (error) => {
      if (trend.isConnected) trend.replaceWith(errorBox(error));
    });

    Promise.all([
      get<Breakdown>('breakdown', { unit: view.unit, period: view.period, indicator: figure.id, lang: lang() }),
      import('../charts'),
    ]).then(
      ([breakdown, charts]) => {
        if (breakdownBox.isConnected) renderBreakdown(breakdownBox, breakdown, figure, drill, charts.mountChart);
      },
      (error) => {
        if (breakdownBox.isConnected) {
          clear(breakdownBox);
          breakdownBox.appendChild(errorBox(error));
        }
      });
  });
  return panel;
}

function renderBreakdown(box: HTMLElement, breakdown: Breakdown, figure: IndicatorFigure,
                         drill: (code: string) => void, mount: typeof mountChart): void {
  clear(box);
  const placed = breakdown.rows.filter((row) => !row.unplaced).sort((a, b) => b.value - a.value);
  const unplaced = breakdown.rows.filter((row) => row.unplaced);
  const rows = [...placed, ...unplaced];
  if (!placed.length) box.appendChild(h('p', { class: 'muted' }, t('overview.noChildren')));
  const total = rows.reduce((sum, row) => sum + row.value, 0);
  const nameOf = (row: (typeof rows)[number]) =>
    row.unplaced ? t('overview.unplaced') : lang() === 'en' && row.name_en ? row.name_en : row.name;

  if (rows.length) {
    const shown = rows.slice(0, 40).reverse(); // largest at the top of a horizontal bar chart
    const chartEl = h('div', { class: 'chart', style: `height:${Math.max(200, shown.length * 24 + 40)}px`, 'data-testid': 'breakdown-chart' });
    box.appendChild(chartEl);
    const chart = mount(chartEl, {
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      xAxis: { type: 'value', minInterval: 1, axisLabel: { fontSize: 11 } },
      yAxis: { type: 'category', data: shown.map(nameOf), axisLabel: { fontSize: 12 } },
      series: [{
        type: 'bar', name: label(figure), barMaxWidth: 18, cursor: 'pointer',
        data: shown.map((row) => ({ value: row.value, itemStyle: { color: row.unplaced ? COLORS.neutral : COLORS.primary } })),
        label: { show: true, position: 'right', fontSize: 11 },
      }],
    });
    chart.on('click', (event) => {
      const row = shown[(event as { dataIndex: number }).dataIndex];
      if (row?.code) drill(shortCode(row.code));
    });
  }

  const table = h('table', { class: 'table', 'data-testid': 'breakdown-table' },
    h('thead', null, h('tr', null,
      h('th', null, t('overview.rank')), h('th', null, t('common.unit')),
      h('th', { class: 'num' }, t('common.value')), h('th', { class: 'num' }, t('common.share')))),
    h('tbody', null, ...rows.map((row, index) => h('tr', {
      class: row.unplaced ? 'unplaced' : 'clickable',
      'data-testid': row.unplaced ? 'breakdown-row-unplaced' : `breakdown-row-${row.code}`,
      title: row.unplaced ? t('overview.unplacedHint') : undefined,
      onclick: row.code ? () => drill(shortCode(row.code!)) : undefined,
    },
    h('td', null, row.unplaced ? '' : String(index + 1)),
    h('td', null, row.code
      ? h('a', { href: href('overview', { unit: shortCode(row.code), period: session.period }),
          onclick: (e: Event) => { e.preventDefault(); drill(shortCode(row.code!)); } }, nameOf(row))
      : h('span', null, nameOf(row), ' ', h('span', { class: 'muted small' }, `(${t('overview.unplacedHint')})`))),
    h('td', { class: 'num', 'data-value': String(row.value) }, fmtNum(row.value)),
    h('td', { class: 'num' }, total ? fmtPct((row.value / total) * 100) : '—')))),
    h('tfoot', null, h('tr', null, h('td', null), h('td', null, t('common.total')),
      h('td', { class: 'num' }, fmtNum(total)), h('td', { class: 'num' }, total ? '100.00%' : '—'))));
  box.appendChild(h('div', { class: 'table-wrap' }, table));
}

// 闭环处置: GET /api/loop/metrics for the unit and period — warnings raised, the share that
// landed on a grid, tasks, on time and overdue, the median times to accept and to close, the
// outcomes — and the same by sub-unit. Hidden for a role the server refuses (403).
function loopSection(view: View, drill: (code: string) => void): HTMLElement {
  const content = h('div', { class: 'loop-content' }, loading());
  const section = h('section', { class: 'domain-row loop-row', 'data-testid': 'loop-section' },
    h('h2', { class: 'domain-title', title: t('loop.subtitle') }, t('loop.title')), content);
  get<LoopMetrics>('loop/metrics', { unit: view.unit, period: view.period }, view.abort.signal).then((metrics) => {
    clear(content);
    section.dataset.unit = metrics.unit;
    section.dataset.period = metrics.period;
    append(content, [loopCards(metrics.total), loopTable(metrics, drill)]);
  }, (error) => {
    if (view.abort.signal.aborted) return;
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      section.remove(); // not for this role (or a server without the closed loop)
      return;
    }
    clear(content);
    content.appendChild(errorBox(error));
  });
  return section;
}

function landedShare(m: LoopFigures): number | null {
  if (m.warnings > 0) return (m.landed / m.warnings) * 100;
  return null;
}

function loopCards(m: LoopFigures): HTMLElement {
  const figure = (id: string, name: string, value: string, raw: number | null, sub?: string | Node) =>
    h('div', { class: 'loop-card', 'data-testid': `loop-${id}`, 'data-value': raw === null ? '' : String(raw) },
      h('span', { class: 'card-name' }, name),
      h('span', { class: 'loop-value' }, value),
      sub ? h('span', { class: 'loop-sub muted' }, sub) : null);
  const share = landedShare(m);
  return h('div', { class: 'loop-cards' },
    figure('warnings', t('loop.warnings'), fmtNum(m.warnings), m.warnings),
    figure('landed', t('loop.landed'), share === null ? '—' : fmtPct(share), m.landed,
      t('loop.landedOf', { n: fmtNum(m.landed), share: share === null ? '—' : fmtPct(share) })),
    figure('tasks', t('loop.tasks'), fmtNum(m.tasks), m.tasks, t('loop.openClosed', { open: fmtNum(m.open), closed: fmtNum(m.closed) })),
    figure('on-time', t('loop.onTime'), fmtNum(m.on_time), m.on_time,
      m.closed ? fmtPct((m.on_time / m.closed) * 100) : undefined),
    figure('overdue', t('loop.overdue'), fmtNum(m.overdue), m.overdue),
    figure('median-accept', t('loop.medianAccept'), fmtDuration(m.median_accept_seconds), m.median_accept_seconds),
    figure('median-close', t('loop.medianClose'), fmtDuration(m.median_close_seconds), m.median_close_seconds),
    h('div', { class: 'loop-card outcomes', 'data-testid': 'loop-outcomes' },
      h('span', { class: 'card-name' }, t('loop.outcomes')),
      h('span', { class: 'outcome-list' }, ...OUTCOMES.map((o) => h('span', {
        class: `outcome-tag outcome-${o}`, 'data-testid': `loop-outcome-${o}`, 'data-value': String(m.outcomes?.[o] ?? 0),
      }, `${outcomeName(o)} ${fmtNum(m.outcomes?.[o] ?? 0)}`)))));
}

// The sub-units with a warning or a task first (most warnings first); those with neither behind
// a "show all" (a town has 20-odd communities, most of them quiet in a month).
function loopTable(metrics: LoopMetrics, drill: (code: string) => void): HTMLElement | null {
  if (!metrics.rows?.length) return null;
  const rows = [...metrics.rows].sort((a, b) => b.warnings - a.warnings || b.tasks - a.tasks || b.overdue - a.overdue);
  const active = rows.filter((row) => row.warnings || row.tasks);
  const quiet = rows.length - active.length;
  const tbody = h('tbody');
  const fill = (list: typeof rows) => {
    clear(tbody);
    for (const row of list) {
      const share = landedShare(row);
      tbody.appendChild(h('tr', { 'data-testid': `loop-row-${row.code}` },
        h('td', null, h('a', { href: href('overview', { unit: shortCode(row.code), period: metrics.period }),
          onclick: (e: Event) => { e.preventDefault(); drill(shortCode(row.code)); } }, row.name)),
        h('td', { class: 'num' }, fmtNum(row.warnings)),
        h('td', { class: 'num' }, share === null ? '—' : fmtPct(share)),
        h('td', { class: 'num' }, fmtNum(row.tasks)),
        h('td', { class: 'num hide-phone' }, fmtNum(row.open)),
        h('td', { class: 'num hide-phone' }, fmtNum(row.closed)),
        h('td', { class: 'num' }, fmtNum(row.on_time)),
        h('td', { class: `num ${row.overdue ? 'tone-bad' : ''}` }, fmtNum(row.overdue)),
        h('td', { class: 'num hide-phone' }, fmtDuration(row.median_accept_seconds)),
        h('td', { class: 'num hide-phone' }, fmtDuration(row.median_close_seconds))));
    }
  };
  fill(active);
  const footer = quiet ? h('div', { class: 'loop-footer muted small' },
    t('loop.quiet', { n: fmtNum(quiet) }), ' ',
    h('button', { type: 'button', class: 'btn small', 'data-testid': 'loop-show-all',
      onclick: (e: Event) => {
        fill(rows);
        (e.target as HTMLElement).closest('.loop-footer')?.remove();
      } }, t('loop.showAll', { n: fmtNum(rows.length) }))) : null;
  return h('div', null, h('div', { class: 'table-wrap loop-table-wrap' }, h('table', { class: 'table loop-table', 'data-testid': 'loop-table' },
    h('thead', null, h('tr', null,
      h('th', null, t('loop.rows')),
      h('th', { class: 'num' }, t('loop.warnings')),
      h('th', { class: 'num' }, t('loop.landed')),
      h('th', { class: 'num' }, t('loop.tasks')),
      h('th', { class: 'num hide-phone' }, t('loop.open')),
      h('th', { class: 'num hide-phone' }, t('loop.closed')),
      h('th', { class: 'num' }, t('loop.onTime')),
      h('th', { class: 'num' }, t('loop.overdue')),
      h('th', { class: 'num hide-phone' }, t('loop.medianAccept')),
      h('th', { class: 'num hide-phone' }, t('loop.medianClose')))),
    tbody)), footer);
}
