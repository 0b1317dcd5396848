// lib/staff.js — the head and sign-in shared by the staff pages (review, audit, admin): the bar
// (the page's title, who is signed in, sign out, the language switch) and the login form. A page
// writes <header class="bar" data-staff="TITLE-KEY"></header>; importing this module fills it and
// puts the form after it, before the page's own script runs (a module's imports run first), so
// the page finds #who, #logout, #lang and #login as before. signIn() waits for the user.
import { t, setTimeZone } from './i18n.js';
import { currentUser, requireLogin, logout } from './session.js';

function el(tag, { dataset = {}, ...props } = {}, text = '') {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  if (text) node.textContent = text;
  return node;
}

function i18n(tag, key, attrs = {}) {
  return el(tag, { ...attrs, dataset: { ...(attrs.dataset || {}), i18n: key } }, t(key));
}

const bar = document.querySelector('header[data-staff]');
if (bar) {
  bar.replaceChildren(i18n('h1', bar.dataset.staff), el('span', { id: 'who', className: 'muted' }),
    i18n('button', 'login.logout', { id: 'logout', className: 'hidden' }), i18n('button', 'lang.switch', { id: 'lang' }));
  const form = el('form', { id: 'login', className: 'card login hidden', dataset: { testid: 'login-form' } });
  form.setAttribute('aria-labelledby', 'login-title');
  const user = el('input', { type: 'text', id: 'login-user', autocomplete: 'username', required: true,
    dataset: { testid: 'login-user' } });
  const password = el('input', { type: 'password', id: 'login-password', autocomplete: 'current-password',
    required: true, dataset: { testid: 'login-password' } });
  form.append(i18n('h2', 'login.title', { id: 'login-title' }), i18n('label', 'login.user', { htmlFor: 'login-user' }),
    user, i18n('label', 'login.password', { htmlFor: 'login-password' }), password,
    i18n('button', 'login.submit', { type: 'submit', dataset: { testid: 'login-submit' } }),
    el('p', { id: 'login-error', className: 'error' }));
  form.querySelector('#login-error').setAttribute('role', 'alert');
  bar.after(form);
}

// The signed-in user (asking with the login form first when nobody is); shows `page`, the
// user's name and role, and the sign-out button.
export async function signIn(page) {
  const me = (await currentUser()) || (await requireLogin(document.getElementById('login'), page));
  if (me.timezone) setTimeZone(me.timezone);   // the bureau's: every time on staff pages is shown in it
  page.classList.remove('hidden');
  // the role in words, kept in the chosen language by applyTranslations()
  document.getElementById('who').replaceChildren(`${me.username} · `, i18n('span', `role.${me.role}`));
  const out = document.getElementById('logout');
  out.classList.remove('hidden');
  out.addEventListener('click', logout);
  return me;
}
