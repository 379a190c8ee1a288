// Pieces several pages share: the period picker, the unit breadcrumb, export buttons.
import { download, get, type Query } from './api';
import { clear, h, toast } from './dom';
import { lang, t } from './i18n';
import { convertPeriod, dayText, kindOf, parseDay, periodAt, rangeOf, shiftPeriod, type PeriodKind } from './period';
import { go } from './router';
import { fullCode, rootUnits, session, shortCode, type PageId } from './state';
import type { UnitInfo, UnitRef } from './types';

export type PickerKind = Exclude<PeriodKind, 'ytd' | 'range'> | 'custom';
const PICKER_KINDS: Array<[PickerKind, Parameters<typeof t>[0]]> = [
  ['day', 'period.day'],
  ['week', 'period.week'],
  ['month', 'period.month'],
  ['quarter', 'period.quarter'],
  ['year', 'period.year'],
  ['custom', 'period.custom'],
];

function pickerKind(period: string): PickerKind {
  const kind = kindOf(period);
  if (!kind || kind === 'range' || kind === 'ytd') return 'custom';
  return kind;
}

// ISO weeks in a year: 53 when 28 December falls in week 53.
function weeksIn(year: number): number {
  return periodAt('week', Date.UTC(year, 11, 28)).endsWith('53') ? 53 : 52;
}

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function monthName(month: number): string {
  return lang() === 'zh' ? `${month}月` : MONTHS_EN[month - 1];
}

// The period picker: 日/周/月/季/年/自定义 (or only `kinds`), an input for the chosen kind,
// previous/next.
export function periodPicker(period: string, onChange: (period: string) => void,
                             kinds?: readonly PickerKind[]): HTMLElement {
  const latestDay = session.me?.latest_day ?? '';
  const latestYear = latestDay ? +latestDay.slice(0, 4) : new Date().getFullYear();
  const root = h('div', { class: 'period-picker', 'data-testid': 'period-picker' });
  let current = period;
  let kind = pickerKind(period);

  const emit = (next: string) => {
    if (!next || !rangeOf(next)) return;
    current = next;
    kind = pickerKind(next);
    render();
    onChange(next);
  };

  const yearOptions = (selected: number) => {
    const select = h('select', { 'aria-label': t('period.year') });
    for (let year = latestYear; year >= latestYear - 10; year--) {
      select.appendChild(h('option', { value: String(year), selected: year === selected }, String(year)));
    }
    return select;
  };

  const inputFor = (): HTMLElement => {
    const range = rangeOf(current);
    const max = latestDay || undefined;
    switch (kind) {
      case 'day':
        return h('input', { type: 'date', value: current, max, 'aria-label': t('period.day'),
          onchange: (e: Event) => emit((e.target as HTMLInputElement).value) });
      case 'week': {
        // Selects rather than <input type=week|month>: those are missing in some browsers and
        // follow the browser's language rather than the app's.
        const weekYear = +current.slice(0, 4);
        const year = yearOptions(weekYear);
        const week = h('select', { 'aria-label': t('period.week'), 'data-testid': 'period-week-select' });
        const weeks = weeksIn(weekYear);
        for (let w = 1; w <= weeks; w++) {
          const value = `${weekYear}-W${String(w).padStart(2, '0')}`;
          const range = rangeOf(value)!;
          week.appendChild(h('option', { value: String(w), selected: value === current },
            `${t('period.weekN', { w })} (${dayText(range[0]).slice(5)}–${dayText(range[1]).slice(5)})`));
        }
        const change = () => {
          const y = +year.value;
          const w = Math.min(+week.value, weeksIn(y));
          emit(`${y}-W${String(w).padStart(2, '0')}`);
        };
        year.addEventListener('change', change);
        week.addEventListener('change', change);
        return h('span', { class: 'inline' }, year, week);
      }
      case 'month': {
        const year = yearOptions(+current.slice(0, 4));
        const month = h('select', { 'aria-label': t('period.month'), 'data-testid': 'period-month-select' },
          ...Array.from({ length: 12 }, (_, i) => h('option', { value: String(i + 1).padStart(2, '0'),
            selected: +current.slice(5, 7) === i + 1 }, monthName(i + 1))));
        const change = () => emit(`${year.value}-${month.value}`);
        year.addEventListener('change', change);
        month.addEventListener('change', change);
        return h('span', { class: 'inline' }, year, month);
      }
      case 'quarter': {
        const year = yearOptions(+current.slice(0, 4));
        const quarter = h('select', { 'aria-label': t('period.quarter') },
          ...[1, 2, 3, 4].map((q) => h('option', { value: String(q), selected: current.endsWith(`Q${q}`) }, `Q${q}`)));
        const change = () => emit(`${year.value}Q${quarter.value}`);
        year.addEventListener('change', change);
        quarter.addEventListener('change', change);
        return h('span', { class: 'inline' }, year, quarter);
      }
      case 'year': {
        const year = yearOptions(+current);
        year.addEventListener('change', () => emit(year.value));
        return year;
      }
      case 'custom':
      default: {
        const from = h('input', { type: 'date', value: range ? dayText(range[0]) : '', max, 'aria-label': t('common.from') });
        const to = h('input', { type: 'date', value: range ? dayText(range[1]) : '', max, 'aria-label': t('common.to') });
        const apply = () => {
          const a = parseDay(from.value);
          const b = parseDay(to.value);
          if (Number.isNaN(a) || Number.isNaN(b) || a > b) {
            toast(t('period.badRange'), 'error');
            return;
          }
          emit(`${from.value}..${to.value}`);
        };
        return h('span', { class: 'inline' }, from, h('span', { class: 'muted' }, '–'), to,
          h('button', { type: 'button', class: 'btn small', onclick: apply }, t('period.apply')));
      }
    }
  };

  function render() {
    clear(root);
    const tabs = h('div', { class: 'seg', role: 'tablist', 'aria-label': t('period.label') });
    for (const [id, key] of PICKER_KINDS.filter(([id]) => !kinds || kinds.includes(id))) {
      tabs.appendChild(h('button', {
        type: 'button', role: 'tab', class: id === kind ? 'active' : '', 'aria-selected': String(id === kind),
        'data-testid': `period-${id}`,
        onclick: () => {
          if (id === kind) return;
          if (id === 'custom') {
            kind = 'custom';
            current = convertPeriod(current, 'range', latestDay);
            render();
            return;
          }
          emit(convertPeriod(current, id, latestDay));
        },
      }, t(key)));
    }
    const stepper = (steps: number, text: string, title: string) => h('button', {
      type: 'button', class: 'btn icon', title, 'aria-label': title,
      disabled: steps > 0 && !!latestDay && (rangeOf(shiftPeriod(current, steps))?.[0] ?? 0) > parseDay(latestDay),
      onclick: () => emit(shiftPeriod(current, steps)),
    }, text);
    root.append(tabs, h('div', { class: 'period-input' },
      stepper(-1, '‹', t('period.prev')), inputFor(), stepper(1, '›', t('period.next'))));
  }
  render();
  return root;
}

