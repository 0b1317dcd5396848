// review/review.js — the reviewer: joins a case's live inspection, answers the server's offers
// (a new `pc` = a new RTCPeerConnection), shows the video, talks back, issues invites.
// The URL is the state: `#case=` names the open case (a click on the list is a step in the
// history; back, forward and a pasted link switch the case). What refreshes by itself (the
// case list, the checklist) is updated in place, so the keyboard focus stays where it is.
// The case list is a listbox: one entry in the tab order, arrow keys move between entries.
// The decision and a countersignature are confirmed in a <dialog> that says what follows
// (confirm.js); the decision form is offered only while the case can be decided.
import { t, tf, applyTranslations, installLanguageSwitch, fmtDateTime, fmtClock } from '../lib/i18n.js';
import { openSignal, mediaStats, rtcConfig } from '../lib/signal.js';
import { errorText } from '../lib/errors.js';
import { api } from '../lib/session.js';
import { signIn } from '../lib/staff.js';
import { Checklist } from './checklist.js';
import { installPhotoRequests } from './photo.js';
import { openDrawing } from './drawing.js';
import { showLink, clearLink, intervalLoss } from './link.js';
import { confirmAction } from './confirm.js';
import { CameraDesk } from './camera_control.js';
import { unplayableVideo } from './codec_check.js';
import { DeskWaiting } from './waiting.js';

const $ = (id) => document.getElementById(id);
let current = null, signal = null, pc = null, pcId = null, mic = null, retryTimer = null, lastStats = null;
let joined = null;   // the server's last `joined` message: carries this connection's iceServers
let signalEnded = false;   // the server let this connection go for good (closed case, revoked access): no retry
let people = [];   // the last `participants` message's list (shown again in another language)
let shownCase = null;   // the open case as last fetched (its facts are written again in another language)
const checklist = new Checklist($('checklist'), (body) => { $('hint').textContent = errorText(body); });
checklist.onOpenStill = (still) => openDrawing($('drawing'), current, still);
checklist.onRender = (items) => showSummary(items);
installPhotoRequests(checklist);   // "Ask for a photo" on each item (photo.js)
const camera = new CameraDesk($('camera-controls'), $('video'), (msg) => signal && signal.send(msg));   // the phone's camera
const waiting = new DeskWaiting({ send: (msg) => signal && signal.send(msg), current: () => current });   // waiting.js

// the marks so far, above the decision: how many items are marked, failed, not shown
function showSummary(items) {
  const count = (r) => items.filter((i) => i.mark && i.mark.result === r).length;
  $('decide-summary').textContent = t('desk.decide.summary')
    .replace('{marked}', items.filter((i) => i.mark).length).replace('{total}', items.length)
    .replace('{pass}', count('pass')).replace('{fail}', count('fail')).replace('{not_shown}', count('not_shown'));
}

// the open case's facts, checklist, challenge and decision form
async function loadCase() {
  if (!current) return;
  const ref = current;
  const r = await api(`/api/cases/${encodeURIComponent(ref)}`);
  if (ref !== current) return;   // another case was opened meanwhile (back, forward, the list)
  if (!r.ok) { $('hint').textContent = errorText(r.body); return; }
  const c = r.body;
  checklist.show(ref, c);
  shownCase = c;
  showFacts();
  const session = c.sessions[c.sessions.length - 1];
  $('challenge').textContent = c.challenge || '';
  $('challenge-box').classList.toggle('hidden', !c.challenge);
  $('challenge-seen').disabled = !!(session && session.challenge_seen_by) || !c.can.includes('mark');
  if (session && session.location) showLocation(session.location);
  showDecision(c);
  // a finally decided case: a lead of its department (or an admin) may reopen it
  $('reopen').classList.toggle('hidden', !c.can.includes('reopen') || !['approved', 'rejected'].includes(c.status));
}

