// audit/audit.js — the auditor: search, then a case's recordings played back to back as one
// timeline with a marker for every event (click to seek), the audit entries, and the check.
import { t, applyTranslations, installLanguageSwitch } from '../lib/i18n.js';
import { api, currentUser, requireLogin, logout } from '../lib/session.js';

const $ = (id) => document.getElementById(id);
const MARKED = ['mark', 'still.captured', 'decision', 'decision.countersigned', 'decision.returned', 'participant.joined',
  'participant.left', 'recording.started', 'challenge.seen', 'location', 'case.status'];
let segments = [], current = -1, pendingSeek = null, caseRef = null;

async function search(e) {
  if (e) e.preventDefault();
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($('search'))) if (v) params.set(k, v);
  const r = await api(`/api/search?${params}`);
  if (!r.ok) return;
  $('results').replaceChildren(...r.body.cases.map((c) => {
    const li = document.createElement('li');
    li.tabIndex = 0;
    li.dataset.ref = c.ref;
    li.textContent = `${c.ref} · ${c.applicant_name || '–'} · ${c.owner || '–'} · ${t(`status.${c.status}`)} · ${c.accepted_on}`;
    if (c.overdue) li.append(Object.assign(document.createElement('span'), { className: 'due overdue', textContent: t('review.overdue') }));
    li.addEventListener('click', () => openCase(c.ref));
    li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') openCase(c.ref); });
    return li;
  }));
}

// wall-clock time → position on the back-to-back timeline of the playable segments
function toTimeline(at) {
  let offset = 0;
  for (const s of segments) {
    if (at < s.started_at) return offset;
    if (at <= s.started_at + s.duration_ms) return offset + (at - s.started_at);
    offset += s.duration_ms;
  }
  return offset;
}

function play(index, atMs) {
  if (index < 0 || index >= segments.length) return;
  $('player').dataset.offset = segments.slice(0, index).reduce((n, s) => n + s.duration_ms, 0);
  if (index !== current) {
    current = index;
    pendingSeek = atMs / 1000;
    $('player').src = segments[index].url;
    $('segment').textContent = `${t('audit.segment')} ${index + 1}/${segments.length} · SHA-256 ${segments[index].sha256}`;
  } else {
    $('player').currentTime = atMs / 1000;
  }
}

function seekTimeline(ms) {
  let offset = 0;
  for (let i = 0; i < segments.length; i++) {
    if (ms < offset + segments[i].duration_ms || i === segments.length - 1) return play(i, Math.max(0, ms - offset));
    offset += segments[i].duration_ms;
  }
}

function describe(e) {
  const d = e.detail || {};
  const bits = Object.entries(d).filter(([k]) => k !== 'path').map(([k, v]) => `${k}: ${v}`);
  return `${new Date(e.at).toLocaleString()} · ${e.actor} · ${e.action}${bits.length ? ' · ' + bits.join(', ') : ''}`;
}

