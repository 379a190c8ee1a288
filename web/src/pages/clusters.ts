// Cluster analysis (聚类分析): for each of the 7 domains, the events by type, hour of day,
// weekday, and the sub-units with most events.
import { get } from '../api';
import { COLORS, mountChart } from '../charts';
import { unitPeriodRow } from '../components';
import { h, loadInto, loading, pageHead } from '../dom';
import { fmtNum, fmtPct } from '../format';
import { label, lang, t } from '../i18n';
import { periodLabel } from '../period';
import { href } from '../router';
import { catalog, findItem, session, shortCode } from '../state';
import type { Catalog, ClusterDomain, Clusters } from '../types';

export function renderClusters(root: HTMLElement): () => void {
  const abort = new AbortController();
  const { unit, period } = session;
  const body = h('div', null, loading());
  root.append(
    pageHead(t('clusters.title'), t('clusters.subtitle')),
    unitPeriodRow('clusters', unit, period),
    body);

  loadInto(body, abort.signal, async () => {
    const [clusters, cat] = await Promise.all([
      get<Clusters>('clusters', { unit, period, lang: lang() }, abort.signal),
      catalog(),
    ]);
    const grid = h('div', { class: 'cluster-grid' });
    for (const domain of clusters.domains) grid.appendChild(domainPanel(domain, cat, clusters.period));
    return [h('p', { class: 'meta-line' }, h('strong', null, clusters.unit_name), ' ',
      h('span', { 'data-testid': 'period-label' }, periodLabel(clusters.period))), grid];
  });
  return () => abort.abort();
}

function domainPanel(domain: ClusterDomain, cat: Catalog | null, period: string): HTMLElement {
  const typeName = (type: { type: string; zh?: string; en?: string }) =>
    label(findItem(cat?.types, type.type) ?? (type.zh || type.en ? { zh: type.zh, en: type.en } : undefined), type.type);
  const pie = h('div', { class: 'chart small', 'data-testid': `cluster-types-${domain.domain}` });
  const hours = h('div', { class: 'chart small' });
  const weekdays = h('div', { class: 'chart small' });
  const total = domain.events;
  const panel = h('section', { class: 'panel cluster', 'data-testid': `cluster-${domain.domain}` },
    h('div', { class: 'section-head' },
      h('h3', null, label(domain)),
      h('span', { class: 'big-count', 'data-value': String(total) }, t('clusters.events', { n: fmtNum(total) }))),
    h('div', { class: 'cluster-charts' },
      h('div', null, h('h4', null, t('clusters.byType')), pie),
      h('div', null, h('h4', null, t('clusters.byHour')), hours),
      h('div', null, h('h4', null, t('clusters.byWeekday')), weekdays),
      h('div', null, h('h4', null, t('clusters.topUnits')),
        domain.top_units.length
          ? h('ol', { class: 'top-units' }, ...domain.top_units.map((unit) => h('li', null,
              h('a', { href: href('clusters', { unit: shortCode(unit.code), period }) }, unit.name),
              h('span', { class: 'num' }, fmtNum(unit.events),
                total ? h('span', { class: 'muted small' }, ` ${fmtPct((unit.events / total) * 100)}`) : null))))
          : h('p', { class: 'muted' }, t('common.none')))));

  requestAnimationFrame(() => {
    if (!panel.isConnected) return;
    const types = domain.by_type.filter((x) => x.events > 0).reverse(); // largest at the top
    mountChart(pie, {
      grid: { left: 8, right: 96, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      xAxis: { type: 'value', minInterval: 1, axisLabel: { show: false }, splitLine: { show: false } },
      yAxis: { type: 'category', data: types.map(typeName), axisLabel: { fontSize: 11 } },
      series: [{
        type: 'bar', name: t('clusters.byType'), barMaxWidth: 16,
        data: types.map((x, i) => ({ value: x.events, itemStyle: { color: COLORS.palette[(types.length - 1 - i) % COLORS.palette.length] } })),
        label: {
          show: true, position: 'right', fontSize: 10,
          formatter: (p: unknown) => {
            const value = (p as { value: number }).value;
            return total ? `${fmtNum(value)} (${fmtPct((value / total) * 100)})` : fmtNum(value);
          },
        },
      }],
    });
    mountChart(hours, {
      grid: { left: 36, right: 8, top: 12, bottom: 24 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: domain.by_hour.map((_, h) => String(h)), axisLabel: { fontSize: 10, interval: 2 } },
      yAxis: { type: 'value', minInterval: 1, axisLabel: { fontSize: 10 } },
      series: [{ type: 'bar', name: t('clusters.byHour'), data: domain.by_hour, itemStyle: { color: COLORS.primary } }],
    });
    const names = t('clusters.weekdays').split(',');
    mountChart(weekdays, {
      grid: { left: 36, right: 8, top: 12, bottom: 24 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: names, axisLabel: { fontSize: 10 } },
      yAxis: { type: 'value', minInterval: 1, axisLabel: { fontSize: 10 } },
      series: [{
        type: 'bar', name: t('clusters.byWeekday'),
        data: domain.by_weekday.map((v, i) => ({ value: v, itemStyle: { color: i >= 5 ? COLORS.orange : COLORS.primary } })),
      }],
    });
  });
  return panel;
}
