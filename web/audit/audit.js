// audit/audit.js — the auditor: search, then a case's recordings and events on one wall-clock
// axis (gaps between segments shown as gaps; a marker click plays the segment holding that
// moment at that second; the player moves on at a segment's end and on a decode error, and
// says so), the audit entries told as a story, and the check. The axis lies below the player
// (never on its controls): segment bars, then the event markers in lanes, one shape per kind
// (the legend names them). Each entry is a sentence in the chosen language naming the person,
// its time in the bureau's zone (the timeline's `timezone`); a captured still is shown with
// its drawing over it. Entries that have a moment in the video are buttons (Enter, Space; Up and
// Down move between them).
import { t, tf, tv, applyTranslations, installLanguageSwitch, setTimeZone, fmtDateTime, fmtTime, fmtNumber,
  fmtDay, currentLang } from '../lib/i18n.js';
import { api } from '../lib/session.js';
import { signIn } from '../lib/staff.js';
import { errorText } from '../lib/errors.js';
import { dateField, checkDateField, parseDay } from '../lib/dateinput.js';

const $ = (id) => document.getElementById(id);
const MARKER_PX = 26, LANE_TOP_REM = 1.75, LANE_REM = 1.75;   // a marker's width (with a gap), where its lanes begin, a lane's height
const MARKED = ['mark', 'still.captured', 'decision', 'decision.countersigned', 'decision.returned', 'participant.joined',
  'participant.left', 'recording.started', 'challenge.seen', 'location', 'case.status', 'participant.connected', 'reach.no_media'];
let segments = [], current = -1, pendingSeek = null, caseRef = null;
let shown = null;   // the open case: { c: its facts, tl: its timeline }, kept to redraw in another language or width

async function search(e) {
  if (e) e.preventDefault();
  const days = [$('search-from'), $('search-to')];   // typed in the chosen language's format (lib/dateinput.js)
  const wrong = days.find((input) => !checkDateField(input));
  if (wrong) { if (e) wrong.reportValidity(); return; }
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($('search'))) if (v) params.set(k, k === 'from' || k === 'to' ? parseDay(v) : v);
  const r = await api(`/api/search?${params}`);
  if (!r.ok) return;
  $('results').replaceChildren(...r.body.cases.map((c) => {
    const li = document.createElement('li');
    li.tabIndex = 0;
    li.dataset.ref = c.ref;
    li.textContent = `${c.ref} · ${c.applicant_name || '–'} · ${c.owner || '–'} · ${tv('status', c.status)} · ${fmtDay(c.accepted_on)}`;
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
    `${fmtDateTime(segStart(s))} · ${clock(s.duration_ms)} · SHA-256 ${s.sha256}`;
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
  } else if (pendingSeek !== null) {
    pendingSeek = seconds;   // its metadata is still on the way: the latest click wins when it comes
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
    bar.title = `${t('audit.segment')} ${index + 1} · ${fmtTime(segStart(s))} · ${clock(s.duration_ms)}`;
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
      gap.title = `${t('audit.gap')} · ${fmtTime(g.at)} · ${fmtNumber(g.duration_ms / 1000, 1)} s`;
      bar.append(gap);
    }
    return bar;
  });
  // markers in lanes below the bars: one that would touch the last of a lane goes to the next
  // lane down (never up, onto the player)
  const width = $('markers').clientWidth || 800;
  const lanes = [];   // the right edge (px) of the last marker of each lane
  const markers = entries.filter((e) => MARKED.includes(e.action)).map((e) => {
    const b = document.createElement('button');
    const left = (100 * (e.at - axis.from)) / axis.span;
    const px = (left / 100) * width;
    let lane = lanes.findIndex((right) => px - right >= MARKER_PX);
    if (lane < 0) { lane = lanes.length; lanes.push(0); }
    lanes[lane] = px;
    b.type = 'button';
    b.className = `marker ${e.action.replace(/\./g, '-')} kind-${kindOf(e)}`;
    b.style.left = `${left}%`;
    b.style.top = `calc(${LANE_TOP_REM}rem + ${lane} * ${LANE_REM}rem)`;
    b.title = `${fmtDateTime(e.at)} · ${describe(e)}`;
    b.setAttribute('aria-label', b.title);
    b.dataset.action = e.action;
    b.dataset.kind = kindOf(e);
    b.dataset.at = String(e.at);   // the wall-clock moment of the event
    b.addEventListener('click', (ev) => { ev.stopPropagation(); seekAt(e.at); });
    return b;
  });
  $('markers').style.height = `${LANE_TOP_REM + Math.max(1, lanes.length) * LANE_REM}rem`;
  $('axis-from').textContent = fmtDateTime(axis.from);
  $('axis-to').textContent = fmtDateTime(axis.from + axis.span);
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
  $('wallclock').textContent = `${fmtDateTime(at)} · ${clock(v.currentTime * 1000)} / ${clock(segments[current].duration_ms)}`;
}

