// A table filled page by page from a list endpoint answering {items, next}.
import { get, itemsOf, type Query } from '../api';
import { clear, errorBox, h, loading } from '../dom';
import { t } from '../i18n';

export interface Column<T> {
  title: string;
  cell: (item: T) => Node | string;
  className?: string;
}

export function pagedTable<T>(path: string, query: Query, columns: Column<T>[], rowId: (item: T) => string,
                              signal: AbortSignal, testid: string): HTMLElement {
  const tbody = h('tbody');
  const table = h('table', { class: 'table', 'data-testid': testid },
    h('thead', null, h('tr', null, ...columns.map((c) => h('th', { class: c.className ?? '' }, c.title)))),
    tbody);
  const footer = h('div', { class: 'table-footer' });
  const root = h('div', null, h('div', { class: 'table-wrap' }, table), footer);
  let rows = 0;

  const load = async (after?: string | number | null) => {
    clear(footer);
    footer.appendChild(loading());
    try {
      const answer = await get<unknown>(path, { ...query, after: after ?? undefined }, signal);
      const { items, next } = itemsOf<T>(answer);
      for (const item of items) {
        tbody.appendChild(h('tr', { 'data-testid': `${testid}-row-${rowId(item)}` },
          ...columns.map((c) => h('td', { class: c.className ?? '' }, c.cell(item)))));
      }
      rows += items.length;
      clear(footer);
      if (!rows) footer.appendChild(h('p', { class: 'muted' }, t('common.none')));
      if (next !== null && next !== undefined && next !== '' && items.length) {
        footer.appendChild(h('button', { type: 'button', class: 'btn', 'data-testid': 'more', onclick: () => void load(next) },
          t('common.more')));
      }
    } catch (error) {
      if (signal.aborted) return;
      clear(footer);
      footer.appendChild(errorBox(error, () => void load(after)));
    }
  };
  void load();
  return root;
}
