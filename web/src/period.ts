// The period grammar shared with the CLI and the API: 2024 · 2024Q2 · 2024-06 · 2024-W23 ·
// 2024-06-15 · 2024-06-01..2024-06-15 · ytd:2024-06-15. Dates are civil dates (no zone).
import { lang, t } from './i18n';

export type PeriodKind = 'day' | 'week' | 'month' | 'quarter' | 'year' | 'range' | 'ytd';

const DAY_MS = 86400000;
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

// 'YYYY-MM-DD' → UTC milliseconds; NaN when malformed.
export function parseDay(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return NaN;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3]);
  const d = new Date(ms);
  return d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3] ? ms : NaN;
}

export function dayText(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function isoWeekOf(ms: number): { year: number; week: number } {
  const d = new Date(ms);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = ms + (3 - weekday) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const firstThursday = weekMonday(year, 1) + 3 * DAY_MS;
  return { year, week: 1 + Math.round((thursday - firstThursday) / (7 * DAY_MS)) };
}

function weekMonday(year: number, week: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7;
  return jan4 - weekday * DAY_MS + (week - 1) * 7 * DAY_MS;
}

export function kindOf(period: string): PeriodKind | null {
  if (/^\d{4}$/.test(period)) return 'year';
  if (/^\d{4}Q[1-4]$/.test(period)) return 'quarter';
  if (/^\d{4}-\d{2}$/.test(period)) return 'month';
  if (/^\d{4}-W\d{2}$/.test(period)) return 'week';
  if (/^\d{4}-\d{2}-\d{2}$/.test(period)) return 'day';
  if (/^\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}$/.test(period)) return 'range';
  if (/^ytd:\d{4}-\d{2}-\d{2}$/.test(period)) return 'ytd';
  return null;
}

// First and last day (inclusive) of a period, as UTC milliseconds.
export function rangeOf(period: string): [number, number] | null {
  const kind = kindOf(period);
  switch (kind) {
    case 'year': {
      const y = +period;
      return [Date.UTC(y, 0, 1), Date.UTC(y, 11, 31)];
    }
    case 'quarter': {
      const y = +period.slice(0, 4);
      const q = +period.slice(5);
      return [Date.UTC(y, (q - 1) * 3, 1), Date.UTC(y, q * 3, 0)];
    }
    case 'month': {
      const y = +period.slice(0, 4);
      const m = +period.slice(5, 7);
      return [Date.UTC(y, m - 1, 1), Date.UTC(y, m, 0)];
    }
    case 'week': {
      const monday = weekMonday(+period.slice(0, 4), +period.slice(6));
      return [monday, monday + 6 * DAY_MS];
    }
    case 'day': {
      const d = parseDay(period);
      return Number.isNaN(d) ? null : [d, d];
    }
    case 'range': {
      const [a, b] = period.split('..').map(parseDay);
      return Number.isNaN(a) || Number.isNaN(b) || a > b ? null : [a, b];
    }
    case 'ytd': {
      const d = parseDay(period.slice(4));
      return Number.isNaN(d) ? null : [Date.UTC(new Date(d).getUTCFullYear(), 0, 1), d];
    }
    default:
      return null;
  }
}