// the kind of an event, for its marker's shape and colour (the legend names them)
function kindOf(e) {
  if (e.action === 'mark') return (e.detail || {}).result === 'pass' ? 'pass' : 'fail';
  if (e.action.startsWith('still.')) return 'still';
  if (e.action.startsWith('decision')) return 'decision';
  if (e.action.startsWith('participant.')) return 'people';
  if (e.action.startsWith('recording.')) return 'recording';
  return 'other';
}

// who did it, as a person: the applicant by name, staff by their user name, the server and the
// command line in words
// (a live participant is "ROLE:PEER": named by its participant.joined entry)
function who(e) {
  const applicantName = shown && shown.c.applicant_name;
  const [role, peer] = (e.actor || '').split(':');
  if (role === 'applicant') return applicantName || t('story.who.applicant');
  if (peer !== undefined) return (shown && shown.names[e.actor]) || (e.detail || {}).name || tv('role', role);
  if (e.actor === 'server') return t('story.who.server');
  if (e.actor === 'cli' || e.actor === 'serve') return t('story.who.cli');
  return e.actor || t('story.who.server');
}

// the entry as a sentence in the chosen language: no action key, no epoch number
function describe(e) {
  const d = e.detail || {};
  const vars = { ...d, who: who(e) };
  switch (e.action) {
    case 'mark':
      return tf(d.note ? 'story.mark.note' : 'story.mark', { ...vars, result: tv('result', d.result) });
    case 'decision':
      return tf('story.decision', { ...vars, kind: tv('decided', d.kind), reason: d.reason || '–' });
    case 'decision.returned':
      return tf('story.decision.returned', { ...vars, note: d.note || '–' });
    case 'case.status':
      return tf('story.case.status', { ...vars, from: tv('status', d.from), to: tv('status', d.to) });
    case 'case.created':
      return tf('story.case.created', { ...vars, owner: d.owner || '–', deadline: fmtDay(d.deadline_on) });
    case 'case.co_reviewer_added':
      return tf('story.case.co_reviewer_added', { ...vars, user: d.username, dept: tv('dept', d.department) });
    case 'case.reopened':
      return tf('story.case.reopened', { ...vars, reason: d.reason || '–' });
    case 'challenge.seen':
      return tf('story.challenge.seen', { ...vars, code: d.challenge || '' });
    case 'invite.issued':
      return tf('story.invite.issued', { ...vars, expires: fmtDateTime(Number(d.expires_at)) });
    case 'invite.revoked':
      return tf('story.invite.revoked', { ...vars, count: d.count || '1' });
    case 'recording.archived':
      return tf('story.recording.archived', { ...vars, seconds: fmtNumber(Number(d.duration_ms || 0) / 1000, 1) });
    case 'recording.started':
      return tf('story.recording.started', { ...vars, segment: d.segment || '' });
    default: {
      const key = `story.${e.action}`;
      return t(key) === key ? tf('story.other', vars) : tf(key, vars);
    }
  }
}

// a still with its drawing over it: shapes in 0…1 image coordinates (review/drawing.js) as SVG
const SVG = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}
function stillFigure(still) {
  const fig = document.createElement('figure');
  fig.className = 'still';
  fig.dataset.still = String(still.id);
  const img = Object.assign(document.createElement('img'), { src: still.url, alt: `${t('review.still')} ${still.id}` });
  const svg = svgEl('svg', { viewBox: '0 0 100 100', preserveAspectRatio: 'none', class: 'drawing-over', 'aria-hidden': 'true' });
  for (const sh of Array.isArray(still.annotation) ? still.annotation : []) {
    const [x1, y1, x2, y2] = [sh.x1, sh.y1, sh.x2, sh.y2].map((v) => 100 * Number(v));
    if (sh.kind === 'box') svg.append(svgEl('rect', { x: Math.min(x1, x2), y: Math.min(y1, y2), width: Math.abs(x2 - x1), height: Math.abs(y2 - y1) }));
    else if (sh.kind === 'circle') svg.append(svgEl('ellipse', { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, rx: Math.abs(x2 - x1) / 2, ry: Math.abs(y2 - y1) / 2 }));
    else {
      const a = Math.atan2(y2 - y1, x2 - x1), h = 5;
      svg.append(svgEl('path', { d: `M${x1} ${y1}L${x2} ${y2}M${x2 - h * Math.cos(a - 0.4)} ${y2 - h * Math.sin(a - 0.4)}L${x2} ${y2}` +
        `L${x2 - h * Math.cos(a + 0.4)} ${y2 - h * Math.sin(a + 0.4)}` }));
    }
    svg.lastChild.dataset.kind = sh.kind;
  }
  const box = Object.assign(document.createElement('div'), { className: 'still-box' });
  box.append(img, svg);
  fig.append(box, Object.assign(document.createElement('figcaption'), { className: 'muted hash',
    textContent: `${t(svg.childElementCount ? 'audit.drawing' : 'review.still')} · SHA-256 ${still.sha256}` }));
  return fig;
}

