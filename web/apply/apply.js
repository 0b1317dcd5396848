// apply/apply.js — the applicant: camera and microphone to the server over WebRTC, reviewers'
// voices back, and reconnection by itself (a new WebSocket and RTCPeerConnection each time).
import { t, applyTranslations, installLanguageSwitch, fmtDateTime, fmtNumber, setTimeZone } from '../lib/i18n.js';
import { openSignal, mediaStats, rtcConfig } from '../lib/signal.js';
import { errorText } from '../lib/errors.js';
import { preflight } from './preflight.js';
import { installPhoto, photoRequested, render as renderPhoto } from './photo.js';
import { PhoneCamera } from './camera_control.js';
import { WaitingRoom } from './waiting.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.hash.slice(1));
const caseRef = params.get('case');
const token = params.get('token');
let invite = null, stream = null, pc = null, signal = null, state = 'connecting', ended = false;
let facing = 'environment', retryDelay = 1000, retryTimer = null, downTimer = null, lastStats = null;
let outcome = null;   // 'approved' | 'rejected' once the case is finally decided
let joined = null;    // the server's last `joined` message: carries this connection's iceServers
let check = null;     // the pre-flight check's result (preflight.js)
let mediaTimer = null; // no media REACH_WAIT_MS after the first offer of an attempt: the applicant is told what to try
const REACH_WAIT_MS = 15000;
// A connection not up this long after its offer is given up for a new one: the browser's own
// 'failed' can take much longer, or never come (an ICE or DTLS exchange that stalls leaves it
// 'connecting'), and the phone would wait for ever (seen on a busy machine: 75 s, no retry).
const CONNECT_WAIT_MS = 20000;
let connectTimer = null;
// the reviewer's hands on this camera (camera_control.js): its commands, what it can do
const camera = new PhoneCamera({ preview: $('preview'), getStream: () => stream, getPc: () => pc,
  send: (msg) => signal && signal.send(msg) });
const waiting = new WaitingRoom({ stream: () => stream, setState });   // no offer until a reviewer admits (waiting.js)

function showError(key) {
  $('error').textContent = t(key);
  $('error').classList.remove('hidden');
}

function showErrorText(text) {
  $('error').textContent = text;
  $('error').classList.remove('hidden');
}

// the camera and microphone are released: nothing is sent any more
function stopCamera() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  $('preview').srcObject = null;
}

// the case is finally decided: the outcome instead of the live view, and no reconnection
function showOutcome(status) {
  outcome = status || outcome || 'closed';
  ended = true;
  clearTimeout(retryTimer); retryTimer = null;
  teardown();
  stopCamera();
  setState('closed');
  $('challenge-box').classList.add('hidden');
  $('live').classList.add('hidden');
  $('case').classList.add('hidden');
  $('items-card').classList.add('hidden');
  $('outcome').dataset.outcome = outcome;
  $('outcome-text').textContent = t(`apply.outcome.${outcome}`);
  $('outcome').classList.remove('hidden');
}

// the closed case's answer to signature.js (issue 18): a countersigned rejection's notice is still
// acknowledged with this invite — the answer then carries ack_notice/acknowledgement, and the form
// (or who signed) shows under the outcome; any other closed answer hides it
function offerAcknowledgement(closed) {
  // a rejection: its reason above the form, so the applicant knows what they sign for
  const decision = closed && closed.ack_decision;
  const reason = decision && decision.kind === 'reject' ? decision.reason : '';
  $('outcome-reason-text').textContent = reason;
  $('outcome-reason').classList.toggle('hidden', !reason);
  document.dispatchEvent(new CustomEvent('kanyan:invite', { detail: closed && closed.ack_notice ? closed : null }));
}

// the case was decided while this page was away (a reconnection was refused), or just now (the
// server's bye): ask which way, and whether its notice is to be acknowledged
async function closedWhileAway() {
  showOutcome(null);
  const resp = await fetch(`/api/invite?case=${encodeURIComponent(caseRef)}`, { headers: { Authorization: `Bearer ${token}` } })
    .catch(() => null);
  const body = resp ? await resp.json().catch(() => null) : null;
  if (body && body.code === 'case_closed' && body.status) { showOutcome(body.status); offerAcknowledgement(body); }
}

function setState(next) {
  state = next;
  $('status').textContent = next;                       // the stable test hook: the state itself
  $('status').hidden = true;                            // (a code: status-text says it in words)
  $('status-text').textContent = t(`state.${next}`);
  $('status-line').dataset.state = next;
}