// The period of `kind` that holds the day `ms`.
export function periodAt(kind: PeriodKind, ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  switch (kind) {
    case 'year':
      return String(y);
    case 'quarter':
      return `${y}Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
    case 'month':
      return `${y}-${pad(d.getUTCMonth() + 1)}`;
    case 'week': {
      const w = isoWeekOf(ms);
      return `${w.year}-W${pad(w.week)}`;
    }
    case 'day':
      return dayText(ms);
    case 'ytd':
      return `ytd:${dayText(ms)}`;
    case 'range':
      return `${dayText(Date.UTC(y, d.getUTCMonth(), 1))}..${dayText(ms)}`;
  }
}

// The same kind of period `steps` periods later (earlier when negative).
export function shiftPeriod(period: string, steps: number): string {
  const kind = kindOf(period);
  const range = rangeOf(period);
  if (!kind || !range) return period;
  switch (kind) {
    case 'year':
      return String(+period + steps);
    case 'quarter': {
      const index = +period.slice(0, 4) * 4 + (+period.slice(5) - 1) + steps;
      return `${Math.floor(index / 4)}Q${(index % 4) + 1}`;
    }
    case 'month': {
      const index = +period.slice(0, 4) * 12 + (+period.slice(5, 7) - 1) + steps;
      return `${Math.floor(index / 12)}-${pad((index % 12) + 1)}`;
    }
    case 'week':
      return periodAt('week', range[0] + steps * 7 * DAY_MS);
    case 'day':
      return dayText(range[0] + steps * DAY_MS);
    case 'range': {
      const length = range[1] - range[0] + DAY_MS;
      return `${dayText(range[0] + steps * length)}..${dayText(range[1] + steps * length)}`;
    }
    case 'ytd': {
      const d = new Date(range[1]);
      const y = d.getUTCFullYear() + steps;
      // 29 Feb → 28 Feb in a year without it.
      const day = Math.min(d.getUTCDate(), new Date(Date.UTC(y, d.getUTCMonth() + 1, 0)).getUTCDate());
      return `ytd:${dayText(Date.UTC(y, d.getUTCMonth(), day))}`;
    }
  }
}

// A period of another kind around the same time: the one holding the last day of `period`
// (or `latestDay`, when that comes first).
export function convertPeriod(period: string, kind: PeriodKind, latestDay?: string): string {
  const range = rangeOf(period);
  let anchor = range ? range[1] : Date.now();
  const latest = latestDay ? parseDay(latestDay) : NaN;
  if (!Number.isNaN(latest) && anchor > latest) anchor = latest;
  if (kind === 'range' && range) {
    const last = Math.min(range[1], anchor);
    return `${dayText(Math.min(range[0], last))}..${dayText(last)}`;
  }
  return periodAt(kind, anchor);
}

// Whether the period starts after the latest day of data (nothing to show yet).
export function isAfter(period: string, latestDay: string): boolean {
  const range = rangeOf(period);
  const latest = parseDay(latestDay);
  return !!range && !Number.isNaN(latest) && range[0] > latest;
}

function dayLabel(ms: number): string {
  const d = new Date(ms);
  const params = { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), mon: MONTHS_EN[d.getUTCMonth()] };
  return t('period.fmt.day', params);
}

// "2024年6月", "June 2024"-like text for a period.
export function periodLabel(period: string): string {
  const kind = kindOf(period);
  const range = rangeOf(period);
  if (!kind || !range) return period;
  const first = new Date(range[0]);
  const y = first.getUTCFullYear();
  switch (kind) {
    case 'year':
      return t('period.fmt.year', { y });
    case 'quarter':
      return t('period.fmt.quarter', { y, q: +period.slice(5) });
    case 'month':
      return t('period.fmt.month', { y, m: first.getUTCMonth() + 1, mon: MONTHS_EN[first.getUTCMonth()] });
    case 'week': {
      const text = t('period.fmt.week', { y: +period.slice(0, 4), w: +period.slice(6) });
      const sep = lang() === 'zh' ? '' : ' ';
      return `${text}${sep}(${dayText(range[0]).slice(5)}–${dayText(range[1]).slice(5)})`;
    }
    case 'day':
      return dayLabel(range[0]);
    case 'ytd': {
      const last = new Date(range[1]);
      return t('period.fmt.ytd', { y, m: last.getUTCMonth() + 1, d: last.getUTCDate(), mon: MONTHS_EN[last.getUTCMonth()] });
    }
    case 'range':
      return t('period.fmt.range', { a: dayText(range[0]), b: dayText(range[1]) });
  }
}
