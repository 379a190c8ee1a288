// Quarantine (隔离区, admins): records that failed validation, newest pages on demand.
import { h, pageHead } from '../dom';
import { fmtTime } from '../format';
import { label, t } from '../i18n';
import { catalog, findItem } from '../state';
import type { Catalog, QuarantineRecord } from '../types';
import { pagedTable } from './paged';

export function renderQuarantine(root: HTMLElement): () => void {
  const abort = new AbortController();
  root.appendChild(pageHead(t('quarantine.title'), t('quarantine.subtitle')));
  const holder = h('div');
  root.appendChild(holder);
  void catalog().then((cat: Catalog | null) => {
    if (abort.signal.aborted) return;
    holder.appendChild(pagedTable<QuarantineRecord>('quarantine', { limit: 50 }, [
      { title: t('quarantine.id'), cell: (r) => String(r.id), className: 'num' },
      { title: t('quarantine.received'), cell: (r) => fmtTime(r.received_at ?? '') },
      { title: t('quarantine.source'), cell: (r) => label(findItem(cat?.sources, r.source ?? ''), r.source ?? '—').replace(/\s*\(.*\)$/, '') },
      { title: t('quarantine.sourceId'), cell: (r) => r.source_id || '—', className: 'mono' },
      { title: t('quarantine.file'), cell: (r) => r.file ? `${r.file.split('/').pop()}:${r.line ?? ''}` : '—', className: 'mono hide-phone' },
      { title: t('quarantine.reason'), cell: (r) => h('span', { class: 'tag warn' }, r.reason ?? '—') },
      { title: t('quarantine.message'), cell: (r) => r.message ?? '' },
      { title: t('quarantine.raw'), cell: (r) => r.raw ? h('details', null, h('summary', null, t('common.open')), h('pre', { class: 'raw' }, r.raw)) : '—', className: 'hide-phone' },
    ], (r) => String(r.id), abort.signal, 'quarantine'));
  });
  return () => abort.abort();
}