// the facts line of the open case: written from its last fetch, again whenever its status
// changes (a `state`, `decision` or `session` message, or the case list's refresh)
function showFacts() {
  const c = shownCase;
  if (!c || c.ref !== current) { $('facts').textContent = ''; return; }
  const facts = [c.applicant_name, c.site_address, `${t('review.deadline')} ${c.deadline_on}`,
    `${t('review.status')}: ${t(`status.${c.status}`)}`, c.owner && `${t('review.owner')}: ${c.owner}`,
    c.co_reviewers.length && `${t('review.co')}: ${c.co_reviewers.join(', ')}`,
    // the applicant's acknowledgement of the notice (issue 18), or that it is still awaited
    c.notice_ack ? t('desk.ack.done').replace('{name}', c.notice_ack.name).replace('{at}', fmtDateTime(c.notice_ack.at))
      : c.status === 'rectification_required' && t('desk.ack.waiting')].filter(Boolean);
  $('facts').textContent = facts.join(' · ');
  $('facts').dataset.ack = c.notice_ack ? 'acknowledged' : c.notice_unacknowledged ? 'flagged' : '';   // test hook
  $('facts').dataset.status = c.status;   // test hook: the status the line shows
}

// The decision form only while a decision can be made: during a live inspection (any of the
// three), after a one-time notice (a rejection only); never on a decided case, whose state is
// said instead.
const DECIDABLE = { inspecting: ['approve', 'rectify', 'reject'], rectification_required: ['reject'] };
function showDecision(c) {
  const kinds = c.can.includes('decide') ? DECIDABLE[c.status] : null;
  if (!kinds && $('decide').contains(document.activeElement)) $('decide-result').focus();   // not lost with the form
  $('decide').classList.toggle('hidden', !kinds);
  if (kinds) {
    for (const option of $('decide-kind').options) option.disabled = !kinds.includes(option.value);
    if (!kinds.includes($('decide-kind').value)) $('decide-kind').value = kinds[0];
  }
  $('decide-only-reject').hidden = !kinds || kinds.length > 1;   // why approve and rectify cannot be chosen
  const decided = ['approved', 'rejected', 'rejection_pending'].includes(c.status);
  $('decided-note').classList.toggle('hidden', !decided);
  $('decided-note').textContent = decided ? t(`desk.decided.${c.status}`) : '';
}

async function reopen(event) {
  event.preventDefault();
  const r = await api(`/api/cases/${encodeURIComponent(current)}/reopen`, { reason: $('reopen-reason').value });
  $('reopen-result').textContent = r.ok ? '' : errorText(r.body);
  if (r.ok) {   // the form goes away with the closed state: the news goes to the hint line
    $('hint').textContent = t('review.reopened');
    $('reopen-reason').value = '';
    loadCase(); loadCases();
  }
}

function showLocation(loc) {
  const distance = loc.distance_m != null ? ` · ${t('review.distance')} ${loc.distance_m} m` : '';
  $('location').textContent = `${t('review.location')}: ${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)} ±${Math.round(loc.accuracy_m)} m${distance}`;
}

// The lead's queue: each waiting rejection's entry is made once and kept while it waits (the
// list is fetched again every 10 s: an entry replaced under the keyboard would lose the focus);
// when the focused entry goes (countersigned, returned) the focus goes to the next, or the title.
const queueItems = new Map();   // decision id -> li
async function loadQueue() {
  const r = await api('/api/countersign');
  const pending = r.ok ? r.body.decisions : [];
  $('queue-box').classList.toggle('hidden', pending.length === 0);
  const focusedGone = [...queueItems].some(([id, li]) => li.contains(document.activeElement) && !pending.some((d) => d.id === id))
    || (document.activeElement === document.body && $('countersign-dialog').dataset.used);
  delete $('countersign-dialog').dataset.used;
  for (const [id, li] of queueItems)
    if (!pending.some((d) => d.id === id)) { li.remove(); queueItems.delete(id); }
  pending.forEach((d, i) => {
    const li = queueItems.get(d.id) || queueEntry(d);
    queueItems.set(d.id, li);
    if ($('queue').children[i] !== li) $('queue').insertBefore(li, $('queue').children[i] || null);
  });
  if (focusedGone) (pending.length ? $('queue').querySelector('button') : $('cases-title')).focus();
}

