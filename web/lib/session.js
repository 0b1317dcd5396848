// lib/session.js — the staff login: who is signed in, the login form, and JSON API calls
// (state changes are always application/json: the server's CSRF defence requires it).
import { t } from './i18n.js';

export async function currentUser() {
  const resp = await fetch('/api/me').catch(() => null);
  return resp && resp.ok ? resp.json() : null;
}

// fetch a JSON API; POST bodies go as JSON. Resolves to { ok, status, body }.
export async function api(path, body) {
  const opts = body === undefined ? {} :
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const resp = await fetch(path, opts).catch(() => null);
  if (!resp) return { ok: false, status: 0, body: { code: 'network', message: t('err.network') } };
  const text = await resp.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { ok: resp.ok, status: resp.status, body: parsed };
}

// Shows `form` until someone signs in; resolves with the user. The form has #login-user,
// #login-password and #login-error inside.
export function requireLogin(form, page) {
  return new Promise((resolve) => {
    form.classList.remove('hidden');
    page.classList.add('hidden');
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const error = form.querySelector('#login-error');
      error.textContent = '';
      const r = await api('/api/login', { username: form.querySelector('#login-user').value,
        password: form.querySelector('#login-password').value });
      if (!r.ok) {
        error.textContent = r.status === 429 ? t('login.slow') : t('login.wrong');
        return;
      }
      form.querySelector('#login-password').value = '';
      form.classList.add('hidden');
      page.classList.remove('hidden');
      resolve(r.body);
    });
  });
}

export async function logout() {
  await api('/api/logout', {});
  location.reload();
}