function renderCase() {
  if (!invite) return;
  const zh = document.documentElement.lang === 'zh-CN';
  $('case-title').textContent = zh ? invite.type_title.zh : invite.type_title.en;
  $('case-ref').textContent = invite.ref;
  $('items').replaceChildren(...invite.items.map((item) => {
    const li = document.createElement('li');
    li.textContent = zh ? item.title_zh : item.title_en;
    return li;
  }));
}

function renderNotice() {
  // the invite as fetched, for the page's other modules (signature.js: the notice's acknowledgement)
  document.dispatchEvent(new CustomEvent('kanyan:invite', { detail: invite }));
  const n = invite && invite.notice;
  if (!n) return;
  const zh = document.documentElement.lang === 'zh-CN';
  if (invite.timezone) setTimeZone(invite.timezone);   // the bureau's
  $('notice-meta').textContent = `${invite.ref} · ${fmtDateTime(n.issued_at)} · ${n.issued_by}`;
  $('notice-reason').textContent = n.reason;
  $('notice-items').replaceChildren(...n.items.map((item) => {
    const li = document.createElement('li');
    li.value = item.position;
    const title = document.createElement('strong');
    title.textContent = zh ? item.title_zh : item.title_en;
    const what = document.createElement('span');
    what.className = `result ${item.result}`;
    what.textContent = ` — ${t(`mark.${item.result}`)}`;
    li.append(title, what);
    if (item.note) {
      const note = document.createElement('p');
      note.textContent = item.note;
      li.append(note);
    }
    // the evidence stills of this item: fetched with the invite token (an <img> cannot send it)
    for (const still of item.stills || []) {
      const img = document.createElement('img');
      img.className = 'notice-still';
      img.dataset.testid = 'notice-still';
      img.alt = `${t('apply.notice.still')} ${still.id}`;
      img.title = `SHA-256 ${still.sha256}`;
      li.append(img);
      fetch(`/media/stills/${still.id}`, { headers: { Authorization: `Bearer ${token}` } })
        .then((r) => (r.ok ? r.blob() : null))
        .then((blob) => { if (blob) img.src = URL.createObjectURL(blob); });
    }
    return li;
  }));
  $('notice').classList.toggle('hidden', invite.status !== 'rectification_required');
}

// the phone's location, once per live inspection, when the person allows it
function sendLocation() {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition((pos) => {
    fetch(`/api/invite/geo?case=${encodeURIComponent(caseRef)}`, { method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy }) })
      .catch(() => {});
  }, () => {}, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