function queueEntry(d) {
  const li = document.createElement('li');
  li.append(`${d.case} · ${d.by}: ${d.reason} `);
  for (const sign of [true, false]) {
    const b = document.createElement('button');
    b.dataset.i18n = sign ? 'review.countersign' : 'review.return';   // written again in another language
    b.textContent = t(b.dataset.i18n);
    b.dataset.testid = sign ? 'countersign' : 'return';
    b.addEventListener('click', () => confirmAction($('countersign-dialog'), {
      title: `${t(sign ? 'review.countersign' : 'review.return')} · ${d.case}`,
      text: t(sign ? 'desk.countersign.consequence' : 'desk.return.consequence'),
      quote: `${d.by}: ${d.reason}`,
      confirm: t(sign ? 'desk.countersign.confirm' : 'desk.return.confirm'),
      note: !sign,
      run: async (note) => {
        const res = await api(`/api/cases/${encodeURIComponent(d.case)}/countersign`, { decision: d.id, sign, note });
        if (!res.ok) return errorText(res.body);
        $('countersign-dialog').dataset.used = 'true';
        loadQueue();
        if (d.case === current) loadCase();
        return null;
      },
    }));
    li.append(b);
  }
  return li;
}

// the decision: asked once more in a dialog that says what follows, then recorded
function decide(event) {
  event.preventDefault();
  const ref = current, kind = $('decide-kind').value, reason = $('decide-reason').value;
  confirmAction($('decide-dialog'), {
    title: `${t(`decision.${kind}`)} · ${ref}`,
    text: t(`desk.decide.consequence.${kind}`),
    quote: `${reason}\n${$('decide-summary').textContent}`,
    confirm: t(`desk.decide.confirm.${kind}`),
    run: async () => {
      const r = await api(`/api/cases/${encodeURIComponent(ref)}/decisions`, { kind, reason });
      $('decide-result').textContent = r.ok ? t('review.decided') : errorText(r.body);
      if (r.ok) { $('decide-reason').value = ''; loadCase(); loadCases(); }
      return null;   // the result is written beside the form
    },
  });
}

// the case list: each case's entry is made once and updated in place every refresh (an entry
// replaced under the keyboard would lose the focus)
const caseEntries = new Map();   // ref -> li

function caseEntry(ref) {
  let li = caseEntries.get(ref);
  if (!li) {
    li = document.createElement('li');
    li.tabIndex = -1;
    li.setAttribute('role', 'option');
    li.dataset.ref = ref;
    li.addEventListener('click', () => openCase(ref));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openCase(ref); return; }
      const entries = [...$('cases').children];
      const at = entries.indexOf(li);
      const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: entries.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      const next = entries[Math.max(0, Math.min(entries.length - 1, to))];
      if (next) { setRoving(next); next.focus(); }
    });
    li.addEventListener('focus', () => setRoving(li));
    caseEntries.set(ref, li);
  }
  return li;
}

function fillCase(li, c, zh) {
  const parts = [`${c.ref} · ${zh ? c.type_title.zh : c.type_title.en}`];
  if (c.working_days_left !== null && c.working_days_left !== undefined)
    parts.push(c.overdue ? t('review.overdue') : `${c.working_days_left} ${t('review.days_left')}`);
  const waiting = c.waiting_since ? tf('review.wait.since', { time: fmtClock(c.waiting_since) }) : '';
  const shown = JSON.stringify([parts, c.overdue, c.live && t('review.live'), c.notice_unacknowledged && t('desk.ack.flag'), waiting]);
  if (li.dataset.shown === shown) return;
  li.dataset.shown = shown;
  const nodes = [parts[0]];
  if (parts.length > 1) {
    const due = document.createElement('span');
    due.className = c.overdue ? 'due overdue' : 'due';
    due.textContent = parts[1];
    nodes.push(due);
  }
  const flag = (testid, text) => {
    const span = document.createElement('span');
    span.className = 'case-flag';
    span.dataset.testid = testid;
    span.textContent = text;
    nodes.push(span);
  };
  // the notice still unacknowledged after [bureau] notice_ack_days working days
  if (c.notice_unacknowledged) flag('ack-flag', t('desk.ack.flag'));
  // an applicant waits in this case's waiting room: seen from any open case
  if (waiting) flag('waiting-flag', waiting);
  if (c.live) {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = t('review.live');
    nodes.push(badge);
  }
  li.replaceChildren(...nodes);
}