function timelineItem(e, stills) {
  const li = document.createElement('li');
  li.dataset.action = e.action;
  li.dataset.entry = String(e.id);
  li.dataset.kind = kindOf(e);
  const time = Object.assign(document.createElement('time'), { textContent: fmtDateTime(e.at) });
  time.dateTime = new Date(e.at).toISOString();
  // an entry with a moment on the axis is a button inside its list item (a list item that is
  // itself a button stops being one of the list's items for assistive technology)
  const seekable = MARKED.includes(e.action);
  const sentence = Object.assign(document.createElement(seekable ? 'button' : 'span'),
    { className: seekable ? 'sentence seek' : 'sentence', textContent: describe(e) });
  li.append(time, ' ', sentence);
  li.title = `hash ${e.hash}`;
  if (seekable) {
    sentence.type = 'button';
    sentence.setAttribute('aria-description', t('audit.seek'));
    li.classList.add('seekable');
    sentence.addEventListener('click', () => seekAt(e.at));   // Enter and Space click a button
  }
  const still = (e.action === 'still.captured' || e.action === 'photo.captured') && stills.find((s) => String(s.id) === String((e.detail || {}).still));
  if (still) li.append(stillFigure(still));
  return li;
}

// Consecutive views by one person (each request for a recording or a still is audited: a
// replay makes dozens) are one line, "zhaomin viewed … 5 times, 10:02–10:40", whose entries
// open below it; one view alone stays its own sentence.
const isView = (e) => e.action.endsWith('.accessed');
function viewsItem(run) {
  const first = run[0], last = run[run.length - 1];
  const li = document.createElement('li');
  li.dataset.action = 'views';
  li.dataset.count = String(run.length);
  li.dataset.entry = String(first.id);
  li.dataset.entries = run.map((e) => e.id).join(' ');
  const time = Object.assign(document.createElement('time'), { textContent: fmtDateTime(first.at) });
  time.dateTime = new Date(first.at).toISOString();
  const details = document.createElement('details');
  const summary = Object.assign(document.createElement('summary'), { className: 'sentence',
    textContent: tf('story.views', { who: who(first), count: fmtNumber(run.length), from: fmtTime(first.at), to: fmtTime(last.at) }) });
  const each = Object.assign(document.createElement('div'), { className: 'views' });   // no nested <li>: one per story line
  each.append(...run.map((e) => {
    const item = Object.assign(document.createElement('p'), { textContent: `${fmtTime(e.at)} ${describe(e)}` });
    item.dataset.entry = String(e.id);
    item.title = `hash ${e.hash}`;
    return item;
  }));
  details.append(summary, each);
  li.append(time, ' ', details);
  return li;
}
function storyItems(entries, stills) {
  const out = [];
  for (let i = 0; i < entries.length;) {
    let j = i + 1;
    if (isView(entries[i])) while (j < entries.length && isView(entries[j]) && entries[j].actor === entries[i].actor) j++;
    out.push(j - i > 1 ? viewsItem(entries.slice(i, j)) : timelineItem(entries[i], stills));
    i = j;
  }
  return out;
}

