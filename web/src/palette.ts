// Colours and the font of the charts and sparklines, apart from ECharts (charts.ts): the
// Overview's first paint needs them, not the chart library, which loads with the first chart.
export const COLORS = {
  primary: '#1976D2',
  good: '#388E3C',
  bad: '#D32F2F',
  neutral: '#9E9E9E',
  orange: '#F57C00',
  yellow: '#FBC02D',
  palette: ['#1976D2', '#F57C00', '#388E3C', '#7B1FA2', '#0097A7', '#C2185B', '#FBC02D', '#5D4037', '#455A64', '#D32F2F'],
};

export const FONT = '"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif';

// Disposing charts without loading ECharts: charts.ts registers its disposer when it loads, and
// until then there is no chart to dispose.
let disposer: ((root?: Element) => void) | null = null;
export function setChartDisposer(dispose: (root?: Element) => void): void {
  disposer = dispose;
}
// Disposes every chart inside `root` (or all of them).
export function disposeCharts(root?: Element): void {
  disposer?.(root);
}