// the one entry of the list in the tab order (the keyboard's place in it)
let roving = null;
function setRoving(li) {
  roving = li;
  for (const entry of caseEntries.values()) entry.tabIndex = entry === li ? 0 : -1;
}

function markCurrentCase() {
  for (const [ref, li] of caseEntries) {
    li.setAttribute('aria-current', String(ref === current));
    li.setAttribute('aria-selected', String(ref === current));
  }
  const focused = document.activeElement && document.activeElement.parentElement === $('cases');
  if (!focused || !roving || !roving.isConnected)   // where the keyboard enters the list: the open case, else the first
    setRoving(caseEntries.get(current) || $('cases').firstElementChild);
}

async function loadCases() {
  const resp = await fetch('/api/cases').catch(() => null);
  if (!resp || !resp.ok) return;
  const { cases } = await resp.json();
  const zh = document.documentElement.lang === 'zh-CN';
  const list = $('cases');
  const entries = cases.map((c) => { const li = caseEntry(c.ref); fillCase(li, c, zh); return li; });
  for (const [ref, li] of caseEntries)
    if (!cases.some((c) => c.ref === ref)) { li.remove(); caseEntries.delete(ref); }
  entries.forEach((li, i) => { if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null); });
  markCurrentCase();
  // the open case changed state meanwhile (a co-reviewer's decision, the applicant coming), or
  // its notice was acknowledged after the case closed (a rejection's: no live room tells it):
  // its facts and decision form follow
  const mine = cases.find((c) => c.ref === current);
  const ackAt = (c) => (c.notice_ack ? c.notice_ack.at : null);
  if (mine && shownCase && shownCase.ref === current && (mine.status !== shownCase.status
    || ackAt(mine) !== ackAt(shownCase))) loadCase();
}

function closePc() {
  if (pc) { pc.close(); pc = null; }
  pcId = null;
}

async function onOffer(msg) {
  if (msg.pc !== pcId) {
    closePc();
    pcId = msg.pc;
    pc = new RTCPeerConnection(rtcConfig(joined));
    pc.onicecandidate = (e) => signal && signal.send({ type: 'ice', pc: pcId, candidate: e.candidate ? e.candidate.candidate : '',
      sdpMLineIndex: e.candidate ? e.candidate.sdpMLineIndex : 0 });
    pc.ontrack = (e) => {   // the server's offer has no msid: build the streams here
      if (e.track.kind === 'video') $('video').srcObject = new MediaStream([e.track]);
      else $('sound').srcObject = new MediaStream([e.track]);
    };
  }
  await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
  const codec = unplayableVideo(msg.sdp);   // a black picture would say nothing: say why
  $('codec-alert').textContent = codec ? t('review.codec.unplayable').replaceAll('{codec}', codec) : '';
  $('codec-alert').hidden = !codec;
  for (const tr of pc.getTransceivers()) {
    if (tr.receiver.track.kind === 'audio') {
      tr.direction = 'sendrecv';   // talk-back without renegotiation: the track is attached later
      if (mic) await tr.sender.replaceTrack(mic);
    }
  }
  await pc.setLocalDescription(await pc.createAnswer());
  signal.send({ type: 'answer', pc: pcId, sdp: pc.localDescription.sdp });
}

// The server could not write the recording (a full disk): say so until it resumes.
function showRecording(msg) {
  const alert = $('recording-alert');
  alert.hidden = msg.state !== 'stopped';
  alert.textContent = msg.state === 'stopped'
    ? t(msg.reason === 'disk_full' ? 'review.recordingDiskFull' : 'review.recordingStopped') : '';
}

