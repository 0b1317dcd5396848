// admin/admin.js — case types and accounts for admins (the server refuses everyone else).
import { t, tv, fmtTime, applyTranslations, installLanguageSwitch } from '../lib/i18n.js';
import { api } from '../lib/session.js';
import { signIn } from '../lib/staff.js';
import { errorText } from '../lib/errors.js';

const $ = (id) => document.getElementById(id);
let types = [];

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
    edit.addEventListener('click', () => fillType(ty));
    tr.append(edit);
    return tr;
  }));
}

function fillType(ty) {
  $('type-key').value = ty.key;
  $('type-en').value = ty.title_en;
  $('type-zh').value = ty.title_zh;
  $('type-days').value = ty.time_limit_days;
  $('type-items').value = ty.items.map((i) => [i.title_en, i.title_zh, i.guidance, i.department || ''].join(' | ').replace(/( \| )+$/, '')).join('\n');
}

async function saveType(e) {
  e.preventDefault();
  const key = $('type-key').value.trim();
  const existing = types.find((ty) => ty.key === key);
  const items = $('type-items').value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [en, zh, guidance, department] = l.split('|').map((p) => (p || '').trim());
    return { title_en: en, title_zh: zh || en, guidance: guidance || '', department: department || '' };
  });
  const body = { title_en: $('type-en').value, title_zh: $('type-zh').value, time_limit_days: Number($('type-days').value) };
  const sameItems = existing && JSON.stringify(existing.items.map((i) => [i.title_en, i.title_zh, i.guidance, i.department || ''])) ===
    JSON.stringify(items.map((i) => [i.title_en, i.title_zh, i.guidance, i.department]));
  if (!sameItems) body.items = items;
  const r = existing ? await api(`/api/case-types/${encodeURIComponent(key)}`, body)
    : await api('/api/case-types', { key, ...body });
  $('type-result').textContent = r.ok ? t('admin.saved') : errorText(r.body);
  if (r.ok) loadTypes();
}

async function loadUsers() {
  const r = await api('/api/users');
  if (!r.ok) return;
  $('users').replaceChildren(...r.body.users.map((u) => {
    const tr = document.createElement('tr');
    tr.append(cell(u.username), cell(tv('role', u.role)), cell(tv('dept', u.department)));
    const td = document.createElement('td');
    if (u.disabled) td.textContent = t('admin.disabled');
    else {
      const b = document.createElement('button');
      b.textContent = t('admin.disable');
      b.addEventListener('click', async () => { await api(`/api/users/${encodeURIComponent(u.username)}/disable`, {}); loadUsers(); });
      td.append(b);
    }
    tr.append(td);
    return tr;
  }));
}

async function addUser(e) {
  e.preventDefault();
  const r = await api('/api/users', { username: $('user-name').value, role: $('user-role').value, department: $('user-dept').value });
  // the password is shown once, here, and never again
  $('user-result').textContent = r.ok ? `${t('admin.password.once')} ${r.body.password}` : errorText(r.body);
  if (r.ok) loadUsers();
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
installLanguageSwitch($('lang'), loadTypes);
const me = await signIn($('page'));
$('type-form').addEventListener('submit', saveType);
$('user-form').addEventListener('submit', addUser);
loadTypes();
loadUsers();
loadAlerts();
setInterval(loadAlerts, 10000);
