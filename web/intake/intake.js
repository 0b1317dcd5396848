// intake/intake.js — the intake clerk's page (role clerk, or an admin): creates a case from its type (POST /api/cases with
// owner and co-reviewers), issues and revokes its invite, and follows each case's state. It
// decides nothing itself: the server's policy answers every request (403 → the message shown).
// The URL is the state: #case=REF opens that case (back/forward and a pasted link work). The
// lists are refreshed in place every 5 s, never rebuilt under the keyboard focus.
import { t, applyTranslations, installLanguageSwitch } from '../lib/i18n.js';
import { api, currentUser } from '../lib/session.js';
import { signIn } from '../lib/staff.js';
import { fill, say, sayRefusal, resay } from './say.js';

const $ = (id) => document.getElementById(id);
const lang = () => document.documentElement.lang || 'en';
let types = [], staff = [], cases = [], current = null, lastInvite = null;

function el(tag, props = {}, text = '') {
  const node = Object.assign(document.createElement(tag), props);
  if (text) node.textContent = text;
  return node;
}

const typeTitle = (c) => (lang() === 'zh-CN' ? c.type_title.zh : c.type_title.en);
const stateWord = (c) => (c.live ? t('intake.state.live') : t(`status.${c.status}`));
const date = (ms) => new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
// a calendar day (YYYY-MM-DD, the bureau's) in the chosen language
const day = (iso) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
  return m ? new Intl.DateTimeFormat(lang(), { dateStyle: 'medium' }).format(new Date(+m[1], +m[2] - 1, +m[3])) : iso;
};

// ---- the form -------------------------------------------------------------------------
async function loadTypes() {
  const r = await api('/api/case-types');
  if (!r.ok) return;
  types = r.body.types;
  const chosen = $('case-type').value;
  $('case-type').replaceChildren(...types.map((ty) => el('option', { value: ty.key },
    lang() === 'zh-CN' ? ty.title_zh : ty.title_en)));
  if (chosen) $('case-type').value = chosen;
  coReviewerFields();
}

// who may own or co-review (active reviewers and leads) as suggestions; the fields stay free
// text and the server checks every name
async function loadStaff() {
  const r = await api('/api/staff');
  staff = r.ok ? r.body.staff : [];
  $('owners').replaceChildren(...staff.map((u) => el('option', { value: u.username }, `${u.department} · ${t(`admin.role.${u.role}`)}`)));
}

// one field per department named by the chosen type's items (other than the owner's own)
function coReviewerFields() {
  const type = types.find((ty) => ty.key === $('case-type').value);
  const departments = [...new Set((type ? type.items : []).map((i) => i.department).filter(Boolean))];
  const kept = Object.fromEntries([...$('co-reviewers').querySelectorAll('input')].map((i) => [i.dataset.department, i.value]));
  $('co-fieldset').classList.toggle('hidden', departments.length === 0);
  $('co-reviewers').replaceChildren(...departments.flatMap((dept, n) => {
    const list = el('datalist', { id: `co-list-${n}` });
    list.append(...staff.filter((u) => u.department === dept).map((u) => el('option', { value: u.username })));
    const input = el('input', { type: 'text', id: `co-${n}`, autocomplete: 'off', value: kept[dept] || '' });
    input.setAttribute('list', list.id);
    input.dataset.department = dept;
    input.dataset.testid = `co-${dept}`;
    return [el('label', { htmlFor: input.id }, fill(t('intake.co.for'), { department: dept })), input, list];
  }));
}

function numberOrNull(id) {
  const v = $(id).value.trim();
  return v === '' ? null : Number(v);
}