// Reachability (issue 13): the candidate pair each connection selected, and an applicant whose
// media never came (with the kinds of candidates each side offered)
const icePairs = {};
function showIce(msg) {
  icePairs[msg.role === 'applicant' ? 'applicant' : 'mine'] = msg;
  $('ice').textContent = ['applicant', 'mine'].filter((k) => icePairs[k])
    .map((k) => `${t(`review.ice.${k}`)}: ${icePairs[k].local} ↔ ${icePairs[k].remote}`).join(' · ');
  $('ice').dataset.applicant = icePairs.applicant ? `${icePairs.applicant.local} ${icePairs.applicant.remote}` : '';
}

function showReach(msg) {
  const none = t('review.reach.none');
  const list = (kinds) => (kinds && kinds.length ? kinds.join(', ') : none);
  $('reach').textContent = `${t('review.reach.no_media').replace('{s}', msg.after_s)} ` +
    t('review.reach.candidates').replace('{a}', list(msg.applicant_candidates)).replace('{b}', list(msg.server_candidates));
  $('reach').dataset.applicantCandidates = (msg.applicant_candidates || []).join(' ');
  $('reach').hidden = false;
}

function onMessage(msg) {
  camera.onMessage(msg);
  waiting.onMessage(msg);   // the waiting room's banner and Admit (waiting.js)
  if (msg.type === 'joined') joined = msg;
  if (msg.type === 'offer') onOffer(msg);
  else if (msg.type === 'ice' && pc && msg.pc === pcId && msg.candidate)
    pc.addIceCandidate({ candidate: msg.candidate, sdpMLineIndex: msg.sdpMLineIndex }).catch(() => {});
  else if (msg.type === 'participants') {
    people = msg.participants;
    showParticipants();
  }
  else if (msg.type === 'state') {
    $('hint').textContent = msg.applicant === 'live' || msg.applicant === 'waiting' ? ''
      : t(msg.applicant === 'reconnecting' ? 'review.reconnecting' : 'review.waiting');
    if (msg.applicant === 'live') $('reach').hidden = true;
    if (msg.applicant === 'absent') clearLink($('link-applicant'), $('link-applicant-word'));
    loadCase();   // the applicant's coming makes the case "inspecting": the facts and the decision follow
  } else if (msg.type === 'link' && msg.who === 'applicant')
    showLink($('link-applicant'), $('link-applicant-word'), msg.kbps, msg.loss_pct, msg.rtt_ms, msg.quality);
  else if (msg.type === 'link_mode')
    $('audio-first').hidden = msg.mode !== 'audio_first';
  else if (msg.type === 'ice_pair')
    showIce(msg);
  else if (msg.type === 'reach')
    showReach(msg);
  else if (msg.type === 'recording')
    showRecording(msg);
  else if (msg.type === 'mark')
    checklist.apply(msg.mark);
  else if (msg.type === 'still')
    checklist.addStill(msg.still);
  else if (msg.type === 'location')
    showLocation(msg);
  else if (msg.type === 'challenge_seen')
    $('challenge-seen').disabled = true;
  else if (msg.type === 'joined' || msg.type === 'decision' || msg.type === 'session' || msg.type === 'acknowledged')
    loadCase();
  else if (msg.type === 'bye' && msg.reason !== 'left') {   // the server let us go: say why, do not come back
    signalEnded = true;
    closePc();
    $('hint').textContent = t(`review.bye.${msg.reason}`) === `review.bye.${msg.reason}` ? t('review.bye.other')
      : t(`review.bye.${msg.reason}`);
    loadCase();
    loadCases();
  } else if (msg.type === 'error') {
    if (msg.code === 'case_closed' || msg.code === 'forbidden' || msg.code === 'unauthenticated') signalEnded = true;
    $('hint').textContent = errorText(msg);
  }
}

