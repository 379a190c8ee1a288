// Audit log (审计日志, auditors and admins): filters by date, actor and action; pages on demand.
import { h, pageHead } from '../dom';
import { fmtTime } from '../format';
import { t } from '../i18n';
import { go } from '../router';
import type { AuditEntry } from '../types';
import { pagedTable } from './paged';

export function renderAudit(root: HTMLElement, params: URLSearchParams): () => void {
  const abort = new AbortController();
  const filters = {
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    actor: params.get('actor') ?? '',
    action: params.get('action') ?? '',
  };
  const from = h('input', { type: 'date', value: filters.from, 'aria-label': t('audit.from'), 'data-testid': 'audit-from' });
  const to = h('input', { type: 'date', value: filters.to, 'aria-label': t('audit.to'), 'data-testid': 'audit-to' });
  const actor = h('input', { type: 'text', value: filters.actor, placeholder: t('audit.actor'), 'aria-label': t('audit.actor'), size: 12 });
  const action = h('input', { type: 'text', value: filters.action, placeholder: t('audit.action'), 'aria-label': t('audit.action'),
    size: 12, list: 'audit-actions' });
  const actions = h('datalist', { id: 'audit-actions' }, ...['login', 'login_failed', 'logout', 'user_add', 'user_disable',
    'user_passwd', 'source_key_add', 'source_key_revoke', 'read_unmasked', 'ingest'].map((a) => h('option', { value: a })));
  const form = h('form', {
    class: 'filter-form',
    onsubmit: (e: Event) => {
      e.preventDefault();
      go('audit', { from: from.value, to: to.value, actor: actor.value.trim(), action: action.value.trim() });
    },
  },
  h('label', null, t('audit.from'), from),
  h('label', null, t('audit.to'), to),
  h('label', null, t('audit.actor'), actor),
  h('label', null, t('audit.action'), action, actions),
  h('button', { type: 'submit', class: 'btn primary' }, t('audit.filter')),
  h('button', { type: 'button', class: 'btn ghost', onclick: () => go('audit') }, t('audit.reset')));

  // `to` is a day the user means to include: ask for entries before the next day.
  const toExclusive = filters.to ? nextDay(filters.to) : '';
  root.append(pageHead(t('audit.title'), t('audit.subtitle')), form,
    pagedTable<AuditEntry>('audit', { from: filters.from, to: toExclusive, actor: filters.actor, action: filters.action, limit: 100 }, [
      { title: t('audit.id'), cell: (e) => String(e.id), className: 'num' },
      { title: t('audit.at'), cell: (e) => fmtTime(e.at, true) },
      { title: t('audit.actor'), cell: (e) => e.actor },
      { title: t('audit.action'), cell: (e) => h('span', { class: `tag ${/fail|unmasked/.test(e.action) ? 'warn' : ''}` }, e.action) },
      { title: t('audit.target'), cell: (e) => e.target ?? '' },
      { title: t('audit.detail'), cell: (e) => e.detail ?? '', className: 'hide-phone' },
    ], (e) => String(e.id), abort.signal, 'audit'));
  return () => abort.abort();
}

function nextDay(day: string): string {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms)) return day;
  return new Date(ms + 86400000).toISOString().slice(0, 10);
}
