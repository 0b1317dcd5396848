#!/usr/bin/env node
// whip_chromium.mjs — a WHIP publisher (the "applicant") driven in headless
// Chromium, for Kanyan's integration tests. Run inside tests/netns.sh after
// `npm install --prefix tests`:
//
//   node tests/peers/whip_chromium.mjs --url http://127.0.0.1:PORT/whip/REF --token TOKEN
//        [--duration S] [--codec h264|vp8] [--page PATH] [--resize-after S] [--size WxH]
//        [--fake-video FILE.y4m]
//
// Opens a page on the WHIP URL's origin (default PATH /api/health: any page
// the server serves; getUserMedia needs a secure context and 127.0.0.1 is one),
// takes Chromium's fake camera + microphone, builds an RTCPeerConnection
// (video sendonly, audio sendrecv for talk-back), optionally restricts video
// to one codec with setCodecPreferences, waits for ICE gathering to complete,
// POSTs the offer with the bearer token, applies the 201 answer, publishes for
// --duration seconds or until SIGUSR1 (after --resize-after seconds the camera switches from 640×480
// to 1280×720, as a phone's does; --size starts the camera at WxH instead of 640×480),
// then DELETEs the Location. Prints JSON lines:
//   {"event":"published","location":…,"feedback":[the answer's a=extmap, a=rtcp-fb and a=fmtp lines]} {"event":"connected"} {"event":"state","state":…}
//   {"event":"stats","t":s,"framesSent":…,"nackCount":…,"retransmittedPacketsSent":…,
//    "connectionState":…,"codec":…,"audioPacketsReceived":…,
//    "bytesSent":…  (video payload bytes), "at":… (ms, its time), "targetBitrate":…, "availableOutgoingBitrate":…,
//    "frameWidth":…, "frameHeight":…, "local":"ip:port", "remote":"ip:port"
//    (the selected candidate pair: tests impair exactly this flow),
//    "locals":["ip:port",…], "remotes":[…] (every local and remote candidate: the remote ones
//    are the server's sockets for this peer, whatever new local socket ICE may switch to)}
//   {"event":"resized","width":…,"height":…}
//   {"event":"deleted","status":200}  {"event":"error","status":N|null,"body":…}
// Exit status: 0 on success, 1 on an HTTP error or failure, 2 on usage.
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
  '--no-proxy-server', // the server is local: ignore any *_proxy in the environment
];

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function usage(msg) {
  if (msg) process.stderr.write(`whip_chromium: ${msg}\n`);
  process.stderr.write('usage: whip_chromium.mjs --url http://127.0.0.1:PORT/whip/REF --token TOKEN' +
    ' [--duration S] [--codec h264|vp8] [--page PATH] [--resize-after S] [--size WxH] [--fake-video FILE.y4m]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { duration: 10, codec: null, page: '/api/health', resizeAfter: null, width: 640, height: 480 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) usage(`${k} needs a value`);
    if (k === '--url') opts.url = v;
    else if (k === '--token') opts.token = v;
    else if (k === '--duration') opts.duration = Number(v);
    else if (k === '--codec') opts.codec = v.toLowerCase();
    else if (k === '--page') opts.page = v;
    else if (k === '--resize-after') opts.resizeAfter = Number(v);
    else if (k === '--size') [opts.width, opts.height] = v.split('x').map(Number);
    else if (k === '--fake-video') opts.fakeVideo = v;
    else usage(`unknown option ${k}`);
  }
  if (!opts.url || !opts.token) usage('--url and --token are required');
  if (!(opts.duration > 0)) usage('bad --duration');
  if (!(opts.width > 0 && opts.height > 0)) usage('bad --size');
  if (opts.codec && !['h264', 'vp8'].includes(opts.codec)) usage('--codec is h264 or vp8');
  return opts;
}

// Runs in the page: capture, offer, POST, answer. Returns {ok, status, body, location}.
async function publishInPage({ url, token, codec, width, height }) {
  const emit = (e) => window.kanyanEmit(e);
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width, height, frameRate: 30 },
    audio: true,
  });
  const pc = new RTCPeerConnection({ iceServers: [] }); // no STUN
  window.kanyanPc = pc;
  window.kanyanStream = stream;
  const video = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
  pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendrecv', streams: [stream] });
  if (codec) {
    // webrtcbin 1.22 answers the first codec it can take: offer only the chosen one (+ RTX).
    const mime = codec === 'h264' ? 'video/h264' : 'video/vp8';
    const all = RTCRtpSender.getCapabilities('video').codecs;
    let chosen = all.filter((c) => c.mimeType.toLowerCase() === mime);
    if (codec === 'h264') {
      const cb = chosen.filter((c) => /profile-level-id=42e01f/.test(c.sdpFmtpLine || '') &&
        /packetization-mode=1/.test(c.sdpFmtpLine || ''));
      if (cb.length) chosen = cb;
    }
    if (!chosen.length) return { ok: false, status: null, body: `Chromium has no ${mime}` };
    const rtx = all.filter((c) => c.mimeType.toLowerCase() === 'video/rtx');
    video.setCodecPreferences([...chosen, ...rtx]);
  }

  await pc.setLocalDescription(await pc.createOffer());
  // WHIP without trickle: wait for every candidate to be in the offer.
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const timer = setTimeout(resolve, 30000);   // a failure bound: it resolves once gathering completes
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
    });
  });

  const resp = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
    body: pc.localDescription.sdp,
  });
  const body = await resp.text();
  if (resp.status !== 201) return { ok: false, status: resp.status, body };
  const location = resp.headers.get('Location');
  if (!location) return { ok: false, status: resp.status, body: '201 without a Location header' };
  emit({ event: 'published', location,
    // what the answer negotiates for congestion control and feedback
    feedback: body.split(/\r?\n/).filter((l) => /^a=(extmap|rtcp-fb|fmtp):/.test(l)) });
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'connected') emit({ event: 'connected' });
    else emit({ event: 'state', state: pc.connectionState });
  });
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  window.kanyanLocation = new URL(location, url).href;
  return { ok: true };
}