// people by name: a reviewer's account, the applicant's name from the case (docs/protocol.md)
function showParticipants() {
  $('participants').replaceChildren(...people.map((p) => {
    const li = document.createElement('li');
    // a WHEP player (docs/whep.md) watches only: never shown as a reviewer
    const role = t(p.role === 'applicant' ? 'review.who.applicant'
      : p.role === 'watcher' ? 'review.who.watcher' : 'review.who.reviewer');
    li.textContent = p.name ? `${p.name} · ${role}` : role;
    li.dataset.role = p.role;
    return li;
  }));
  $('participants-none').hidden = people.length > 0;   // the card says so rather than stand empty
}

function connect() {
  if (!current) return;
  signal = openSignal(onMessage, () => {   // the server went away: come back by ourselves
    closePc();
    if (!retryTimer && !signalEnded) retryTimer = setTimeout(() => { retryTimer = null; connect(); }, 1500);
  });
  signal.opened.then(() => signal.send({ type: 'join', case: current, role: 'reviewer' }))
    .catch(() => {});
}

function join(ref) {
  if (signal) { signal.close(); signal = null; }
  clearTimeout(retryTimer); retryTimer = null;
  signalEnded = false;
  closePc();
  current = ref;
  history.replaceState(null, '', `#case=${encodeURIComponent(ref)}`);
  resetTalk();
  camera.reset();
  people = [];
  showParticipants();
  waiting.reset();
  markCurrentCase();
  $('current').textContent = ref;
  $('hint').textContent = t('review.waiting');
  hideInvite();
  shownCase = null;
  showFacts();
  $('decide').classList.add('hidden');
  $('decided-note').classList.add('hidden');
  $('decide-result').textContent = '';
  $('location').textContent = '';
  $('reach').hidden = true;
  $('ice').textContent = '';
  delete icePairs.applicant; delete icePairs.mine;
  loadCases();
  loadCase();
  connect();
}

// the case in the URL (`#case=REF`), or null
function caseFromHash() {
  return new URLSearchParams(location.hash.slice(1)).get('case');
}

function resetTalkLabel() {
  $('talk').textContent = t($('talk').getAttribute('aria-pressed') === 'true' ? 'review.talk.on' : 'review.talk');
}

// a case chosen from the list: a step in the history (hashchange joins it)
function openCase(ref) {
  const hash = `#case=${encodeURIComponent(ref)}`;
  if (location.hash !== hash) location.hash = hash;
  else if (ref !== current) join(ref);
}

// another case: the microphone is let go and Talk is off (talking to one applicant never
// carries over to the next)
function resetTalk() {
  if (mic) { mic.stop(); mic = null; }
  $('talk').setAttribute('aria-pressed', 'false');
  $('talk').textContent = t('review.talk');
}

async function toggleTalk() {
  const on = $('talk').getAttribute('aria-pressed') !== 'true';
  const ref = current;
  if (on && !mic) {
    const track = (await navigator.mediaDevices.getUserMedia({ audio: true }).catch(() => null))?.getAudioTracks()[0] || null;
    if (ref !== current) { if (track) track.stop(); return; }   // the case changed meanwhile
    mic = track;
  }
  if (mic) mic.enabled = on;
  const sender = pc && pc.getTransceivers().find((tr) => tr.receiver.track.kind === 'audio')?.sender;
  if (sender && mic) await sender.replaceTrack(mic);
  $('talk').setAttribute('aria-pressed', String(on && !!mic));
  $('talk').textContent = t(on && mic ? 'review.talk.on' : 'review.talk');
}

async function makeInvite() {
  if (!current) return;
  const r = await api(`/api/cases/${encodeURIComponent(current)}/invite`, {});
  if (!r.ok) { $('hint').textContent = errorText(r.body); return; }
  const invite = r.body;
  $('invite-url').value = invite.invite_url;
  $('invite-url').classList.remove('hidden');
  $('copy').classList.remove('hidden');
  // the SVG is drawn by our own server from the URL (qr.c): markup we trust
  $('invite-qr').innerHTML = invite.qr_svg;
  document.dispatchEvent(new CustomEvent('kanyan:invite', { detail: invite }));   // slots.js shows the short link
  $('invite-qr').querySelector('svg')?.setAttribute('aria-hidden', 'true');   // its box is the image, named (index.html)
  $('invite-box').classList.remove('hidden');
  $('invite').setAttribute('aria-expanded', 'true');
}

