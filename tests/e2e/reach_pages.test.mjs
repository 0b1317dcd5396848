// reach_pages.test.mjs — what the pages show about reachability (issue 13), in real headless
// Chromium against a real `kanyan serve` inside the test network namespace:
// - the applicant page's connection check before Start, in English and in zh-CN;
// - the reviewer page's line with the applicant's selected candidate pair once it is live;
// - the auditor's case facts with each session's connections.
// The networks that break (no UDP, NATs, coturn down) are in tests/integration/test_reach_nat.py.
// Every wait is for a condition, bounded by PATIENCE (a failure bound, not an expected time).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from './lib/port.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KANYAN = path.join(ROOT, 'build', 'kanyan');
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream'];
const PATIENCE = 90000;
const PASSWORDS = { rev1: 'e2e-reach-owner-password', aud1: 'e2e-reach-auditor-password' };

let dir, port, server, browser;
const common = (sub = '') => ['--data-dir', path.join(dir, sub, 'data'), '--recordings', path.join(dir, sub, 'rec'),
  '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines')];
const base = () => `http://127.0.0.1:${port}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// a `kanyan serve` on its own port and data directory; resolves once /api/health answers
function addUsers(sub = '') {
  for (const [user, role] of [['rev1', 'reviewer'], ['aud1', 'auditor']])
    execFileSync(KANYAN, ['user', 'add', '-u', user, '--role', role, '--department', 'commerce', '--password-stdin', ...common(sub)],
      { input: `${PASSWORDS[user]}\n` });
}

async function startServer(extra = [], sub = '') {
  const p = await freePort();
  const log = openSync(path.join(dir, `server-${p}.log`), 'a');
  const proc = spawn(KANYAN, ['serve', '--no-tls', '--port', String(p), '--bind', '127.0.0.1', '--ice-address', '10.77.0.1',
    ...common(sub), ...extra], { stdio: ['ignore', log, log] });
  const deadline = Date.now() + PATIENCE;
  for (;;) {
    try { if ((await fetch(`http://127.0.0.1:${p}/api/health`)).ok) return { proc, port: p }; } catch { /* not yet */ }
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(readFileSync(path.join(dir, `server-${p}.log`), 'utf8').slice(-2000));
    await sleep(100);
  }
}

async function stopServer(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kanyan-e2e-reach-'));
  addUsers();
  ({ proc: server, port } = await startServer());
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(page, url, user) {
  await page.goto(url);
  await page.getByTestId('login-user').fill(user);
  await page.getByTestId('login-password').fill(PASSWORDS[user]);
  await page.getByTestId('login-submit').click();
}

test('the check before Start, the applicant connection for the reviewer, the connections for the auditor', async () => {
  const c = JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', 'E2E-REACH', '--type', 'fuel-retail', '--owner', 'rev1',
    '--json', ...common()]).toString());
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const desk = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const audit = await browser.newContext({ viewport: { width: 1440, height: 900 } });   // its own sign-in
  try {
    for (const context of [phone, desk, audit]) context.setDefaultTimeout(PATIENCE);
    const applicant = await phone.newPage();
    await applicant.goto(`${base()}/apply/#case=${c.ref}&token=${c.token}`);
    // no [ice] servers here: the check reaches the WebSocket and gathers host candidates only
    await applicant.waitForFunction(() => document.querySelector('[data-testid=check]').dataset.result === 'ok');
    assert.match(await applicant.getByTestId('check-text').textContent(), /reaches the inspection server/);
    await applicant.locator('#lang').click();
    assert.match(await applicant.getByTestId('check-text').textContent(), /可以连接踏勘服务器/);
    await applicant.locator('#lang').click();
    await applicant.getByTestId('start').click();
    await applicant.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live');
    assert.equal(await applicant.getByTestId('reach-help').isVisible(), false);

    const reviewer = await desk.newPage();
    await signIn(reviewer, `${base()}/review/#case=${c.ref}`, 'rev1');
    await reviewer.waitForFunction(() => (document.querySelector('[data-testid=ice]').dataset.applicant || '') !== '');
    assert.equal(await reviewer.getByTestId('ice').evaluate((e) => e.dataset.applicant), 'host/udp host/udp');
    assert.match(await reviewer.getByTestId('ice').textContent(), /Applicant connection: host\/udp ↔ host\/udp/);
    assert.equal(await reviewer.getByTestId('reach').isVisible(), false);

    const auditor = await audit.newPage();
    await signIn(auditor, `${base()}/audit/#case=${c.ref}`, 'aud1');
    await auditor.waitForFunction(() => /applicant:host\/udp:host\/udp/.test(document.querySelector('[data-testid=case-ice]').dataset.pairs || ''));
    assert.match(await auditor.getByTestId('case-ice').textContent(), /applicant .*host\/udp ↔ host\/udp/);
  } finally {
    await phone.close();
    await desk.close();
    await audit.close();
  }
});

// nftables in the test's namespace: UDP to and from the server's `ports` ('40200-40300') that
// also matches `match` (an nft expression; '' for every packet) is dropped. Returns lift(),
// which takes the block away (once; calling it again does nothing).
function blockUdp(table, ports, match = '') {
  execFileSync('nft', [`add table inet ${table}`]);
  execFileSync('nft', [`add chain inet ${table} out { type filter hook output priority 0 ; }`]);
  for (const port of ['dport', 'sport'])
    execFileSync('nft', [`add rule inet ${table} out udp ${port} ${ports} ${match} drop`]);
  let lifted = false;
  return () => {
    if (!lifted) execFileSync('nft', [`delete table inet ${table}`]);
    lifted = true;
  };
}