async function openCase(ref) {
  caseRef = ref;
  const [c, tl] = await Promise.all([api(`/api/cases/${encodeURIComponent(ref)}`), api(`/api/cases/${encodeURIComponent(ref)}/timeline`)]);
  if (!c.ok || !tl.ok) { $('case-facts').textContent = (tl.body || c.body || {}).message || ''; return; }
  $('case').classList.remove('hidden');
  $('case-title').textContent = ref;
  $('case-facts').textContent = [c.body.applicant_name, c.body.site_address, c.body.owner, t(`status.${c.body.status}`),
    `${c.body.accepted_on} → ${c.body.deadline_on}`].filter(Boolean).join(' · ');
  $('report-link').href = `/report/#case=${encodeURIComponent(ref)}`;
  $('report-pdf').href = `/api/cases/${encodeURIComponent(ref)}/report.pdf`;
  $('integrity').replaceChildren();
  segments = tl.body.recordings.filter((s) => s.url && s.duration_ms > 0);
  current = -1;
  $('player').removeAttribute('src');
  const total = segments.reduce((n, s) => n + s.duration_ms, 0) || 1;
  let lastLeft = -100, stack = 0;
  $('markers').replaceChildren(...tl.body.entries.filter((e) => MARKED.includes(e.action)).map((e) => {
    const b = document.createElement('button');
    const pos = toTimeline(e.at);
    const left = (100 * pos) / total;
    stack = left - lastLeft < 1.2 ? stack + 1 : 0;   // events at the same moment stack upwards
    lastLeft = left;
    b.className = `marker ${e.action.replace(/\./g, '-')}`;
    b.style.left = `${left}%`;
    b.style.top = `${0.2 - stack * 0.5}rem`;
    b.style.zIndex = String(10 + stack);
    b.title = describe(e);
    b.setAttribute('aria-label', describe(e));
    b.dataset.action = e.action;
    b.dataset.ms = Math.round(pos);   // where on the back-to-back timeline it sits
    b.addEventListener('click', () => seekTimeline(pos));
    return b;
  }));
  $('timeline').replaceChildren(...tl.body.entries.map((e) => {
    const li = document.createElement('li');
    li.textContent = describe(e);
    li.title = `hash ${e.hash}`;
    if (MARKED.includes(e.action)) {
      li.tabIndex = 0;
      li.classList.add('seekable');
      li.addEventListener('click', () => seekTimeline(toTimeline(e.at)));
    }
    return li;
  }));
  if (segments.length) play(0, 0);
}

const MB = (n) => (n / 1048576).toFixed(n < 10485760 ? 1 : 0);

function showProgress(p) {
  const pct = p.bytes_total ? Math.floor((100 * p.bytes_done) / p.bytes_total) : 0;
  $('integrity').textContent = `${t('audit.verifying')} ${MB(p.bytes_done)} ${t('audit.progress.of')} ` +
    `${MB(p.bytes_total)} MB (${pct} %) · ${p.files_done}/${p.files_total} ${t('audit.progress.files')}`;
  $('integrity').dataset.progress = String(pct);
}

// the check is a job hashing on the server's worker thread: started (202, its progress), then
// asked for until it is done (200, the result)
async function verify() {
  $('integrity').textContent = t('audit.verifying');
  delete $('integrity').dataset.progress;
  const ref = caseRef, base = `/api/cases/${encodeURIComponent(ref)}/integrity`;
  let r = await api(base);
  while (r.status === 202 && ref === caseRef) {
    showProgress(r.body);
    await new Promise((resolve) => setTimeout(resolve, 500));
    r = await api(`${base}?job=${r.body.job}`);
  }
  if (ref !== caseRef) return;   // another case was opened meanwhile
  if (!r.ok) { $('integrity').textContent = r.body ? r.body.message : ''; return; }
  const v = r.body;
  const head = document.createElement('p');
  head.className = v.ok ? 'ok' : 'error';
  head.textContent = v.chain.ok ? `${t('audit.chain.ok')} (${v.chain.checked})` : `${t('audit.chain.bad')} #${v.chain.first_bad_entry}`;
  const list = document.createElement('ul');
  list.append(...v.files.map((f) => Object.assign(document.createElement('li'), {
    className: f.status === 'ok' || f.status === 'purged' ? 'ok' : 'error',
    textContent: `${f.kind} ${f.id} · ${f.file} · ${t(`audit.file.${f.status}`)}` })));
  $('integrity').replaceChildren(head, list);
}

applyTranslations();
installLanguageSwitch($('lang'), search);
const me = (await currentUser()) || (await requireLogin($('login'), $('page')));
$('page').classList.remove('hidden');
$('who').textContent = `${me.username} · ${me.role}`;
$('logout').classList.remove('hidden');
$('logout').addEventListener('click', logout);
$('search').addEventListener('submit', search);
$('verify').addEventListener('click', verify);
$('player').addEventListener('loadedmetadata', () => {
  if (pendingSeek !== null) { $('player').currentTime = pendingSeek; pendingSeek = null; }
});
$('player').addEventListener('ended', () => { if (current + 1 < segments.length) { play(current + 1, 0); $('player').play(); } });
search();
const fromHash = new URLSearchParams(location.hash.slice(1)).get('case');
if (fromHash) openCase(fromHash);
