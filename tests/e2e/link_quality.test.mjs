// link_quality.test.mjs — the reviewer page's link indicators and the applicant's outage, in
// real headless Chromium (applicant page with the fake camera, reviewer page) against a real
// `kanyan serve`, inside the test network namespace (issue 14):
// - the reviewer sees the applicant's link (kbit/s, loss, round trip and a word) and its own;
// - every packet to and from the server's sockets for the applicant's peer connection dropped
//   (nftables): the reviewer page says "reconnecting" and the applicant's word turns "bad";
//   the applicant page reconnects by itself and the reviewer's video plays again.
// - the applicant page's own publish, with a detailed 1280×720 camera, reaches 1 Mbit/s within
//   10 s of going live (the server's transport-wide congestion feedback), figures printed; on a
//   machine that held the sender back (≥ 90 % busy, an encoder limited by the CPU) it must reach
//   1 Mbit/s, and when is printed.
// Every wait is for a condition, bounded by PATIENCE (a failure bound, not an expected time).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from './lib/port.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KANYAN = path.join(ROOT, 'build', 'kanyan');
const ARTIFACTS = path.join(ROOT, 'tests', 'e2e', 'artifacts');
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server', '--autoplay-policy=no-user-gesture-required',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const PATIENCE = 90000;   // ms
const TABLE = 'kanyan_e2e_link';
const PASSWORD = 'e2e-link-owner-password';
mkdirSync(ARTIFACTS, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let dir, port, server, browser;
const base = () => `http://127.0.0.1:${port}`;
const common = () => ['--data-dir', path.join(dir, 'data'), '--recordings', path.join(dir, 'rec'),
  '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines')];
const logPath = () => path.join(ARTIFACTS, 'link-quality-server.log');

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kanyan-e2e-link-'));
  port = await freePort();
  execFileSync(KANYAN, ['user', 'add', '-u', 'owner1', '--role', 'reviewer', '--department', 'commerce',
    '--password-stdin', ...common()], { input: `${PASSWORD}\n` });
  const log = openSync(logPath(), 'w');
  server = spawn(KANYAN, ['serve', '--no-tls', '--port', String(port), '--bind', '127.0.0.1', '--ice-address', '10.77.0.1',
    ...common()], { stdio: ['ignore', log, log], env: { ...process.env, G_MESSAGES_DEBUG: 'kanyan' } });
  const deadline = Date.now() + PATIENCE;
  for (;;) {
    try { if ((await fetch(`${base()}/api/health`)).ok) break; } catch { /* not listening yet */ }
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(readFileSync(logPath(), 'utf8').slice(-2000));
    await sleep(100);
  }
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
});

after(async () => {
  try { execFileSync('nft', ['delete', 'table', 'inet', TABLE], { stdio: 'ignore' }); } catch { /* not there */ }
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
});

async function videoPlaying(page, timeout = PATIENCE) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const a = await page.evaluate(() => { const v = document.querySelector('[data-testid=live-video]'); return { w: v.videoWidth, t: v.currentTime }; });
    if (a.w > 0) {
      await sleep(500);
      if (await page.evaluate(() => document.querySelector('[data-testid=live-video]').currentTime) > a.t) return true;
    }
    await sleep(200);
  }
  return false;
}

// the machine's CPU time (all cores) from /proc/stat: [busy, total] in ticks
function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}
const busyPercent = (a, b) => Math.round((100 * (b[0] - a[0])) / Math.max(1, b[1] - a[1]));

// the applicant page's peer connections, kept where the test can read their stats
const HOOK_PCS = () => {
  const Original = window.RTCPeerConnection;
  window.kanyanPcs = [];
  window.RTCPeerConnection = function (...args) { const pc = new Original(...args); window.kanyanPcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Original.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Original);
};

// the word and figures of an indicator, e.g. { word: 'good', text: '812 kbit/s · 0% loss · 3 ms' }
const indicator = (page, id) => page.evaluate((i) => ({
  word: document.getElementById(`${i}-word`).dataset.quality || null,
  text: document.getElementById(i === 'link-self' ? 'stats' : i).textContent,
}), id);

