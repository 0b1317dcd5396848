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
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KANYAN = path.join(ROOT, 'build', 'kanyan');
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream'];
const PATIENCE = 90000;
const PASSWORDS = { rev1: 'e2e-reach-owner-password', aud1: 'e2e-reach-auditor-password' };

let dir, port, server, browser;
const common = () => ['--data-dir', path.join(dir, 'data'), '--recordings', path.join(dir, 'rec'),
  '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines')];
const base = () => `http://127.0.0.1:${port}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => { const { port: p } = srv.address(); srv.close(() => resolve(p)); });
});

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kanyan-e2e-reach-'));
  port = await freePort();
  for (const [user, role] of [['rev1', 'reviewer'], ['aud1', 'auditor']])
    execFileSync(KANYAN, ['user', 'add', '-u', user, '--role', role, '--department', 'commerce', '--password-stdin', ...common()],
      { input: `${PASSWORDS[user]}\n` });
  const log = openSync(path.join(dir, 'server.log'), 'a');
  server = spawn(KANYAN, ['serve', '--no-tls', '--port', String(port), '--bind', '127.0.0.1', '--ice-address', '10.77.0.1', ...common()],
    { stdio: ['ignore', log, log] });
  const deadline = Date.now() + PATIENCE;
  for (;;) {
    try { if ((await fetch(`${base()}/api/health`)).ok) break; } catch { /* not yet */ }
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000));
    await sleep(100);
  }
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
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