// the case's facts and story in the chosen language (again after a switch)
function render() {
  if (!shown) return;
  const { c, tl } = shown;
  shown.names = Object.fromEntries(tl.entries.filter((e) => e.action === 'participant.joined' && e.detail && e.detail.name)
    .map((e) => [e.actor, e.detail.name]));
  $('case-facts').textContent = [c.applicant_name, c.site_address, c.owner, tv('status', c.status),
    `${fmtDay(c.accepted_on)} → ${fmtDay(c.deadline_on)}`].filter(Boolean).join(' · ');
  $('times-in').textContent = tf('audit.times_in', { zone: tl.timezone || '' });
  // the candidate pair each peer's connection selected, session by session (issue 13)
  $('case-ice').textContent = (c.sessions || []).flatMap((s) => (s.peers || []).filter((p) => p.ice)
    .map((p) => `#${s.id} ${tv('role', p.role)} ${p.name || p.peer}: ${p.ice.server} ↔ ${p.ice.peer}`)).join(' · ');
  drawAxis(tl.entries);
  $('timeline').replaceChildren(...storyItems(tl.entries, c.stills || []));
  if (current >= 0) { showSegment(current); movePlayhead(); }
}

async function openCase(ref) {
  caseRef = ref;
  const [c, tl] = await Promise.all([api(`/api/cases/${encodeURIComponent(ref)}`), api(`/api/cases/${encodeURIComponent(ref)}/timeline`)]);
  if (!c.ok || !tl.ok) { $('case-facts').textContent = errorText(tl.ok ? c.body : tl.body); return; }
  if (tl.body.timezone) setTimeZone(tl.body.timezone);
  $('case').classList.remove('hidden');
  $('case-title').textContent = ref;
  $('case-ice').dataset.pairs = (c.body.sessions || []).flatMap((s) => (s.peers || []).filter((p) => p.ice)
    .map((p) => `${p.role}:${p.ice.server}:${p.ice.peer}`)).join(' ');
  $('report-link').href = `/report/#case=${encodeURIComponent(ref)}`;
  pdfLink();
  $('integrity').replaceChildren();
  segments = tl.body.recordings.filter((s) => s.url && s.duration_ms > 0).sort((x, y) => segStart(x) - segStart(y));
  current = -1;
  notify('');
  $('wallclock').textContent = '';
  $('player').removeAttribute('src');
  shown = { c: c.body, tl: tl.body };
  render();
  if (segments.length) play(0, 0);
}

// the PDF in the page's language
function pdfLink() {
  if (caseRef) $('report-pdf').href = `/api/cases/${encodeURIComponent(caseRef)}/report.pdf?lang=${encodeURIComponent(currentLang())}`;
}

const MB = (n) => fmtNumber(n / 1048576, n < 10485760 ? 1 : 0);

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
  if (!r.ok) { $('integrity').textContent = errorText(r.body); return; }
  const v = r.body;
  const head = document.createElement('p');
  head.className = v.ok ? 'ok' : 'error';
  head.textContent = v.chain.ok ? `${t('audit.chain.ok')} (${v.chain.checked})` : `${t('audit.chain.bad')} #${v.chain.first_bad_entry}`;
  const list = document.createElement('ul');
  list.append(...v.files.map((f) => Object.assign(document.createElement('li'), {
    className: f.status === 'ok' || f.status === 'purged' ? 'ok' : 'error',
    textContent: `${tv('file.kind', f.kind)} ${f.id} · ${f.file} · ${t(`audit.file.${f.status}`)}` })));
  $('integrity').replaceChildren(head, list);
}

applyTranslations();
installLanguageSwitch($('lang'), () => { search(); render(); pdfLink(); });
window.addEventListener('resize', () => { if (shown) { drawAxis(shown.tl.entries); movePlayhead(); } });
const me = await signIn($('page'));
if (me.timezone) setTimeZone(me.timezone);
dateField($('search-from'));
dateField($('search-to'));
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
// an 'ended' or 'error' queued for a segment the auditor has since left (a marker clicked near
// its end on a busy machine) is stale: the element no longer says so, and nothing moves on
$('player').addEventListener('ended', () => { if (playing && $('player').ended) moveOn('ended'); });
$('player').addEventListener('error', () => { if ($('player').getAttribute('src') && $('player').error) moveOn('error'); });
// the timeline's entries by the keyboard: Up and Down (Home, End) move between those that seek
$('timeline').addEventListener('keydown', (e) => {
  if (!e.target.matches('button.seek')) return;
  const all = [...$('timeline').querySelectorAll('button.seek')], i = all.indexOf(e.target);
  const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: all.length - 1 }[e.key];
  if (to === undefined || !all[to]) return;
  e.preventDefault();
  all[to].focus();
});
$('player').addEventListener('timeupdate', movePlayhead);
$('player').addEventListener('seeked', movePlayhead);
search();
const fromHash = new URLSearchParams(location.hash.slice(1)).get('case');
if (fromHash) openCase(fromHash);
