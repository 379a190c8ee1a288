// League table (平安赛马榜): the district-level units ranked on the composite score, with rank
// changes and the weighted indicators; CSV/XLSX export.
import { get } from '../api';
import { COLORS, mountChart } from '../charts';
import { exportButtons, periodPicker } from '../components';
import { h, loadInto, loading, pageHead } from '../dom';
import { fmtFixed, fmtNum } from '../format';
import { label, lang, t } from '../i18n';
import { periodLabel } from '../period';
import { go, href } from '../router';
import { catalog, findItem, session, shortCode } from '../state';
import type { Catalog, League, LeagueRow } from '../types';

export function renderLeague(root: HTMLElement): () => void {
  const abort = new AbortController();
  const period = session.period;
  const body = h('div', null, loading());
  root.append(
    pageHead(t('league.title'), t('league.subtitle'),
      exportButtons('league', { period, lang: lang() }, `league-${period}`)),
    h('div', { class: 'toolbar' }, periodPicker(period, (next) => {
      session.period = next;
      go('league', { period: next });
    })),
    body);

  loadInto(body, abort.signal, async () => {
    const [league, cat] = await Promise.all([
      get<League>('league', { period, lang: lang() }, abort.signal),
      catalog(),
    ]);
    const box = h('div');
    render(box, league, cat);
    return Array.from(box.childNodes);
  });
  return () => abort.abort();
}

function render(body: HTMLElement, league: League, cat: Catalog | null): void {
  const rows = [...league.rows].sort((a, b) => a.rank - b.rank || b.score - a.score);
  body.appendChild(h('p', { class: 'meta-line' },
    h('strong', { 'data-testid': 'period-label' }, periodLabel(league.period)),
    h('span', { class: 'muted' }, t('period.through', { date: league.through }))));

  const chartEl = h('div', { class: 'chart league-chart', 'data-testid': 'league-chart' });
  body.appendChild(h('div', { class: 'panel' }, h('h3', null, t('league.chart')), chartEl));
  requestAnimationFrame(() => {
    if (!chartEl.isConnected) return;
    const shown = [...rows].reverse();
    const chart = mountChart(chartEl, {
      grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      xAxis: { type: 'value', axisLabel: { fontSize: 11 } },
      yAxis: { type: 'category', data: shown.map((row) => `${row.rank}. ${row.name}`), axisLabel: { fontSize: 12 } },
      series: [{
        type: 'bar', name: t('league.score'), barMaxWidth: 18,
        data: shown.map((row) => ({ value: row.score, itemStyle: { color: row.score >= 0 ? COLORS.good : COLORS.bad } })),
        label: { show: true, position: 'right', fontSize: 11, formatter: (p: unknown) => fmtFixed(Math.abs((p as { value: number }).value) < 0.005 ? 0 : (p as { value: number }).value, 2) },
      }],
    });
    chart.on('click', (event) => {
      const row = shown[(event as { dataIndex: number }).dataIndex];
      if (row) go('overview', { unit: shortCode(row.code), period: league.period });
    });
  });

  const weights = league.weights ?? [];
  const indicatorName = (id: string) => label(findItem(cat?.indicators, id), id);
  const better = (id: string) => findItem(cat?.indicators, id)?.higher_is_better;
  const head = h('tr', null,
    h('th', null, t('league.rank')),
    h('th', null, t('league.change')),
    h('th', null, t('league.unit')),
    h('th', { class: 'num' }, t('league.score')),
    h('th', { class: 'num hide-phone' }, t('league.residents')),
    ...weights.map((w) => h('th', { class: 'num hide-phone', title: better(w.indicator) ? t('league.higherBetter') : t('league.lowerBetter') },
      indicatorName(w.indicator), h('br'), h('span', { class: 'muted small' }, t('league.weight', { w: fmtNum(w.weight) })))));
  const table = h('table', { class: 'table league-table', 'data-testid': 'league-table' },
    h('thead', null, head),
    h('tbody', null, ...rows.map((row) => leagueRow(row, weights.map((w) => w.indicator), league.period))));
  body.appendChild(h('div', { class: 'table-wrap' }, table));
}

function rankChange(row: LeagueRow): HTMLElement {
  const change = row.rank_change;
  if (change === null || change === undefined || row.previous_rank === null) {
    return h('span', { class: 'chg tone-none', title: t('league.newRank') }, '—');
  }
  if (change === 0) return h('span', { class: 'chg tone-flat', title: t('league.same') }, '–');
  const up = change > 0;
  return h('span', { class: `chg ${up ? 'tone-good' : 'tone-bad'}`, title: t(up ? 'league.up' : 'league.down', { n: Math.abs(change) }) },
    `${up ? '▲' : '▼'}${Math.abs(change)}`);
}

function leagueRow(row: LeagueRow, indicators: string[], period: string): HTMLElement {
  return h('tr', { 'data-testid': `league-row-${row.code}`, 'data-code': row.code, class: row.rank <= 3 ? 'top' : '' },
    h('td', { 'data-testid': `league-rank-${row.code}` }, h('span', { class: `rank-badge r${row.rank}` }, String(row.rank))),
    h('td', null, rankChange(row)),
    h('td', null, h('a', { href: href('overview', { unit: shortCode(row.code), period }) }, row.name)),
    h('td', { class: 'num', 'data-testid': `league-score-${row.code}`, 'data-value': String(row.score) }, fmtFixed(row.score, 4)),
    h('td', { class: 'num hide-phone' }, fmtNum(row.residents)),
    ...indicators.map((id) => {
      const cell = row.indicators?.[id];
      return h('td', { class: 'num hide-phone', 'data-value': cell ? String(cell.value) : '' },
        cell ? fmtNum(cell.value) : '—',
        cell ? h('div', { class: 'muted small' }, t('league.per10k', { v: fmtFixed(cell.per_10k, 2) })) : null);
    }));
}
