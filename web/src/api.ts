// The HTTP API client: the session token (sessionStorage), `Authorization: Bearer`, JSON errors
// ({"error": {"code", "message"}}) as ApiError, and a 401 anywhere back to the login page.
import { t } from './i18n';

const TOKEN_KEY = 'pingan.token';

export class ApiError extends Error {
  // `body` is the whole parsed answer, when it was JSON: a 409 on a task carries the task's
  // current state beside the error.
  constructor(readonly status: number, readonly code: string, message: string, readonly body: unknown = null) {
    super(message);
    this.name = 'ApiError';
  }
}

export function token(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(value: string | null): void {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // private mode without storage: the session lasts as long as the page
  }
}

let unauthorizedHandler: () => void = () => {};

// Called (once per 401) after the token has been dropped; main.ts shows the login page.
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function queryString(query?: Query): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === '') continue;
    params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

interface RequestOptions {
  method?: string;
  query?: Query;
  body?: unknown; // sent as JSON
  raw?: Blob; // sent as it is, with its own type (a photo)
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body: string | Blob | undefined;
  if (options.raw !== undefined) {
    headers['Content-Type'] = options.raw.type || 'application/octet-stream';
    body = options.raw;
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(`/api/${path}${queryString(options.query)}`, {
      method: options.method ?? 'GET',
      headers,
      body,
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', t('error.network'));
  }
  if (!response.ok) throw await toError(response, path);
  return response;
}

async function toError(response: Response, path: string): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = t('error.status', { status: response.status });
  let parsed: unknown = null;
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      parsed = body;
      if (body?.error?.message) message = body.error.message;
      if (body?.error?.code) code = body.error.code;
    } catch {
      if (text.trim() && text.length < 300) message = text.trim();
    }
  } catch {
    // no body
  }
  if (response.status === 401 && path !== 'login') {
    setToken(null);
    unauthorizedHandler();
  }
  return new ApiError(response.status, code, message, parsed);
}

// Parses a JSON body; a JSON Lines body (one object a line) becomes an array.
function parseBody(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed) return null;
  try {
    return JSON.parse(trimmed);
  } catch (error) {
    const lines = trimmed.split('\n').filter((line) => line.trim());
    if (lines.length > 1) return lines.map((line) => JSON.parse(line));
    throw error;
  }
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  return parseBody(await response.text()) as T;
}

export function get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  return api<T>(path, { query, signal });
}

export function post<T>(path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  return api<T>(path, { method: 'POST', body: body ?? {}, headers });
}

// A fresh Idempotency-Key. crypto.randomUUID exists only in secure contexts (https, localhost);
// a town office reaching the server by a plain-http LAN address gets one from getRandomValues.
export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Fetches an image the API guards with the token (an <img src> cannot send it) as an object
// URL; the caller revokes it.
export async function imageUrl(path: string, signal?: AbortSignal): Promise<string> {
  const response = await send(path.replace(/^\/?api\//, ''), { signal, headers: { Accept: 'image/*' } });
  return URL.createObjectURL(await response.blob());
}

// Downloads an export (the token goes in the header, so no plain link): fetch as a blob and
// save it under the server's file name or `fallbackName`.
export async function download(path: string, query: Query, fallbackName: string): Promise<void> {
  const response = await send(path, { query });
  const blob = await response.blob();
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : fallbackName;
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A list answer as items: the API pages as {items, next}; a bare array is accepted too.
export function itemsOf<T>(body: unknown, ...keys: string[]): { items: T[]; next: string | number | null } {
  if (Array.isArray(body)) return { items: body as T[], next: null };
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    for (const key of ['items', ...keys]) {
      if (Array.isArray(record[key])) {
        const next = record.next;
        return { items: record[key] as T[], next: typeof next === 'string' || typeof next === 'number' ? next : null };
      }
    }
  }
  return { items: [], next: null };
}

// Runs async jobs with at most `limit` in flight (the sparklines: 42 series per overview).
export function limiter(limit: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  const next = () => {
    if (active >= limit || !waiting.length) return;
    active++;
    waiting.shift()!();
  };
  return <T>(job: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      waiting.push(() => {
        job().then(resolve, reject).finally(() => {
          active--;
          next();
        });
      });
      next();
    });
}
