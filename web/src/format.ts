// Number, percentage, date and change formatting in the current language.
import { lang, locale, t } from './i18n';
import type { Comparison } from './types';

const numberFormats = new Map<string, Intl.NumberFormat>();

function numberFormat(maxFraction: number, minFraction = 0): Intl.NumberFormat {
  const key = `${locale()}|${maxFraction}|${minFraction}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale(), {
      maximumFractionDigits: maxFraction,
      minimumFractionDigits: minFraction,
      useGrouping: true,
    });
    numberFormats.set(key, format);
  }
  return format;
}

// 12345.678 → "12,345.68"; integers keep no decimals. null/undefined → "—".
export function fmtNum(value: number | null | undefined, maxFraction = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return numberFormat(maxFraction).format(value);
}

// A percentage to exactly two decimals, without sign: 54.41 → "54.41%".
export function fmtPct(value: number): string {
  return `${numberFormat(2, 2).format(Math.abs(value))}%`;
}

// A score or rate with a fixed number of decimals.
export function fmtFixed(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return numberFormat(digits, digits).format(value);
}

// "2024-06-30T18:12:36+08:00" → "2024-06-30 18:12"; Unix seconds too.
export function fmtTime(value: string | number | null | undefined, withSeconds = false): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'number') {
    const date = new Date(value * 1000);
    const pad = (n: number) => String(n).padStart(2, '0');
    // Shown in the city's zone (+08:00), whatever the browser's zone.
    const shifted = new Date(date.getTime() + 8 * 3600 * 1000);
    const text = `${shifted.getUTCFullYear()}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())} ` +
      `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}`;
    return withSeconds ? `${text}:${pad(shifted.getUTCSeconds())}` : text;
  }
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?/.exec(value);
  if (!match) return value;
  return `${match[1]} ${match[2]}${withSeconds && match[3] ? match[3] : ''}`;
}

export type Tone = 'good' | 'bad' | 'ns' | 'flat' | 'none';

export interface ChangeView {
  arrow: string; // ▲, ▼, or ''
  text: string; // "▼14.31%", "新增", "持平", "—"
  tone: Tone;
  title: string; // the full sentence for a tooltip
}

// How a YoY or MoM comparison reads: arrow, colour and a sentence. A rise of something bad
// (higher_is_better false) is red, of something good green; not significant grey.
export function changeView(kind: 'yoy' | 'mom', cmp: Comparison | null | undefined,
                           higherIsBetter: boolean, unit = ''): ChangeView {
  const name = t(kind === 'yoy' ? 'cmp.yoy' : 'cmp.mom');
  if (!cmp) return { arrow: '', text: '—', tone: 'none', title: `${name}：${t('cmp.none')}` };
  const sep = lang() === 'zh' ? '' : ' ';
  const base = t('cmp.base', { period: cmp.period, value: `${fmtNum(cmp.value)}${unit ? sep + unit : ''}` });
  const sigText = cmp.significant === true ? t('cmp.sig')
    : cmp.significant === false ? t('cmp.notSig') : t('cmp.noTest');
  const pText = typeof cmp.p_value === 'number' && cmp.significant !== null
    ? ` (p=${cmp.p_value < 0.001 ? cmp.p_value.toExponential(1) : cmp.p_value.toFixed(3)})` : '';
  const colon = lang() === 'zh' ? '：' : ': ';
  if (cmp.new || cmp.change_pct === null || cmp.change_pct === undefined) {
    const tone: Tone = cmp.significant === false ? 'ns' : higherIsBetter ? 'good' : 'bad';
    return {
      arrow: '▲',
      text: t('cmp.new'),
      tone,
      title: `${name}${colon}${t('cmp.new')}（${t('cmp.newBase')}）；${sigText}${pText}`,
    };
  }
  if (cmp.change_pct === 0) {
    return { arrow: '', text: t('cmp.flat'), tone: 'flat', title: `${name}${t('cmp.flat')}；${base}` };
  }
  const up = cmp.change_pct > 0;
  const good = up === higherIsBetter;
  const tone: Tone = cmp.significant === false ? 'ns' : good ? 'good' : 'bad';
  const arrow = up ? '▲' : '▼';
  const word = t(up ? 'cmp.up' : 'cmp.down');
  const title = lang() === 'zh'
    ? `${name}${word}${fmtPct(cmp.change_pct)}；${base}；${sigText}${pText}`
    : `${name} ${word} ${fmtPct(cmp.change_pct)}; ${base}; ${sigText}${pText}`;
  return { arrow, text: `${arrow}${fmtPct(cmp.change_pct)}`, tone, title };
}

// A span of seconds in words: 3小时12分钟 / 3 h 12 min; with `days`, 2天3小时 above a day.
// Under a minute: 不足1分钟 / < 1 min. null → "—".
export function fmtDuration(seconds: number | null | undefined, days = false): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const total = Math.floor(Math.abs(seconds) / 60); // whole minutes
  if (total < 1) return t('time.underMinute');
  const d = days ? Math.floor(total / 1440) : 0;
  const hours = Math.floor((total - d * 1440) / 60);
  const minutes = total % 60;
  const parts: string[] = [];
  if (d) parts.push(t('time.days', { n: d }));
  if (hours) parts.push(t('time.hours', { n: hours }));
  if (minutes && !d) parts.push(t('time.minutes', { n: minutes }));
  return parts.join(lang() === 'zh' ? '' : ' ');
}
