// ECharts, registered piece by piece (only what the pages draw) to keep the bundle small.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, MapChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, LineSeriesOption, MapSeriesOption } from 'echarts/charts';
import type { GridComponentOption, TooltipComponentOption } from 'echarts/components';
import { COLORS, FONT, setChartDisposer } from './palette';

// MapChart brings the geo component (registerMap, the choropleth of the risk map); the
// colours are set per region, so no visualMap component is needed.
echarts.use([BarChart, LineChart, MapChart, GridComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = ComposeOption<
  BarSeriesOption | LineSeriesOption | MapSeriesOption | GridComponentOption | TooltipComponentOption
>;
export type Chart = echarts.ECharts;

export { COLORS, FONT, disposeCharts } from './palette';

const live = new Set<{ chart: Chart; observer?: ResizeObserver }>();

const registeredMaps = new Set<string>();

// Registers a GeoJSON FeatureCollection under `name` once (the maps of the risk pages are keyed
// by unit and level; their outlines do not change while the app runs).
export function registerGeo(name: string, geojson: object): void {
  if (registeredMaps.has(name)) return;
  echarts.registerMap(name, geojson as Parameters<typeof echarts.registerMap>[1]);
  registeredMaps.add(name);
}

// Draws `option` into `el` (which must have a height); disposed by disposeCharts().
export function mountChart(el: HTMLElement, option: ChartOption, theme?: 'dark'): Chart {
  const chart = echarts.init(el, theme, { renderer: 'canvas' });
  chart.setOption({
    color: COLORS.palette,
    textStyle: { fontFamily: FONT },
    animationDuration: 300,
    ...option,
  });
  const entry: { chart: Chart; observer?: ResizeObserver } = { chart };
  if (typeof ResizeObserver !== 'undefined') {
    entry.observer = new ResizeObserver(() => chart.resize());
    entry.observer.observe(el);
  }
  live.add(entry);
  return chart;
}

// Disposes every chart inside `root` (or all of them); palette.ts's disposeCharts calls it.
function disposeLive(root?: Element): void {
  for (const entry of [...live]) {
    const dom = entry.chart.getDom();
    if (!root || root.contains(dom) || !dom.isConnected) {
      entry.observer?.disconnect();
      entry.chart.dispose();
      live.delete(entry);
    }
  }
}

setChartDisposer(disposeLive);
