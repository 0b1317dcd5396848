// audit/audit.js — the auditor: search, then a case's recordings and events on one wall-clock
// axis (gaps between segments shown as gaps; a marker click plays the segment holding that
// moment at that second; the player moves on at a segment's end and on a decode error, and
// says so), the audit entries, and the check.
import { t, applyTranslations, installLanguageSwitch } from '../lib/i18n.js';
import { api } from '../lib/session.js';
import { signIn } from '../lib/staff.js';

const $ = (id) => document.getElementById(id);
const MARKED = ['mark', 'still.captured', 'decision', 'decision.countersigned', 'decision.returned', 'participant.joined',
  'participant.left', 'recording.started', 'challenge.seen', 'location', 'case.status', 'participant.connected', 'reach.no_media'];
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

// One wall-clock axis for the whole case: each segment lies from media_started_at (the
// wall-clock moment of its archive's 0) for its true duration; the time between segments is a
// gap on the axis, not squeezed away. An event's place in a segment is its time less the
// segment's media_started_at.
let axis = { from: 0, span: 1 };
const segStart = (s) => s.media_started_at ?? s.started_at;
const segEnd = (s) => segStart(s) + s.duration_ms;
const pct = (at) => `${(100 * (at - axis.from)) / axis.span}%`;
const clock = (ms) => { const s = Math.max(0, Math.round(ms / 1000)); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`; };

function notify(text) { $('player-note').textContent = text; }

function showSegment(index) {
  const s = segments[index];
  $('segment').textContent = `${t('audit.segment')} ${index + 1}/${segments.length} · ` +
    `${new Date(segStart(s)).toLocaleString()} · ${clock(s.duration_ms)} · SHA-256 ${s.sha256}`;
  for (const bar of $('markers').querySelectorAll('.segment-bar')) bar.classList.toggle('current', Number(bar.dataset.index) === index);
}

function play(index, atMs, autoplay = false) {
  if (index < 0 || index >= segments.length) return;
  const v = $('player');
  const seconds = Math.max(0, Math.min(atMs, segments[index].duration_ms)) / 1000;
  if (index !== current) {
    current = index;
    pendingSeek = seconds;
    v.dataset.segment = String(index);
    v.dataset.recording = String(segments[index].id);
    v.dataset.mediaStartedAt = String(segStart(segments[index]));
    v.src = segments[index].url;
    showSegment(index);
  } else {
    v.currentTime = seconds;
  }
  if (autoplay) v.play().catch(() => {});
}

// a wall-clock moment → the segment holding it and the second in it; between segments, the
// start of the next one (or the end of the last)
function seekAt(at) {
  if (!segments.length) return;
  let i = segments.findIndex((s) => at >= segStart(s) && at <= segEnd(s));
  if (i < 0) {
    i = segments.findIndex((s) => segStart(s) > at);
    if (i < 0) return play(segments.length - 1, segments[segments.length - 1].duration_ms);
    return play(i, 0);
  }
  play(i, at - segStart(segments[i]));
}

// the next segment, at the end of one or when one cannot be decoded
function moveOn(reason) {
  const from = current;
  if (from + 1 >= segments.length) {
    if (reason === 'error') notify(t('audit.player.error.last').replace('{n}', from + 1));
    return;
  }
  notify(t(reason === 'error' ? 'audit.player.error' : 'audit.player.next').replace('{n}', from + 1).replace('{m}', from + 2));
  play(from + 1, 0, true);
}

function drawAxis(entries) {
  const times = [...segments.flatMap((s) => [segStart(s), segEnd(s)]), ...entries.map((e) => e.at)];
  axis.from = Math.min(...times);
  axis.span = Math.max(1, Math.max(...times) - axis.from);
  const bars = segments.map((s, index) => {
    const bar = document.createElement('div');
    bar.className = 'segment-bar';
    bar.dataset.index = String(index);
    bar.style.left = pct(segStart(s));
    bar.style.width = `${(100 * s.duration_ms) / axis.span}%`;
    bar.title = `${t('audit.segment')} ${index + 1} · ${new Date(segStart(s)).toLocaleTimeString()} · ${clock(s.duration_ms)}`;
    bar.addEventListener('click', (ev) => {
      const box = $('markers').getBoundingClientRect();
      seekAt(axis.from + ((ev.clientX - box.left) / box.width) * axis.span);
    });
    // video dropped after loss that could not be repaired (when the server reports it)
    for (const g of s.gaps || []) {
      const gap = document.createElement('div');
      gap.className = 'loss-gap';
      gap.style.left = `${(100 * (g.at - segStart(s))) / Math.max(1, s.duration_ms)}%`;
      gap.style.width = `${Math.max(0.5, (100 * g.duration_ms) / Math.max(1, s.duration_ms))}%`;
      gap.title = `${t('audit.gap')} · ${new Date(g.at).toLocaleTimeString()} · ${(g.duration_ms / 1000).toFixed(1)} s`;
      bar.append(gap);
    }
    return bar;
  });
  let lastLeft = -100, stack = 0;
  const markers = entries.filter((e) => MARKED.includes(e.action)).map((e) => {
    const b = document.createElement('button');
    const left = (100 * (e.at - axis.from)) / axis.span;
    stack = left - lastLeft < 1.2 ? stack + 1 : 0;   // events at the same moment stack upwards
    lastLeft = left;
    b.className = `marker ${e.action.replace(/\./g, '-')}`;
    b.style.left = `${left}%`;
    b.style.top = `${0.2 - stack * 0.5}rem`;
    b.style.zIndex = String(10 + stack);
    b.title = describe(e);
    b.setAttribute('aria-label', describe(e));
    b.dataset.action = e.action;
    b.dataset.at = String(e.at);   // the wall-clock moment of the event
    b.addEventListener('click', (ev) => { ev.stopPropagation(); seekAt(e.at); });
    return b;
  });
  const head = Object.assign(document.createElement('div'), { className: 'playhead hidden' });
  head.id = 'playhead';
  $('markers').replaceChildren(...bars, ...markers, head);
}

function movePlayhead() {
  const v = $('player');
  if (current < 0) return;
  const at = segStart(segments[current]) + v.currentTime * 1000;
  $('playhead').style.left = pct(at);
  $('playhead').classList.remove('hidden');
  $('wallclock').textContent = `${new Date(at).toLocaleString()} · ${clock(v.currentTime * 1000)} / ${clock(segments[current].duration_ms)}`;
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
  // the candidate pair each peer's connection selected, session by session (issue 13)
  $('case-ice').textContent = (c.body.sessions || []).flatMap((s) => (s.peers || []).filter((p) => p.ice)
    .map((p) => `#${s.id} ${p.role} ${p.name || p.peer}: ${p.ice.server} ↔ ${p.ice.peer}`)).join(' · ');
  $('case-ice').dataset.pairs = (c.body.sessions || []).flatMap((s) => (s.peers || []).filter((p) => p.ice)
    .map((p) => `${p.role}:${p.ice.server}:${p.ice.peer}`)).join(' ');
  $('report-link').href = `/report/#case=${encodeURIComponent(ref)}`;
  $('report-pdf').href = `/api/cases/${encodeURIComponent(ref)}/report.pdf`;
  $('integrity').replaceChildren();
  segments = tl.body.recordings.filter((s) => s.url && s.duration_ms > 0).sort((x, y) => segStart(x) - segStart(y));
  current = -1;
  notify('');
  $('wallclock').textContent = '';
  $('player').removeAttribute('src');
  drawAxis(tl.body.entries);
  $('timeline').replaceChildren(...tl.body.entries.map((e) => {
    const li = document.createElement('li');
    li.textContent = describe(e);
    li.title = `hash ${e.hash}`;
    if (MARKED.includes(e.action)) {
      li.tabIndex = 0;
      li.classList.add('seekable');
      li.addEventListener('click', () => seekAt(e.at));
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
const me = await signIn($('page'));
$('search').addEventListener('submit', search);
$('verify').addEventListener('click', verify);
$('player').addEventListener('loadedmetadata', () => {
  if (pendingSeek !== null) { $('player').currentTime = pendingSeek; pendingSeek = null; }
});
// playing, as the auditor left it: a seek to a segment's very end while paused also fires
// 'ended', which must not start the next segment (at a natural end 'pause' comes with ended set)
let playing = false;
$('player').addEventListener('play', () => { playing = true; });
$('player').addEventListener('pause', () => { if (!$('player').ended) playing = false; });
$('player').addEventListener('ended', () => { if (playing) moveOn('ended'); });
$('player').addEventListener('error', () => { if ($('player').getAttribute('src')) moveOn('error'); });
$('player').addEventListener('timeupdate', movePlayhead);
$('player').addEventListener('seeked', movePlayhead);
search();
const fromHash = new URLSearchParams(location.hash.slice(1)).get('case');
if (fromHash) openCase(fromHash);
