// admin/admin.js — case types and accounts for admins (the server refuses everyone else):
// add an account, reset its password (a one-time password shown once, here) and disable it,
// each after a confirmation in a <dialog> (keyboard-operable, Escape cancels; no browser prompts).
import { t, tv, fmtTime, applyTranslations, installLanguageSwitch } from '../lib/i18n.js';
import { api } from '../lib/session.js';
import { signIn } from '../lib/staff.js';
import { fill, say, sayRefusal, resay } from '../intake/say.js';

const $ = (id) => document.getElementById(id);
let types = [];
let me = null;

// Asks in the page's dialog; resolves true when confirmed. Focus returns where it was.
function confirmAction(text, yes) {
  const dialog = $('confirm');
  const back = document.activeElement;
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = yes;
  return new Promise((resolve) => {
    const done = (answer) => {
      $('confirm-yes').onclick = null;
      $('confirm-no').onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      if (back && back.isConnected) back.focus();
      resolve(answer);
    };
    $('confirm-yes').onclick = () => done(true);
    $('confirm-no').onclick = () => done(false);
    dialog.onclose = () => done(false);   // Escape
    dialog.showModal();
    $('confirm-no').focus();   // the safe choice first
  });
}

// the one-time password, shown once in its box until "Done"
function showOnce(key, vars, password) {
  say($('account-result-text'), key, vars);
  $('one-time-password').textContent = password;
  $('account-result').classList.remove('hidden');
  $('account-result-done').focus();
}

function cell(text) { const td = document.createElement('td'); td.textContent = text; return td; }

async function loadTypes() {
  const r = await api('/api/case-types');
  if (!r.ok) return;
  types = r.body.types;
  const zh = document.documentElement.lang === 'zh-CN';
  $('types').replaceChildren(...types.map((ty) => {
    const tr = document.createElement('tr');
    tr.append(cell(ty.key), cell(zh ? ty.title_zh : ty.title_en), cell(ty.time_limit_days), cell(ty.items.length), cell(ty.cases));
    const edit = document.createElement('button');
    edit.textContent = t('admin.edit');
    edit.setAttribute('aria-label', `${t('admin.edit')} ${ty.key}`);
    edit.addEventListener('click', () => { fillType(ty); $('type-en').focus(); });
    const td = document.createElement('td');
    td.append(edit);
    tr.append(td);
    return tr;
  }));
}

// the items editor: one row per required item, its titles in both languages, its guidance and
// the department that marks it (blank: the owner's); moved and removed with buttons
let itemSeq = 0;
const ITEM_FIELDS = [['title_en', 'admin.item.en'], ['title_zh', 'admin.item.zh'], ['guidance', 'admin.item.guidance'],
  ['department', 'admin.item.department']];

function renumber() {
  [...$('type-items').children].forEach((li, n) => {
    li.querySelector('legend').textContent = fill(t('admin.item.n'), { n: n + 1 });
    li.querySelector('[data-move="-1"]').disabled = n === 0;
    li.querySelector('[data-move="1"]').disabled = n === $('type-items').children.length - 1;
  });
}

function itemRow(item = {}) {
  const li = document.createElement('li');
  const set = document.createElement('fieldset');
  set.append(document.createElement('legend'));
  const id = ++itemSeq;
  for (const [field, key] of ITEM_FIELDS) {
    const label = document.createElement('label');
    label.htmlFor = `item-${id}-${field}`;
    label.dataset.i18n = key;
    label.textContent = t(key);
    const input = document.createElement('input');
    Object.assign(input, { type: 'text', id: label.htmlFor, value: item[field] || '' });
    input.dataset.field = field;
    if (field === 'title_en' || field === 'title_zh') input.setAttribute('aria-required', 'true');   // the server checks
    set.append(label, input);
  }
  const actions = document.createElement('div');
  actions.className = 'actions';
  for (const [move, key] of [[-1, 'admin.item.up'], [1, 'admin.item.down'], [0, 'admin.item.remove']]) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.move = String(move);
    b.dataset.i18n = key;
    b.textContent = t(key);
    b.addEventListener('click', () => {
      const list = $('type-items');
      if (move === 0) {
        const next = li.nextElementSibling || li.previousElementSibling;
        li.remove();
        (next ? next.querySelector('input') : $('item-add')).focus();
      } else {
        const other = move < 0 ? li.previousElementSibling : li.nextElementSibling;
        if (other) list.insertBefore(li, move < 0 ? other : other.nextElementSibling);
        b.focus();
      }
      renumber();
    });
    actions.append(b);
  }
  set.append(actions);
  li.append(set);
  return li;
}

function itemsFromEditor() {
  return [...$('type-items').children].map((li) => Object.fromEntries(
    [...li.querySelectorAll('input')].map((i) => [i.dataset.field, i.value.trim()])))
    .filter((i) => i.title_en || i.title_zh || i.guidance || i.department);
}

