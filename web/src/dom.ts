// A tiny DOM builder: h('div', { class: 'card', onclick: fn, 'data-testid': 'x' }, child, ...).
// Strings become text nodes (never HTML), null/false/undefined children are skipped.
import { t } from './i18n';
import { ApiError } from './api';
import { currentRoute, update } from './router';
import { session, shortCode, topUnit } from './state';

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'readOnly']);

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null,
                                                         ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith('on') && typeof value === 'function') {
        el.addEventListener(name.slice(2), value as Handler);
      } else if (PROPERTIES.has(name)) {
        (el as unknown as Record<string, unknown>)[name] = value;
      } else {
        el.setAttribute(name, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag: string, attrs: Record<string, string | number>, ...children: Node[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) el.appendChild(child);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function loading(): HTMLElement {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner' }), t('common.loading'));
}

// The API's message in a box (never a blank page), with an optional retry.
export function errorBox(error: unknown, retry?: () => void): HTMLElement {
  let title = t('common.error');
  let message = String(error);
  let code = '';
  if (error instanceof ApiError) {
    message = error.message;
    code = error.code;
    if (error.status === 403) title = t('error.forbidden');
  } else if (error instanceof Error) {
    message = error.message;
  }
  return h('div', { class: 'error-box', role: 'alert', 'data-testid': 'error' },
    h('strong', null, title),
    h('p', null, message),
    code ? h('p', { class: 'muted small' }, code) : null,
    h('div', { class: 'error-actions' },
      retry ? h('button', { class: 'btn', type: 'button', onclick: retry }, t('common.retry')) : null,
      forbiddenUnit(error) ? h('button', {
        class: 'btn primary', type: 'button', 'data-testid': 'go-home-unit',
        onclick: () => update({ unit: shortCode(topUnit(session.me!)), ind: undefined }),
      }, t('common.homeUnit')) : null),
  );
}

// A 403 on a page that names a unit: offer the way back to the user's own area.
function forbiddenUnit(error: unknown): boolean {
  return error instanceof ApiError && error.status === 403 && !!session.me && currentRoute().params.has('unit');
}

// A page heading with an optional subtitle and actions on the right.
export function pageHead(title: string, subtitle?: string, ...actions: Child[]): HTMLElement {
  return h('div', { class: 'page-head' },
    h('div', { class: 'page-title' }, h('h1', null, title), subtitle ? h('p', { class: 'muted' }, subtitle) : null),
    actions.length ? h('div', { class: 'page-actions' }, ...actions) : null,
  );
}

// A short-lived notice at the bottom of the screen (several stack up rather than overlap).
export function toast(message: string, tone: 'ok' | 'error' = 'ok'): void {
  let stack = document.querySelector<HTMLElement>('body > .toast-stack');
  if (!stack) {
    stack = h('div', { class: 'toast-stack' });
    document.body.appendChild(stack);
  }
  const el = h('div', { class: `toast ${tone}`, role: tone === 'error' ? 'alert' : 'status' }, message);
  stack.appendChild(el);
  setTimeout(() => el.classList.add('show'), 10);
  setTimeout(() => {
    el.classList.remove('show');
    setTimeout(() => el.remove(), 300);
  }, 2500);
}

// Fills `body` with what `fill` builds once its data arrives: a spinner meanwhile, the error
// with a retry button on failure (nothing once the page is left: `signal` aborted).
export function loadInto(body: HTMLElement, signal: AbortSignal, fill: () => Promise<Child[]>): void {
  const load = async () => {
    clear(body);
    body.appendChild(loading());
    try {
      const children = await fill();
      clear(body);
      append(body, children);
    } catch (error) {
      if (signal.aborted) return;
      clear(body);
      body.appendChild(errorBox(error, () => void load()));
    }
  };
  void load();
}