// The path from the user's top unit (the city, or their scope) down to `unit`, each level a
// link upwards, and a menu of the unit's children to drill down.
export function unitBreadcrumb(unit: string, onNavigate: (code: string) => void): HTMLElement {
  const root = h('nav', { class: 'breadcrumb', 'data-testid': 'breadcrumb', 'aria-label': 'breadcrumb' },
    h('span', { class: 'muted' }, '…'));
  get<UnitInfo>(`units/${encodeURIComponent(unit)}`).then((info) => {
    clear(root);
    const path = visiblePath(info);
    path.forEach((item, index) => {
      const last = index === path.length - 1;
      if (index > 0) root.appendChild(h('span', { class: 'sep', 'aria-hidden': 'true' }, '›'));
      root.appendChild(last
        ? h('span', { class: 'crumb current', 'aria-current': 'page', 'data-testid': `crumb-${fullCode(item.code)}`, 'data-level': item.level }, item.name)
        : h('a', { class: 'crumb', href: '#', 'data-testid': `crumb-${fullCode(item.code)}`, 'data-level': item.level,
            onclick: (e: Event) => { e.preventDefault(); onNavigate(shortCode(item.code)); } }, item.name));
    });
    const children = info.children ?? [];
    if (children.length) {
      const select = h('select', { class: 'child-select', 'aria-label': t('common.children'), 'data-testid': 'child-select',
        onchange: (e: Event) => {
          const value = (e.target as HTMLSelectElement).value;
          if (value) onNavigate(shortCode(value));
        } },
        h('option', { value: '' }, t('common.pickChild')),
        ...children.map((child) => h('option', { value: child.code }, child.name)));
      root.appendChild(select);
    }
  }, () => {
    clear(root);
    root.appendChild(h('span', { class: 'crumb current' }, unit));
  });
  return root;
}

// The unit's path, cut to start at the user's home or scope (a district analyst never sees
// the levels above their district; everyone else starts at the city).
export function visiblePath(info: UnitInfo): UnitRef[] {
  const path = [...(info.path ?? [])];
  if (!path.length || fullCode(path[path.length - 1].code) !== fullCode(info.code)) {
    path.push({ code: info.code, name: info.name, level: info.level });
  }
  const roots = new Set(rootUnits(session.me));
  let start = path.findIndex((item) => roots.has(fullCode(item.code)));
  if (start < 0) start = path.findIndex((item) => item.level === 'city');
  return path.slice(Math.max(start, 0));
}

// CSV and XLSX buttons for /api/export/{what}.
export function exportButtons(what: 'report' | 'series' | 'league' | 'events', query: Query, baseName: string): HTMLElement {
  const button = (format: 'csv' | 'xlsx', text: string) => {
    const el: HTMLButtonElement = h('button', {
      type: 'button', class: 'btn', 'data-testid': `export-${format}`,
      onclick: async () => {
        el.disabled = true;
        const before = el.textContent;
        el.textContent = t('common.exporting');
        try {
          await download(`export/${what}`, { ...query, format }, `${baseName}.${format}`);
        } catch (error) {
          toast(error instanceof Error ? error.message : String(error), 'error');
        } finally {
          el.disabled = false;
          el.textContent = before;
        }
      },
    }, text);
    return el;
  };
  return h('span', { class: 'export-buttons' }, button('csv', t('common.exportCsv')), button('xlsx', t('common.exportXlsx')));
}

// A unit's level in words.
export function levelName(level: string): string {
  const key = `level.${level}` as Parameters<typeof t>[0];
  const text = t(key);
  return text === key ? level : text;
}


// The head row of a page about one unit and period: the breadcrumb and the period picker, each
// moving the session and the page's route.
export function unitPeriodRow(page: PageId, unit: string, period: string): HTMLElement {
  return h('div', { class: 'head-row' },
    unitBreadcrumb(unit, (code) => {
      session.unit = code;
      go(page, { unit: code, period });
    }),
    periodPicker(period, (next) => {
      session.period = next;
      go(page, { unit, period: next });
    }));
}
