// The HTTP API client: the session token (sessionStorage), `Authorization: Bearer`, JSON errors
// ({"error": {"code", "message"}}) as ApiError, and a 401 anywhere back to the login page.
import { t } from './i18n';

const TOKEN_KEY = 'pingan.token';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
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
  body?: unknown;
  signal?: AbortSignal;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body: string | undefined;
  if (options.body !== undefined) {
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
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
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
  return new ApiError(response.status, code, message);
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

export function post<T>(path: string, body?: unknown): Promise<T> {
  return api<T>(path, { method: 'POST', body: body ?? {} });
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