async function loadInvite() {
  if (!caseRef || !token) return showError('err.link');
  const resp = await fetch(`/api/invite?case=${encodeURIComponent(caseRef)}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!resp.ok) {
    const body = await resp.json().catch(() => null);
    if (body && body.code === 'case_closed') { showOutcome(body.status); return offerAcknowledgement(body); }
    return showError('err.link');
  }
  invite = await resp.json();
  renderCase();
  renderNotice();
  $('case').classList.remove('hidden');
  runCheck();
}

// the pre-flight check: its result in plain words; Start stays possible whatever it says
async function runCheck() {
  if (!window.RTCPeerConnection) return;
  $('check').dataset.result = 'running';
  $('check-text').textContent = t('check.running');
  $('check').classList.remove('hidden');
  check = await preflight(invite && invite.iceServers);
  renderCheck();
}

function renderCheck() {
  if (!check) return;
  $('check').dataset.result = check.result;
  $('check').dataset.kinds = check.kinds.join(' ');
  $('check-text').textContent = t(`check.${check.result}`);
}

// media did not flow in time: what the applicant can try (and, when known, what the check saw)
function showReachHelp() {
  $('reach-help').classList.remove('hidden');
  $('reach-help-check').textContent = check && check.result !== 'ok' ? t(`check.${check.result}`) : '';
}

function hideReachHelp() {
  clearTimeout(mediaTimer); mediaTimer = null;
  $('reach-help').classList.add('hidden');
}

function preferCodecs(transceiver) {
  if (!RTCRtpSender.getCapabilities || !transceiver.setCodecPreferences) return;
  const codecs = RTCRtpSender.getCapabilities('video').codecs;
  const rank = (c) => {
    if (/h264/i.test(c.mimeType) && /profile-level-id=42e01f/.test(c.sdpFmtpLine || '') && /packetization-mode=1/.test(c.sdpFmtpLine || '')) return 0;
    if (/vp8/i.test(c.mimeType)) return 1;
    if (/rtx|red|ulpfec/i.test(c.mimeType)) return 2;
    return 3;
  };
  transceiver.setCodecPreferences([...codecs].sort((a, b) => rank(a) - rank(b)));
}

function scheduleReconnect() {
  if (ended || retryTimer) return;
  setState('reconnecting');
  teardown();
  retryTimer = setTimeout(() => { retryTimer = null; connect(); }, retryDelay);
  // at most 2 s apart: once the link is back, media resumes within a few seconds (issue 14)
  retryDelay = Math.min(retryDelay * 2, 2000);
}

function teardown() {
  clearTimeout(connectTimer);
  connectTimer = null;
  if (signal) { signal.close(); signal = null; }
  if (pc) { pc.close(); pc = null; }
}

function end(key) {
  ended = true;
  waiting.leave();
  teardown();
  stopCamera();
  setState('ended');
  if (key) showError(key);
}

async function onMessage(msg) {
  camera.onMessage(msg);
  if (msg.type === 'joined') {
    joined = msg;
    if (msg.challenge) {
      $('challenge').textContent = msg.challenge;
      $('challenge-box').classList.remove('hidden');
    }
    if (!waiting.onJoined(msg)) await negotiate();
    sendLocation();
    camera.announce();
  } else if (msg.type === 'admitted') {
    if (waiting.onAdmitted(msg) && !pc) { await negotiate(); camera.announce(); }
  } else if (msg.type === 'reach') {
    if (state !== 'live') showReachHelp();
  } else if (msg.type === 'photo_request') {
    photoRequested(msg);   // photo.js: the reviewer asks for a photograph of an item
  } else if (msg.type === 'challenge_seen') {
    $('challenge-box').classList.add('hidden');
  } else if (msg.type === 'decision') {
    if (msg.status === 'approved' || msg.status === 'rejected') { outcome = msg.status; return; }   // a bye follows
    const resp = await fetch(`/api/invite?case=${encodeURIComponent(caseRef)}`, { headers: { Authorization: `Bearer ${token}` } });
    if (resp.ok) { invite = await resp.json(); renderNotice(); }
  } else if (msg.type === 'answer') {
    await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
  } else if (msg.type === 'ice' && pc && msg.candidate) {
    await pc.addIceCandidate({ candidate: msg.candidate, sdpMLineIndex: msg.sdpMLineIndex }).catch(() => {});
  } else if (msg.type === 'bye') {
    if (msg.reason === 'case_closed') closedWhileAway();   // the outcome at once; then its notice to sign
    else if (msg.reason === 'invite_revoked') end('err.revoked');
    else end();
  } else if (msg.type === 'error') {
    if (msg.code === 'replaced') end('err.replaced');
    else if (msg.code === 'case_closed') closedWhileAway();
    else if (msg.code === 'bad_token' || msg.code === 'unknown_case') end('err.link');
    else showErrorText(errorText(msg));
  }
}

async function negotiate() {
  pc = new RTCPeerConnection(rtcConfig(joined));
  window.kanyanPc = pc;   // test hook: the current connection, whose stats the tests read (docs/pages.md)
  if (audioFirst) { audioFirst = false; document.body.dataset.linkMode = 'full'; $('audio-first').classList.add('hidden'); }
  const video = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
  preferCodecs(video);
  // the browser's own balance under a tight link: fewer, smaller pictures the reviewer keeps
  // seeing (keeping 720p left ~1.5 a second at 300 kbit/s, and the sender then stuck far under
  // the link once it recovered). It starts at 720p: the answer names a start bitrate (1 Mbit/s).
  const audioTrack = stream.getAudioTracks()[0];
  if (audioTrack) pc.addTransceiver(audioTrack, { direction: 'sendrecv', streams: [stream] });
  else pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.ontrack = (event) => { $('voices').srcObject = new MediaStream([event.track]); };
  pc.onicecandidate = (event) => signal && signal.send({ type: 'ice', candidate: event.candidate ? event.candidate.candidate : '',
    sdpMLineIndex: event.candidate ? event.candidate.sdpMLineIndex : 0 });
  pc.onconnectionstatechange = () => {
    const s = pc && pc.connectionState;
    if (s === 'connected') { clearTimeout(downTimer); clearTimeout(connectTimer); retryDelay = 1000; hideReachHelp(); setState('live'); }
    else if (s === 'failed') scheduleReconnect();
    else if (s === 'disconnected') { clearTimeout(downTimer); downTimer = setTimeout(scheduleReconnect, 3000); }
  };
  await pc.setLocalDescription(await pc.createOffer());
  signal.send({ type: 'offer', sdp: pc.localDescription.sdp });
  const offered = pc;
  clearTimeout(connectTimer);
  connectTimer = setTimeout(() => {
    connectTimer = null;
    if (pc === offered && pc.connectionState !== 'connected') scheduleReconnect();
  }, CONNECT_WAIT_MS);
  // one attempt spans the reconnects of a failing ICE: its wait is not restarted by each of them
  if (!mediaTimer && $('reach-help').classList.contains('hidden'))
    mediaTimer = setTimeout(() => { mediaTimer = null; if (state !== 'live' && !ended) showReachHelp(); }, REACH_WAIT_MS);
}

function connect() {
  if (ended) return;
  if (state !== 'reconnecting') setState('connecting');
  signal = openSignal(onMessage, scheduleReconnect);
  signal.opened.then(() => signal && signal.send({ type: 'join', case: caseRef, role: 'applicant', token, ...waiting.joinFields() }))
    .catch(scheduleReconnect);
}

async function start() {
  if (!window.RTCPeerConnection || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return showError('err.unsupported');
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: facing, width: { ideal: 1280 }, height: { ideal: 720 }, zoom: true }, audio: true });
  } catch (err) {
    return showError(err.name === 'NotAllowedError' ? 'err.denied' : err.name === 'NotFoundError' ? 'err.nocamera' : 'err.unsupported');
  }
  $('preview').srcObject = stream;
  $('case').classList.add('hidden');
  $('live').classList.remove('hidden');
  const caps = stream.getVideoTracks()[0].getCapabilities ? stream.getVideoTracks()[0].getCapabilities() : {};
  if (caps.torch) $('torch').classList.remove('hidden');
  connect();
  setInterval(async () => {
    if (!pc) return;
    const s = await mediaStats(pc, lastStats);
    lastStats = s;
    $('quality').textContent = `${fmtNumber(s.bitrateKbps)} kbit/s · ${t('link.rtt')} ${s.rttMs ?? '–'} ms · ${s.lossPct}% ${t('link.loss')}`;
  }, 2000);
  setInterval(watchLink, 250);
  setInterval(watchUplink, 1000);
}

// The server sends all the time on a live connection: its congestion feedback (several reports
// a second while we send), receiver reports, the reviewers' talk-back mix (silence included).
// When no byte came for 1.5 s the link is down — say so at once, long before the browser calls
// the connection "disconnected" (~7 s). Bytes again on the same connection: live again; none
// for 4 s: start over on a new connection (retried every 2 s at most, so media is back within
// seconds of the link's return). (Counting the talk-back audio alone, a busy server whose mix
// had not started yet left the page unaware for 8 s.)
let linkPc = null, linkReceived = -1, linkSince = 0, linkFlowed = false;
async function watchLink() {
  if (!pc || ended || (state !== 'live' && state !== 'reconnecting')) return;
  const current = pc;
  let n = 0;
  (await current.getStats()).forEach((s) => {
    if (s.type === 'transport') n += s.bytesReceived || 0;
    else if (s.type === 'inbound-rtp' && s.kind === 'audio') n += s.packetsReceived || 0;   // a browser without transport stats
  });
  if (current !== pc) return;
  if (linkPc !== current) { linkPc = current; linkReceived = -1; linkFlowed = false; }
  const now = Date.now();
  if (n !== linkReceived) {
    linkFlowed = linkFlowed || linkReceived >= 0;   // it grew on this connection: the server sends
    linkReceived = n;
    linkSince = now;
    if (state === 'reconnecting' && !retryTimer && pc.connectionState === 'connected') setState('live');
  } else if (linkFlowed && state === 'live' && now - linkSince >= 1500) {
    setState('reconnecting');
  } else if (linkFlowed && state === 'reconnecting' && !retryTimer && now - linkSince >= 4000) {
    scheduleReconnect();
  }
}

// Sound before picture (issue 14): while the uplink estimate (the congestion controller's
// availableOutgoingBitrate, fed by the server's feedback) stays under joined.audio_first_kbps
// for 3 s, the picture drops to its lowest — a quarter of its size, one frame a second, 60 kbit/s
// at most — so the sound goes on. It comes back by itself once the estimate has stayed over
// twice that for 5 s; and since a nearly idle sender's estimate grows slowly, full video is
// tried again after 20 s (a bad link sends it back within 3 s). Both screens say so.
const AUDIO_FIRST_UNDER_MS = 3000, AUDIO_FIRST_OVER_MS = 5000, AUDIO_FIRST_RETRY_MS = 20000;
let audioFirst = false, underSince = 0, overSince = 0, audioFirstSince = 0;
async function watchUplink() {
  if (!pc || ended || state !== 'live' || !joined || !joined.audio_first_kbps) return;
  const current = pc;
  const report = await current.getStats();
  let estimate = null;
  report.forEach((s) => {
    const pair = s.type === 'transport' && s.selectedCandidatePairId && report.get(s.selectedCandidatePairId);
    if (pair && pair.availableOutgoingBitrate) estimate = pair.availableOutgoingBitrate / 1000;
  });
  if (current !== pc || estimate === null) return;
  const now = Date.now(), floor = joined.audio_first_kbps;
  if (!audioFirst) {
    underSince = estimate < floor ? (underSince || now) : 0;
    if (underSince && now - underSince >= AUDIO_FIRST_UNDER_MS) await setAudioFirst(true);
  } else {
    overSince = estimate >= 2 * floor ? (overSince || now) : 0;
    if ((overSince && now - overSince >= AUDIO_FIRST_OVER_MS) || now - audioFirstSince >= AUDIO_FIRST_RETRY_MS)
      await setAudioFirst(false);
  }
}

async function setAudioFirst(on) {
  audioFirst = on;
  underSince = overSince = 0;
  audioFirstSince = on ? Date.now() : 0;
  const sender = pc && pc.getSenders().find((s) => s.track && s.track.kind === 'video');
  if (sender) {
    const params = sender.getParameters();
    if (!params.encodings || !params.encodings.length) params.encodings = [{}];
    for (const e of params.encodings) {
      if (on) Object.assign(e, { maxBitrate: 60000, scaleResolutionDownBy: 4, maxFramerate: 1 });
      else { delete e.maxBitrate; delete e.maxFramerate; e.scaleResolutionDownBy = 1; }
    }
    await sender.setParameters(params).catch(() => {});
  }
  document.body.dataset.linkMode = on ? 'audio_first' : 'full';   // test hook (docs/pages.md)
  $('audio-first').classList.toggle('hidden', !on);
  if (signal) signal.send({ type: 'link_mode', mode: on ? 'audio_first' : 'full' });
}

// the other camera, as the reviewer's command does it (camera_control.js: replaceTrack, no
// renegotiation); the reviewers hear what the new one can do
async function switchCamera() {
  const outcome = await camera.switchTo(camera.facing === 'environment' ? 'user' : 'environment');
  if (outcome.ok) camera.announce();
}

function toggleMute() {
  const audio = stream && stream.getAudioTracks()[0];
  if (!audio) return;
  audio.enabled = !audio.enabled;
  $('mute').setAttribute('aria-pressed', String(!audio.enabled));
  $('mute').textContent = t(audio.enabled ? 'apply.mute' : 'apply.unmute');
}

async function toggleTorch() {
  const track = stream.getVideoTracks()[0];
  const on = $('torch').getAttribute('aria-pressed') !== 'true';
  await track.applyConstraints({ advanced: [{ torch: on }] }).catch(() => {});
  $('torch').setAttribute('aria-pressed', String(on));
}

applyTranslations();
installLanguageSwitch($('lang'), () => {
  renderCase(); renderNotice(); setState(state); renderCheck(); renderPhoto(); waiting.render();
  if (!$('reach-help').classList.contains('hidden')) showReachHelp();
  if (outcome && ended) $('outcome-text').textContent = t(`apply.outcome.${outcome}`);
});
$('notice-print').addEventListener('click', () => window.print());
setState('connecting');
$('start').addEventListener('click', start);
$('switch').addEventListener('click', switchCamera);
$('mute').addEventListener('click', toggleMute);
$('torch').addEventListener('click', toggleTorch);
installPhoto({ caseRef, token, stream: () => stream,
  itemTitle: (position) => {
    const item = invite && invite.items.find((i) => i.position === position);
    return item ? (document.documentElement.lang === 'zh-CN' ? item.title_zh : item.title_en) : `#${position}`;
  } });
loadInvite();
