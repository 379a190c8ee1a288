// Bulletin (通报): the period's summary in sentences, ready to copy into a document.
import { get } from '../api';
import { unitPeriodRow } from '../components';
import { h, loadInto, loading, pageHead, toast } from '../dom';
import { lang, t } from '../i18n';
import { periodLabel } from '../period';
import { session } from '../state';
import type { Bulletin } from '../types';

export function renderBulletin(root: HTMLElement): () => void {
  const abort = new AbortController();
  const { unit, period } = session;
  const body = h('div', null, loading());
  root.append(
    pageHead(t('bulletin.title'), t('bulletin.subtitle')),
    unitPeriodRow('bulletin', unit, period),
    body);

  loadInto(body, abort.signal, async () => {
    const bulletin = await get<Bulletin>('bulletin', { unit, period, lang: lang() }, abort.signal);
    const text = bulletin.text ?? (lang() === 'en' ? bulletin.en ?? bulletin.zh : bulletin.zh ?? bulletin.en) ?? '';
    const textEl = h('div', { class: 'bulletin-text', 'data-testid': 'bulletin-text' }, text);
    return [h('article', { class: 'panel bulletin' },
      h('div', { class: 'section-head' },
        h('h3', null, periodLabel(bulletin.period ?? period)),
        h('button', { type: 'button', class: 'btn primary', 'data-testid': 'copy', onclick: () => void copy(text) }, t('common.copy'))),
      textEl)];
  });
  return () => abort.abort();
}

async function copy(text: string): Promise<void> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
    } else {
      const area = document.createElement('textarea');
      area.value = text;
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand('copy');
      area.remove();
      if (!ok) throw new Error('execCommand');
    }
    toast(t('common.copied'));
  } catch {
    toast(t('common.copyFailed'), 'error');
  }
}