test('reviewers see both links; an applicant outage reads "reconnecting" and the video comes back', async () => {
  const c = JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', 'E2E-LINK', '--type', 'fuel-retail', '--owner', 'owner1',
    '--json', ...common()]).toString());
  // the applicant page's peer connections, so the test can find the server's sockets for them
  const applicantContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
  applicantContext.setDefaultTimeout(PATIENCE);   // every action waits as long as a condition may (a busy machine)
  await applicantContext.addInitScript(HOOK_PCS);
  const applicant = await applicantContext.newPage();
  await applicant.goto(`${base()}/apply/#case=${c.ref}&token=${c.token}`);
  await applicant.getByTestId('start').click();

  const reviewerContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  reviewerContext.setDefaultTimeout(PATIENCE);
  const reviewer = await reviewerContext.newPage();
  await reviewer.goto(`${base()}/review/#case=${c.ref}`);
  await reviewer.getByTestId('login-user').fill('owner1');
  await reviewer.getByTestId('login-password').fill(PASSWORD);
  await reviewer.getByTestId('login-submit').click();
  assert.ok(await videoPlaying(reviewer), 'the reviewer video plays');

  // both indicators show figures and a word
  await reviewer.waitForFunction(() => document.getElementById('link-applicant-word').dataset.quality
    && document.getElementById('link-self-word').dataset.quality, null, { timeout: PATIENCE });
  const before = { applicant: await indicator(reviewer, 'link-applicant'), self: await indicator(reviewer, 'link-self') };
  console.log('indicators before:', JSON.stringify(before));
  await reviewer.screenshot({ path: path.join(ARTIFACTS, 'review-link-quality.png') });
  for (const side of Object.values(before)) {
    assert.match(side.text, /^\d+ kbit\/s · [\d.]+% loss/);
    assert.ok(['good', 'poor', 'bad'].includes(side.word));
  }
  assert.match(await reviewer.getByTestId('link-applicant').textContent(), /Applicant's link/);

  // the outage: the server's sockets of the applicant's current peer connection
  const remotes = await applicant.evaluate(async () => {
    const pc = window.kanyanPcs[window.kanyanPcs.length - 1];
    const out = [];
    (await pc.getStats()).forEach((s) => { if (s.type === 'remote-candidate') out.push([s.address || s.ip, String(s.port)]); });
    return out;
  });
  assert.ok(remotes.length > 0, 'the applicant knows the server\'s candidates');
  execFileSync('nft', ['add', 'table', 'inet', TABLE]);
  execFileSync('nft', ['add', 'chain', 'inet', TABLE, 'input', '{ type filter hook input priority 0; }']);
  for (const [ip, p] of remotes) {
    for (const dirn of [['saddr', 'sport'], ['daddr', 'dport']])
      execFileSync('nft', ['add', 'rule', 'inet', TABLE, 'input', 'ip', dirn[0], ip, 'meta', 'l4proto', '{', 'tcp', ',', 'udp', '}',
        'th', dirn[1], p, 'drop']);
  }
  const down = Date.now();
  const pageNoticed = applicant.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'reconnecting',
    null, { timeout: PATIENCE, polling: 100 }).then(() => (Date.now() - down) / 1000);
  await reviewer.waitForFunction(() => /reconnecting/.test(document.getElementById('hint').textContent), null,
    { timeout: PATIENCE, polling: 100 });
  const noticed = (Date.now() - down) / 1000;
  const applicantNoticed = await pageNoticed;
  console.log(`the applicant page said "reconnecting" ${applicantNoticed.toFixed(1)} s after the drop`);
  assert.ok(applicantNoticed <= 3, `the applicant page noticed after ${applicantNoticed} s`);
  assert.ok(noticed <= 3, `the reviewer page was told after ${noticed} s`);
  await reviewer.waitForFunction(() => document.getElementById('link-applicant-word').dataset.quality === 'bad', null, { timeout: PATIENCE });
  console.log(`the reviewer page said "reconnecting" ${noticed.toFixed(1)} s after the drop:`,
    await reviewer.locator('#hint').textContent());

  // the applicant page gives up the blocked connection and comes back on a new one by itself
  await reviewer.waitForFunction(() => document.getElementById('hint').textContent === '', null, { timeout: PATIENCE });
  const back = (Date.now() - down) / 1000;
  assert.ok(await videoPlaying(reviewer), 'the reviewer video plays again');
  console.log(`live again ${back.toFixed(1)} s after the drop (the old connection still blocked)`);
  execFileSync('nft', ['delete', 'table', 'inet', TABLE]);
  await applicantContext.close();
  await reviewerContext.close();
});