// Runs in the page: the numbers the tests look at.
async function statsInPage() {
  const pc = window.kanyanPc;
  const out = { framesSent: 0, nackCount: 0, retransmittedPacketsSent: 0,
    connectionState: pc.connectionState, codec: null, audioPacketsReceived: 0,
    bytesSent: 0, targetBitrate: null, availableOutgoingBitrate: null, local: null, remote: null };
  const report = await pc.getStats();
  const where = (id) => { const c = id && report.get(id); return c ? `${c.address || c.ip}:${c.port}` : null; };
  out.locals = [];
  out.remotes = [];
  report.forEach((s) => {
    if (s.type === 'local-candidate') out.locals.push(`${s.address || s.ip}:${s.port}`);
    if (s.type === 'remote-candidate') out.remotes.push(`${s.address || s.ip}:${s.port}`);
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      const pair = report.get(s.selectedCandidatePairId);
      if (pair) {
        out.local = where(pair.localCandidateId);
        out.remote = where(pair.remoteCandidateId);
        out.availableOutgoingBitrate = pair.availableOutgoingBitrate ?? null;
      }
    }
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.bytesSent += s.bytesSent || 0;
      out.at = s.timestamp;   // ms, when getStats measured bytesSent
      out.targetBitrate = s.targetBitrate ?? out.targetBitrate;
      out.qualityLimitationReason = s.qualityLimitationReason ?? null;   // 'cpu': the machine held the encoder back
      out.frameWidth = s.frameWidth;
      out.frameHeight = s.frameHeight;
      out.framesSent += s.framesSent || 0;
      out.nackCount += s.nackCount || 0;
      out.retransmittedPacketsSent += s.retransmittedPacketsSent || 0;
      const codec = s.codecId && report.get(s.codecId);
      if (codec) out.codec = codec.mimeType;
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.audioPacketsReceived += s.packetsReceived || 0;
    }
  });
  return out;
}

// Runs in the page: the camera changes its resolution mid-stream (no renegotiation).
async function resizeInPage() {
  const track = window.kanyanStream.getVideoTracks()[0];
  await track.applyConstraints({ width: 1280, height: 720, frameRate: 30 });
  const s = track.getSettings();
  return { width: s.width, height: s.height };
}

// Runs in the page: end the publish.
async function unpublishInPage(token) {
  const url = window.kanyanLocation;
  window.kanyanPc.close();
  if (!url) return { status: null, body: 'not published' };
  const resp = await fetch(url, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
  return { status: resp.status, body: await resp.text() };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let origin;
  try {
    origin = new URL(opts.url).origin;
  } catch {
    usage(`bad --url ${opts.url}`);
  }
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // a .y4m file as the camera (e.g. detailed, noisy pictures a real camera sends, which
    // the encoder cannot squeeze under its target as it does Chromium's own test pattern)
    args: opts.fakeVideo ? [...CHROMIUM_ARGS, `--use-file-for-fake-video-capture=${opts.fakeVideo}`] : CHROMIUM_ARGS,
  });
  let code = 1;
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => process.stderr.write(`whip_chromium: page error: ${e.message}\n`));
    await page.exposeFunction('kanyanEmit', emit);
    await page.goto(new URL(opts.page, origin).href);
    const start = Date.now();
    const res = await page.evaluate(publishInPage, { url: opts.url, token: opts.token, codec: opts.codec,
      width: opts.width, height: opts.height });
    if (!res.ok) {
      emit({ event: 'error', status: res.status, body: res.body });
      return 1;
    }
    // SIGUSR1: leave now, as a phone whose user ends the call (the WHIP DELETE follows)
    let leave = false, wake = null;
    process.on('SIGUSR1', () => { leave = true; if (wake) wake(); });
    for (let tick = 1; ; tick++) {
      const wait = start + tick * 1000 - Date.now();
      if (wait > 0 && !leave) await new Promise((r) => { wake = r; setTimeout(r, wait); });
      if (leave || Date.now() - start >= opts.duration * 1000) break;
      if (opts.resizeAfter !== null && tick === Math.round(opts.resizeAfter)) {
        emit({ event: 'resized', ...(await page.evaluate(resizeInPage)) });
      }
      emit({ event: 'stats', t: tick, ...(await page.evaluate(statsInPage)) });
    }
    const del = await page.evaluate(unpublishInPage, opts.token);
    if (del.status === 200) {
      emit({ event: 'deleted', status: del.status });
      code = 0;
    } else {
      emit({ event: 'error', status: del.status, body: del.body });
    }
  } catch (e) {
    emit({ event: 'error', status: null, body: String(e.message || e) });
  } finally {
    await browser.close();
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    emit({ event: 'error', status: null, body: String(e.message || e) });
    process.exit(1);
  },
);