async function createCase(e) {
  e.preventDefault();
  const result = $('case-result');
  const ref = $('case-ref').value.trim();
  if (!ref) { say(result, 'intake.need.ref'); $('case-ref').focus(); return; }
  const lat = numberOrNull('case-lat'), lon = numberOrNull('case-lon');
  if ((lat === null) !== (lon === null)) { say(result, 'intake.need.both'); $(lat === null ? 'case-lat' : 'case-lon').focus(); return; }
  const body = { ref, type: $('case-type').value, applicant_name: $('case-applicant').value.trim(),
    applicant_phone: $('case-phone').value.trim(), site_address: $('case-address').value.trim(),
    co_reviewers: [...$('co-reviewers').querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean) };
  if (lat !== null) body.site = { lat, lon };
  const owner = $('case-owner').value.trim();
  if (owner) body.owner = owner;
  $('case-create').disabled = true;
  const r = await api('/api/cases', body);
  $('case-create').disabled = false;
  if (!r.ok) {   // the form keeps everything typed
    const code = r.body && r.body.code;
    if (code === 'conflict' || code === 'bad_field') say(result, `intake.err.${code}`);
    else sayRefusal(result, r.body);
    return;
  }
  say(result, 'intake.created', { ref: r.body.ref });
  for (const id of ['case-ref', 'case-applicant', 'case-phone', 'case-address', 'case-lat', 'case-lon'])
    $(id).value = '';
  await loadCases();
  location.hash = `case=${encodeURIComponent(r.body.ref)}`;
}

// ---- the case list: rows updated in place ---------------------------------------------
async function loadCases() {
  const r = await api('/api/cases');
  if (!r.ok) return;
  cases = r.body.cases.sort((a, b) => b.created_at - a.created_at);
  const body = $('cases');
  const rows = new Map([...body.rows].map((tr) => [tr.dataset.ref, tr]));
  cases.forEach((c, n) => {
    let tr = rows.get(c.ref);
    if (!tr) {
      tr = el('tr');
      tr.dataset.ref = c.ref;
      const open = el('a', { href: `#case=${encodeURIComponent(c.ref)}` }, c.ref);
      const first = el('td');
      first.append(open);
      tr.append(first, el('td'), el('td'), el('td'), el('td'));
    }
    const cells = [null, typeTitle(c), stateWord(c), c.owner || '—', c.deadline_on ? day(c.deadline_on) : '—'];
    cells.forEach((text, i) => { if (text !== null && tr.cells[i].textContent !== text) tr.cells[i].textContent = text; });
    tr.setAttribute('aria-current', c.ref === current ? 'true' : 'false');
    if (body.rows[n] !== tr) body.insertBefore(tr, body.rows[n] || null);   // moves only what changed place
    rows.delete(c.ref);
  });
  for (const gone of rows.values()) gone.remove();
}

// ---- one case ---------------------------------------------------------------------------
function fact(dl, key, value) {
  if (value === null || value === undefined || value === '') return;
  dl.append(el('dt', {}, t(key)), el('dd', {}, String(value)));
}

async function showCase(focus) {
  const detail = $('detail');
  if (!current) { detail.classList.add('hidden'); return; }
  const r = await api(`/api/cases/${encodeURIComponent(current)}`);
  if (!r.ok) {
    detail.classList.remove('hidden');
    $('detail-title').textContent = current;
    sayRefusal($('detail-state'), r.body);
    $('facts').replaceChildren();
    return;
  }
  const c = r.body;
  detail.classList.remove('hidden');
  $('detail-title').textContent = `${c.ref} · ${typeTitle(c)}`;
  const state = `${t('intake.state')}: ${stateWord(c)}${c.participants ? ` · ${fill(t('intake.participants'), { n: c.participants })}` : ''}`;
  delete $('detail-state').dataset.say;
  if ($('detail-state').textContent !== state) $('detail-state').textContent = state;   // read out only on change
  $('detail-state').dataset.state = c.live ? 'live' : c.status;
  const dl = el('dl', { id: 'facts', className: 'facts' });
  fact(dl, 'intake.applicant', c.applicant_name);
  fact(dl, 'intake.phone', c.applicant_phone);
  fact(dl, 'intake.address', c.site_address);
  if (c.site) fact(dl, 'intake.coords', `${c.site.lat}, ${c.site.lon}`);
  fact(dl, 'intake.owner.short', c.owner && `${c.owner} (${c.department})`);
  fact(dl, 'intake.co.short', c.co_reviewers.join(', '));
  fact(dl, 'intake.accepted', c.accepted_on && day(c.accepted_on));
  fact(dl, 'intake.deadline', c.deadline_on && `${day(c.deadline_on)} (${fill(t('intake.days.left'), { n: c.working_days_left })})`);
  $('facts').replaceWith(dl);
  const mayInvite = c.can.includes('manage_invites');
  const closed = c.status === 'approved' || c.status === 'rejected';
  // a control that cannot be used says why, beside it (read with it: aria-describedby)
  const why = !mayInvite ? 'intake.why.invite' : closed ? 'intake.why.closed' : null;
  $('invite').disabled = !mayInvite || closed;
  $('revoke').disabled = !mayInvite;
  say($('invite-why'), why);
  if (focus) $('detail-title').focus();
}