function fillType(ty) {
  $('type-key').value = ty.key;
  $('type-en').value = ty.title_en;
  $('type-zh').value = ty.title_zh;
  $('type-days').value = ty.time_limit_days;
  $('type-items').replaceChildren(...ty.items.map((i) => itemRow(i)));
  renumber();
}

async function saveType(e) {
  e.preventDefault();
  const key = $('type-key').value.trim();
  const existing = types.find((ty) => ty.key === key);
  const items = itemsFromEditor();
  const body = { title_en: $('type-en').value, title_zh: $('type-zh').value, time_limit_days: Number($('type-days').value) };
  const sameItems = existing && JSON.stringify(existing.items.map((i) => [i.title_en, i.title_zh, i.guidance, i.department || ''])) ===
    JSON.stringify(items.map((i) => [i.title_en, i.title_zh, i.guidance, i.department]));
  if (!sameItems) body.items = items;
  const r = existing ? await api(`/api/case-types/${encodeURIComponent(key)}`, body)
    : await api('/api/case-types', { key, ...body });
  if (r.ok) say($('type-result'), 'admin.saved');
  else sayRefusal($('type-result'), r.body);
  if (r.ok) loadTypes();
}

async function loadUsers() {
  const r = await api('/api/users');
  if (!r.ok) return;
  $('users').replaceChildren(...r.body.users.map((u) => {
    const tr = document.createElement('tr');
    tr.dataset.user = u.username;
    tr.append(cell(u.username), cell(tv('role', u.role)), cell(tv('dept', u.department)));
    const td = document.createElement('td');
    if (u.disabled) td.textContent = t('admin.disabled');
    else if (me && u.username !== me.username) {
      const actions = document.createElement('div');
      actions.className = 'actions';
      const reset = document.createElement('button');
      reset.textContent = t('admin.reset');
      reset.setAttribute('aria-label', fill(t('admin.reset.for'), { user: u.username }));
      reset.dataset.testid = `reset-${u.username}`;
      reset.addEventListener('click', () => resetPassword(u.username));
      const b = document.createElement('button');
      b.textContent = t('admin.disable');
      b.setAttribute('aria-label', fill(t('admin.disable.for'), { user: u.username }));
      b.dataset.testid = `disable-${u.username}`;
      b.addEventListener('click', () => disableUser(u.username));
      actions.append(reset, b);
      td.append(actions);
    }
    tr.append(td);
    return tr;
  }));
}

async function resetPassword(username) {
  if (!(await confirmAction(fill(t('admin.reset.confirm'), { user: username }), t('admin.reset')))) return;
  const r = await api(`/api/users/${encodeURIComponent(username)}/reset-password`, {});
  if (!r.ok) { sayRefusal($('user-result'), r.body); return; }
  say($('user-result'), null);
  showOnce('admin.reset.done', { user: username }, r.body.password);
}

async function disableUser(username) {
  if (!(await confirmAction(fill(t('admin.disable.confirm'), { user: username }), t('admin.disable')))) return;
  const r = await api(`/api/users/${encodeURIComponent(username)}/disable`, {});
  if (r.ok) say($('user-result'), 'admin.disable.done', { user: username });
  else sayRefusal($('user-result'), r.body);
  loadUsers();
}

async function addUser(e) {
  e.preventDefault();
  const username = $('user-name').value.trim();
  const r = await api('/api/users', { username, role: $('user-role').value, department: $('user-dept').value.trim() });
  if (!r.ok) { sayRefusal($('user-result'), r.body); return; }   // the form keeps what was typed
  // the password is shown once, here, and never again
  say($('user-result'), null);
  $('user-name').value = '';
  showOnce('admin.created.once', { user: username }, r.body.password);
  loadUsers();
}

// what an administrator must see now (a live inspection that stopped recording: a full
// disk), checked every 10 s while the page is open
async function loadAlerts() {
  const r = await api('/api/alerts');
  const alerts = r.ok ? r.body.alerts : [];
  $('alerts').hidden = alerts.length === 0;
  $('alerts').textContent = alerts.map((a) => `${t(a.reason === 'disk_full' ? 'admin.alert.diskFull' : 'admin.alert.writeFailed')} ` +
    `${a.case} (${t('admin.alert.since')} ${fmtTime(a.since)})`).join(' · ');
}

applyTranslations();
installLanguageSwitch($('lang'), () => { resay(); renumber(); loadTypes(); loadUsers(); loadAlerts(); });
me = await signIn($('page'));
$('type-form').addEventListener('submit', saveType);
$('item-add').addEventListener('click', () => {
  const li = itemRow();
  $('type-items').append(li);
  renumber();
  li.querySelector('input').focus();
});
$('type-items').append(itemRow());
renumber();
$('user-form').addEventListener('submit', addUser);
$('account-result-done').addEventListener('click', () => {
  $('one-time-password').textContent = '';
  $('account-result').classList.add('hidden');
  $('user-name').focus();
});
loadTypes();
loadUsers();
loadAlerts();
setInterval(loadAlerts, 10000);