// an init script: how many peer connections the page makes (window.kanyanPcsMade)
const COUNT_PCS = () => {
  const Original = window.RTCPeerConnection;
  window.kanyanPcsMade = 0;
  window.RTCPeerConnection = function (...args) { window.kanyanPcsMade++; return new Original(...args); };
  window.RTCPeerConnection.prototype = Original.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Original);
};

// No UDP reaches the server's ICE ports and ICE-TCP is off: the applicant is connected on
// signaling only. The reviewer page says so, with the kinds of candidates each side offered;
// the phone shows what to try; once UDP passes again the phone is live on a new connection.
test('the reviewer sees "connected on signaling but not on media" and the phone what to try', async () => {
  const conf = path.join(dir, 'no-media.conf');
  writeFileSync(conf, '[media]\nice_port_min=40200\nice_port_max=40300\nviewer_answer_timeout_s=300\n[ice]\ntcp=false\n');
  const lift = blockUdp('kanyan_e2e_reach', '40200-40300');
  addUsers('no-media');   // a second server with its own data directory
  const second = await startServer(['--config', conf], 'no-media');
  const url = `http://127.0.0.1:${second.port}`;
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const desk = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    for (const context of [phone, desk]) context.setDefaultTimeout(PATIENCE);
    const c = JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', 'E2E-NOMEDIA', '--type', 'fuel-retail', '--owner', 'rev1',
      '--json', ...common('no-media')]).toString());
    const reviewer = await desk.newPage();
    await signIn(reviewer, `${url}/review/#case=${c.ref}`, 'rev1');
    await reviewer.getByTestId('ice').waitFor({ state: 'attached' });
    await phone.addInitScript(COUNT_PCS);   // how many peer connections the page makes
    const applicant = await phone.newPage();
    await applicant.goto(`${url}/apply/#case=${c.ref}&token=${c.token}`);
    await applicant.waitForFunction(() => !['', 'running'].includes(document.querySelector('[data-testid=check]').dataset.result));
    const madeBeforeStart = await applicant.evaluate(() => window.kanyanPcsMade);   // the check before Start made some
    await applicant.getByTestId('start').click();
    await reviewer.getByTestId('reach').waitFor({ state: 'visible' });
    assert.match(await reviewer.getByTestId('reach').textContent(), /connected on signaling but not on media/);
    assert.match(await reviewer.getByTestId('reach').textContent(), /Applicant offered: .*host\/udp.*Server offered: .*host\/udp/);
    await applicant.getByTestId('reach-help').waitFor({ state: 'visible' });
    assert.match(await applicant.getByTestId('reach-help').textContent(), /Wi-Fi to mobile data/);
    assert.notEqual(await applicant.getByTestId('status').textContent(), 'live');
    // The block lifted, the phone comes back by itself, without a click: on its first
    // connection if that one's checks still run, else on a new one (the browser failed it, or
    // apply.js gave it up after CONNECT_WAIT_MS).
    lift();
    const liftedAt = Date.now();
    await applicant.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live');
    const made = (await applicant.evaluate(() => window.kanyanPcsMade)) - madeBeforeStart;
    console.log(`the phone was live ${((Date.now() - liftedAt) / 1000).toFixed(1)} s after the block was lifted, on its connection no. ${made}`);
  } finally {
    await phone.close();
    await desk.close();
    await stopServer(second.proc);
    lift();
  }
});

// ICE connects but no DTLS packet passes (nftables drops UDP payloads whose first byte is a
// DTLS record type, 20–63, to and from the server's ICE ports): the browser keeps such a
// connection 'connecting' for ever. The phone gives it up (apply.js, CONNECT_WAIT_MS) and
// offers anew while the block holds; once DTLS passes it is live on a new connection.
test('a connection whose DTLS never completes is given up; the phone is live on a new one', async () => {
  const conf = path.join(dir, 'no-dtls.conf');
  writeFileSync(conf, '[media]\nice_port_min=40400\nice_port_max=40500\n[ice]\ntcp=false\n');
  const lift = blockUdp('kanyan_e2e_dtls', '40400-40500', '@th,64,8 >= 20 @th,64,8 <= 63');
  addUsers('no-dtls');
  const second = await startServer(['--config', conf], 'no-dtls');
  const url = `http://127.0.0.1:${second.port}`;
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
  try {
    phone.setDefaultTimeout(PATIENCE);
    await phone.addInitScript(COUNT_PCS);   // how many peer connections the page makes
    const c = JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', 'E2E-NODTLS', '--type', 'fuel-retail', '--owner', 'rev1',
      '--json', ...common('no-dtls')]).toString());
    const applicant = await phone.newPage();
    await applicant.goto(`${url}/apply/#case=${c.ref}&token=${c.token}`);
    await applicant.waitForFunction(() => !['', 'running'].includes(document.querySelector('[data-testid=check]').dataset.result));
    const madeBeforeStart = await applicant.evaluate(() => window.kanyanPcsMade);
    await applicant.getByTestId('start').click();
    // the first connection's ICE is up, its DTLS is not: the page starts over by itself
    await applicant.waitForFunction(() => window.kanyanPc && window.kanyanPc.iceConnectionState === 'connected');
    await applicant.waitForFunction((before) => window.kanyanPcsMade - before >= 2, madeBeforeStart);
    assert.notEqual(await applicant.getByTestId('status').textContent(), 'live');
    lift();
    await applicant.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live');
    const made = (await applicant.evaluate(() => window.kanyanPcsMade)) - madeBeforeStart;
    console.log(`live on the phone's connection no. ${made}`);
    assert.ok(made >= 2);
  } finally {
    await phone.close();
    await stopServer(second.proc);
    lift();
  }
});