function selectFromHash() {
  const m = /(?:^|[#&])case=([^&]+)/.exec(location.hash);
  const ref = m ? decodeURIComponent(m[1]) : null;
  if (ref === current) return;
  current = ref;
  lastInvite = null;
  $('invite-out').classList.add('hidden');
  say($('invite-result'), null);
  for (const tr of $('cases').rows) tr.setAttribute('aria-current', tr.dataset.ref === current ? 'true' : 'false');
  showCase(true);
}

function smsText(invite) {
  return fill(t('intake.sms'), { ref: invite.ref, url: invite.invite_url, until: date(invite.expires_at) });
}

function showInvite() {
  const invite = lastInvite;
  $('invite-url').value = invite.invite_url;
  $('invite-sms').value = smsText(invite);
  $('invite-expires').textContent = fill(t('intake.expires'), { until: date(invite.expires_at) });
  // the SVG is drawn by our own server from the URL (qr.c), shown as an image with a text alternative
  const img = el('img', { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(invite.qr_svg)}`,
    alt: fill(t('intake.qr.alt'), { ref: invite.ref }), width: 192, height: 192 });
  $('invite-qr').replaceChildren(img);
  $('invite-out').classList.remove('hidden');
}

async function issueInvite() {
  const r = await api(`/api/cases/${encodeURIComponent(current)}/invite`, {});
  if (!r.ok) { sayRefusal($('invite-result'), r.body); return; }
  lastInvite = r.body;
  showInvite();
  say($('invite-result'), 'intake.invite.done');
  $('invite-url').focus();
  $('invite-url').select();
  showCase(false);
  loadCases();
}

async function revokeInvites() {
  const r = await api(`/api/cases/${encodeURIComponent(current)}/revoke-invites`, {});
  if (!r.ok) { sayRefusal($('invite-result'), r.body); return; }
  lastInvite = null;
  $('invite-out').classList.add('hidden');
  $('invite-qr').replaceChildren();
  say($('invite-result'), 'intake.revoked', { n: r.body.revoked });
  showCase(false);
}

async function copy(field) {
  field.focus();
  field.select();
  let ok = false;
  try { await navigator.clipboard.writeText(field.value); ok = true; } catch { ok = false; }
  say($('invite-result'), ok ? 'intake.copied' : 'intake.copy.manual');
}

applyTranslations();
installLanguageSwitch($('lang'), () => {
  resay();
  loadTypes();
  loadStaff().then(coReviewerFields);
  for (const tr of [...$('cases').rows]) tr.remove();
  loadCases();
  showCase(false);
  if (lastInvite) showInvite();
});
await signIn($('page'));
const me = await currentUser();   // with what it may do ("can"), which the login answer lacks
if (!me || !me.can.includes('create_case')) {
  $('not-allowed').classList.remove('hidden');
  $('case-form').querySelectorAll('input, select, button').forEach((c) => { c.disabled = true; });
}
$('case-form').addEventListener('submit', createCase);
$('case-type').addEventListener('change', coReviewerFields);
$('invite').addEventListener('click', issueInvite);
$('revoke').addEventListener('click', revokeInvites);
$('copy-url').addEventListener('click', () => copy($('invite-url')));
$('copy-sms').addEventListener('click', () => copy($('invite-sms')));
window.addEventListener('hashchange', selectFromHash);
await loadStaff();
await loadTypes();
await loadCases();
selectFromHash();
setInterval(() => { loadCases(); if (current) showCase(false); }, 5000);
