#!/usr/bin/env node
// whep_chromium.mjs — a minimal WHEP player in headless Chromium, for Kanyan's tests. Run
// inside tests/netns.sh after `npm install --prefix tests`:
//
//   node tests/peers/whep_chromium.mjs --url http://127.0.0.1:PORT/whep/REF --token TOKEN
//        [--duration S] [--wait-live S]
//
// Opens a page on the WHEP URL's origin (/api/health), offers to receive only (video and
// audio recvonly), waits for ICE gathering to complete, POSTs the offer with the viewing
// token (trying again while the server says 409 not_live, up to --wait-live seconds),
// applies the 201 answer, plays what comes in a <video>, then DELETEs the Location.
// Prints JSON lines:
//   {"event":"answered","location":…,"links":n}  {"event":"connected"}  {"event":"state","state":…}
//   {"event":"stats","t":s,"framesDecoded":…,"frameWidth":…,"frameHeight":…,"audioPacketsReceived":…,
//    "packetsSent":… (RTP this player sent: none)}
//   {"event":"deleted","status":200}  {"event":"error","status":N|null,"body":…}
// Exit status: 0 on success, 1 on an HTTP error or failure, 2 on usage.
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-gpu', '--no-proxy-server', '--autoplay-policy=no-user-gesture-required'];

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function usage(msg) {
  if (msg) process.stderr.write(`whep_chromium: ${msg}\n`);
  process.stderr.write('usage: whep_chromium.mjs --url URL --token TOKEN [--duration S] [--wait-live S]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { duration: 10, waitLive: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) usage(`${k} needs a value`);
    if (k === '--url') opts.url = v;
    else if (k === '--token') opts.token = v;
    else if (k === '--duration') opts.duration = Number(v);
    else if (k === '--wait-live') opts.waitLive = Number(v);
    else usage(`unknown option ${k}`);
  }
  if (!opts.url || !opts.token) usage('--url and --token are required');
  return opts;
}

// Runs in the page: the whole WHEP exchange. Returns {ok, status, body}.
async function watchInPage({ url, token, waitLive }) {
  const emit = (e) => window.kanyanEmit(e);
  const pc = new RTCPeerConnection({ iceServers: [] });
  window.kanyanPc = pc;
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const stream = new MediaStream();   // the answer has no msid: build the stream ourselves
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  document.body.appendChild(video);
  pc.addEventListener('track', (e) => { stream.addTrack(e.track); video.srcObject = stream; video.play().catch(() => {}); });
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'connected') emit({ event: 'connected' });
    else emit({ event: 'state', state: pc.connectionState });
  });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const timer = setTimeout(resolve, 30000);   // a failure bound
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
    });
  });
  const deadline = Date.now() + waitLive * 1000;
  let resp, body;
  for (;;) {
    resp = await fetch(url, { method: 'POST', body: pc.localDescription.sdp,
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` } });
    body = await resp.text();
    if (resp.status === 409 && body.includes('"not_live"') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    break;
  }
  if (resp.status !== 201) return { ok: false, status: resp.status, body };
  const location = resp.headers.get('Location');
  if (!location) return { ok: false, status: resp.status, body: '201 without a Location header' };
  emit({ event: 'answered', location, links: (resp.headers.get('Link') || '').length });
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  window.kanyanLocation = new URL(location, url).href;
  return { ok: true };
}

async function statsInPage() {
  const out = { framesDecoded: 0, frameWidth: 0, frameHeight: 0, audioPacketsReceived: 0, packetsSent: 0 };
  (await window.kanyanPc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.framesDecoded += s.framesDecoded || 0;
      out.frameWidth = s.frameWidth || out.frameWidth;
      out.frameHeight = s.frameHeight || out.frameHeight;
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.audioPacketsReceived += s.packetsReceived || 0;
    } else if (s.type === 'outbound-rtp') {
      out.packetsSent += s.packetsSent || 0;
    }
  });
  return out;
}

async function stopInPage(token) {
  window.kanyanPc.close();
  const resp = await fetch(window.kanyanLocation, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
  return { status: resp.status, body: await resp.text() };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  let code = 1;
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => process.stderr.write(`whep_chromium: page error: ${e.message}\n`));
    await page.exposeFunction('kanyanEmit', emit);
    await page.goto(new URL('/api/health', new URL(opts.url).origin).href);
    const res = await page.evaluate(watchInPage, { url: opts.url, token: opts.token, waitLive: opts.waitLive });
    if (!res.ok) {
      emit({ event: 'error', status: res.status, body: res.body });
      return 1;
    }
    const start = Date.now();
    for (let tick = 1; ; tick++) {
      const wait = start + tick * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (Date.now() - start >= opts.duration * 1000) break;
      emit({ event: 'stats', t: tick, ...(await page.evaluate(statsInPage)) });
    }
    const del = await page.evaluate(stopInPage, opts.token);
    emit(del.status === 200 ? { event: 'deleted', status: 200 } : { event: 'error', status: del.status, body: del.body });
    code = del.status === 200 ? 0 : 1;
  } catch (e) {
    emit({ event: 'error', status: null, body: String(e.message || e) });
  } finally {
    await browser.close();
  }
  return code;
}

main().then((code) => process.exit(code), (e) => {
  emit({ event: 'error', status: null, body: String(e.message || e) });
  process.exit(1);
});