// the invite's link and QR code, put away (another case, revoked, or hidden by the reviewer)
function hideInvite() {
  $('invite-url').classList.add('hidden');
  $('copy').classList.add('hidden');
  $('invite-qr').replaceChildren();
  $('invite-box').classList.add('hidden');
  $('invite').setAttribute('aria-expanded', 'false');
}

applyTranslations();
installLanguageSwitch($('lang'), () => {
  loadCases(); checklist.render(); showParticipants(); resetTalkLabel(); showFacts(); camera.render(); waiting.render();
  if (shownCase) showDecision(shownCase);
});
$('talk').addEventListener('click', toggleTalk);
$('sound-toggle').addEventListener('click', () => {
  const on = $('sound-toggle').getAttribute('aria-pressed') !== 'true';
  $('sound').muted = !on;
  $('sound-toggle').setAttribute('aria-pressed', String(on));
});
$('sound').muted = true;
$('fullscreen').addEventListener('click', () => $('video').requestFullscreen && $('video').requestFullscreen());
$('invite').addEventListener('click', makeInvite);
$('invite').setAttribute('aria-expanded', 'false');
$('invite-close').addEventListener('click', () => { hideInvite(); $('invite').focus(); });
$('revoke').addEventListener('click', async () => {
  if (!current) return;
  const r = await api(`/api/cases/${encodeURIComponent(current)}/revoke-invites`, {});
  $('hint').textContent = r.ok ? `${t('review.revoked')} ${r.body.revoked}` : errorText(r.body);
  if (r.ok) hideInvite();
});
// a viewing token for a third-party WHEP player (docs/whep.md): its URL and bearer token, shown once
$('watch').addEventListener('click', async () => {
  if (!current) return;
  const r = await api(`/api/cases/${encodeURIComponent(current)}/watch-tokens`, {});
  if (!r.ok) { $('hint').textContent = errorText(r.body); return; }
  $('watch-url').value = new URL(r.body.whep_url, location.href).href;
  $('watch-token-value').value = r.body.token;
  $('watch-url').classList.remove('hidden');
  $('watch-token-value').classList.remove('hidden');
});
$('copy').addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText($('invite-url').value));
setInterval(() => { if (!$('desk').classList.contains('hidden')) loadCases(); }, 5000);
setInterval(async () => {
  if (!pc) return;
  const s = await mediaStats(pc, lastStats);
  const previous = lastStats;
  lastStats = s;
  if (!previous) return;   // the first sample only sets the base
  showLink($('stats'), $('link-self-word'), s.bitrateKbps, intervalLoss(s, previous), s.rttMs);
  if (s.width) $('stats').textContent += ` · ${s.width}×${s.height}`;
}, 1000);
const me = await signIn($('desk'));
document.dispatchEvent(new CustomEvent('kanyan:signed-in', { detail: me }));   // slots.js loads its lists
$('decide').addEventListener('submit', decide);
$('reopen').addEventListener('submit', reopen);
$('challenge-seen').addEventListener('click', async () => {
  const r = await api(`/api/cases/${encodeURIComponent(current)}/challenge-seen`, {});
  if (r.ok) $('challenge-seen').disabled = true;
  else $('hint').textContent = errorText(r.body);
});
if (me.role === 'lead') { loadQueue(); setInterval(loadQueue, 10000); }
const fromHash = caseFromHash();
loadCases();
if (fromHash) join(fromHash);
window.addEventListener('hashchange', () => {   // back, forward, a pasted link, a click on the list
  const ref = caseFromHash();
  if (ref && ref !== current) join(ref);
});
