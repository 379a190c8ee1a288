// The login page: POST /api/login {username, password} → {token, expires_at, user}.
import { ApiError, post, setToken } from '../api';
import { h } from '../dom';
import { t } from '../i18n';
import type { LoginAnswer } from '../types';

export function renderLogin(options: { notice: string; langButton: HTMLElement; onDone: () => void }): HTMLElement {
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true,
    'data-testid': 'login-username' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, 'data-testid': 'login-password' });
  const message = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'login-error' }, options.notice);
  const submit = h('button', { type: 'submit', class: 'btn primary block', 'data-testid': 'login-submit' }, t('login.submit'));

  const form = h('form', {
    class: 'login-form',
    onsubmit: async (event: Event) => {
      event.preventDefault();
      message.textContent = '';
      submit.disabled = true;
      submit.textContent = t('login.busy');
      try {
        const answer = await post<LoginAnswer>('login', { username: username.value.trim(), password: password.value });
        if (!answer?.token) throw new Error(t('common.error'));
        setToken(answer.token);
        options.onDone();
      } catch (error) {
        message.textContent = error instanceof ApiError || error instanceof Error ? error.message : String(error);
        password.select();
      } finally {
        submit.disabled = false;
        submit.textContent = t('login.submit');
      }
    },
  },
  h('label', { for: 'login-username' }, t('login.username')), username,
  h('label', { for: 'login-password' }, t('login.password')), password,
  message, submit);

  setTimeout(() => username.focus(), 0);
  return h('div', { class: 'login-page', 'data-testid': 'page-login' },
    h('div', { class: 'login-card' },
      h('div', { class: 'login-top' }, options.langButton),
      h('div', { class: 'login-brand' },
        h('img', { src: '/favicon.svg', alt: '', width: 56, height: 56 }),
        h('h1', null, t('app.title')),
        h('p', { class: 'muted' }, t('app.subtitle'))),
      h('h2', null, t('login.title')),
      form,
      h('p', { class: 'muted small' }, t('login.hint'))));
}