test('the applicant page publishes 720p at 1 Mbit/s within 10 s of going live', async () => {
  const c = JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', 'E2E-RATE', '--type', 'fuel-retail', '--owner', 'owner1',
    '--json', ...common()]).toString());
  // a camera with detail and sensor-like noise: Chromium's own pattern is too plain for its
  // encoder to reach any target (test_bitrate.py says more)
  const y4m = path.join(dir, 'camera720.y4m');
  execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30,noise=alls=25:allf=t+u',
    '-t', '2', '-pix_fmt', 'yuv420p', y4m]);
  const camera = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...ARGS, `--use-file-for-fake-video-capture=${y4m}`] });
  try {
    const context = await camera.newContext({ viewport: { width: 390, height: 844 } });
    context.setDefaultTimeout(PATIENCE);
    await context.addInitScript(HOOK_PCS);
    const applicant = await context.newPage();
    await applicant.goto(`${base()}/apply/#case=${c.ref}&token=${c.token}`);
    await applicant.getByTestId('start').click();
    await applicant.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live', null,
      { timeout: PATIENCE });
    const live = Date.now();
    const cpuAtLive = machineCpu();
    let machineBusy = null;   // % over the first 10 s
    const samples = [];
    let reached = null;
    const startedOver = [];   // the page gave up its connection and made a new one: measured anew
    while (Date.now() - live < PATIENCE && reached === null) {
      const sample = await applicant.evaluate(async () => {
        const pc = window.kanyanPcs[window.kanyanPcs.length - 1];
        let bytes = 0, at = 0, height = 0, cpu = false, estimate = 0, target = 0, fps = 0, why = '';
        const report = await pc.getStats();
        report.forEach((s) => {
          if (s.type === 'outbound-rtp' && s.kind === 'video') {
            bytes += s.bytesSent || 0; at = s.timestamp; height = s.frameHeight || 0;
            cpu = cpu || s.qualityLimitationReason === 'cpu';
            target = s.targetBitrate || 0; fps = s.framesPerSecond || 0; why = s.qualityLimitationReason;
          }
          const pair = s.type === 'transport' && s.selectedCandidatePairId && report.get(s.selectedCandidatePairId);
          if (pair && pair.availableOutgoingBitrate) estimate = pair.availableOutgoingBitrate;
        });
        return { bytes, at, height, cpu, estimate, target, fps, why, pcs: window.kanyanPcs.length };
      });
      if (samples.length && sample.pcs !== samples[0].pcs) {
        startedOver.push(`${((sample.at - samples[0].at) / 1000).toFixed(1)} s after the previous connection's start`);
        samples.length = 0;
      }
      samples.push(sample);
      if (machineBusy === null && Date.now() - live >= 10000) machineBusy = busyPercent(cpuAtLive, machineCpu());
      const n = samples.length;
      // the rate over the last ~2 s of samples
      const older = samples.findLast((x) => x.at <= samples[n - 1].at - 2000);
      if (older) {
        const kbps = ((samples[n - 1].bytes - older.bytes) * 8) / (samples[n - 1].at - older.at);
        samples[n - 1].kbps = Math.round(kbps);
        if (kbps >= 1000) reached = (samples[n - 1].at - samples[0].at) / 1000;
      }
      await sleep(500);
    }
    // each sample: seconds live, kbit/s sent, height, frames/s, encoder target and Chromium's estimate (kbit/s), why limited
    const trace = samples.filter((x) => x.kbps !== undefined).map((x) => `${((x.at - samples[0].at) / 1000).toFixed(1)}s:`
      + `${x.kbps}k@${x.height}p/${Math.round(x.fps)}fps t${Math.round(x.target / 1000)} e${Math.round(x.estimate / 1000)} ${x.why}`).join(' ');
    console.log(`the applicant page: 1 Mbit/s ${reached === null ? 'never reached' : `after ${reached.toFixed(1)} s live`};`, trace,
      startedOver.length ? `; it started over ${startedOver.join(', ')}` : '');
    // A page that starts over is measured on its new connection (a busy machine can hold the
    // server's audio long enough for the page to give up its link), but only twice.
    assert.ok(startedOver.length <= 2, `the page started over ${startedOver.length} times on a clean link`);
    assert.notEqual(reached, null, `the applicant page reaches 1 Mbit/s: ${trace}`);
    // What the server's feedback moves is Chromium's estimate: it must pass 1 Mbit/s within 10 s.
    // The sent rate is held to 10 s too, unless the machine held the sender back (a busy
    // machine, not the network): Chromium says its encoder was limited by the CPU, or the 30
    // frames/s camera was encoded at under half its rate, or the machine was ≥ 90 % busy (the
    // server's late reads then look like a queue to the sender's delay-based estimate). Then it
    // is printed (test_bitrate.py does the same).
    const estimated = samples.find((x) => x.estimate >= 1e6);
    const estimateAt = estimated ? (estimated.at - samples[0].at) / 1000 : null;
    const early = samples.filter((x) => x.at - samples[0].at <= 10000);
    const busy = machineBusy ?? busyPercent(cpuAtLive, machineCpu());   // over the first 10 s, or until reached
    const cpuBound = early.some((x) => x.cpu || (x.kbps !== undefined && x.fps < 15)) || busy >= 90;
    console.log(`Chromium's estimate >= 1 Mbit/s after ${estimateAt} s; machine ${busy} % busy;`,
      `encoder held back by the machine: ${cpuBound}`);
    assert.ok(estimateAt !== null && estimateAt <= 10, `Chromium's estimate reached 1 Mbit/s only after ${estimateAt} s`);
    if (!cpuBound) assert.ok(reached <= 10, `1 Mbit/s only after ${reached} s: ${trace}`);
    await context.close();
  } finally {
    await camera.close();
  }
});
