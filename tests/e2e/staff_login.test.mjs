// staff_login.test.mjs — the staff pages (reviewer desk, audit, administration) sign in through
// the one shared bar and login form (web/lib/staff.js): each shows the form, says so when the
// password is wrong, and after the right one shows the page, who is signed in, and a sign-out
// button that ends the session. Every wait is for a condition, bounded by PATIENCE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from './lib/port.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KANYAN = path.join(ROOT, 'build', 'kanyan');
const ARTIFACTS = path.join(ROOT, 'tests', 'e2e', 'artifacts');
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server'];
const PATIENCE = 60000;   // ms: a failure bound, not an expected time
mkdirSync(ARTIFACTS, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let dir, port, server, browser;
const base = () => `http://127.0.0.1:${port}`;
const common = () => ['--data-dir', path.join(dir, 'data'), '--recordings', path.join(dir, 'rec'),
  '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines')];
const USERS = { adm1: ['admin', 'staff-admin-password'], aud1: ['auditor', 'staff-auditor-password'],
  rev1: ['reviewer', 'staff-reviewer-password'] };

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kanyan-e2e-staff-'));
  port = await freePort();
  for (const [user, [role, password]] of Object.entries(USERS))
    execFileSync(KANYAN, ['user', 'add', '-u', user, '--role', role, '--department', 'commerce', '--password-stdin',
      ...common()], { input: `${password}\n` });
  const log = openSync(path.join(ARTIFACTS, 'server-staff-login.log'), 'w');
  server = spawn(KANYAN, ['serve', '--no-tls', '--port', String(port), '--bind', '127.0.0.1', '--ice-address', '10.77.0.1',
    ...common()], { stdio: ['ignore', log, log] });
  const deadline = Date.now() + PATIENCE;
  for (;;) {
    try { if ((await fetch(`${base()}/api/health`)).ok) break; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error('kanyan serve did not start');
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
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const [page_, user, main] of [['/admin/', 'adm1', '#page'], ['/audit/', 'aud1', '#page'], ['/review/', 'rev1', '#desk']]) {
  test(`${page_} signs in through the shared login form and signs out`, async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(PATIENCE);
    try {
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base()}${page_}`);
      await page.getByTestId('login-form').waitFor({ state: 'visible' });
      assert.equal(await page.locator('h1').first().textContent() !== '', true, 'the bar names the page');
      assert.equal(await page.locator(main).isHidden(), true, 'nothing of the page before signing in');
      await page.getByTestId('login-user').fill(user);
      await page.getByTestId('login-password').fill('not the password');
      await page.getByTestId('login-submit').click();
      await page.waitForFunction(() => document.querySelector('#login-error').textContent !== '');
      assert.equal(await page.locator(main).isHidden(), true, 'a wrong password shows nothing');
      await page.getByTestId('login-password').fill(USERS[user][1]);
      // the server refuses (429, "too fast") any sign-in of the account for a moment after a
      // failure: submit again until the page answers with something other than that refusal
      for (const deadline = Date.now() + PATIENCE; ;) {
        await page.getByTestId('login-submit').click();
        await page.waitForFunction((sel) => !document.querySelector(sel).classList.contains('hidden') ||
          document.querySelector('#login-error').textContent !== '', main);
        if (await page.locator(main).isVisible() || Date.now() > deadline) break;
        await sleep(300);
      }
      await page.locator(main).waitFor({ state: 'visible' });
      await page.getByTestId('login-form').waitFor({ state: 'hidden' });
      assert.equal(await page.locator('#who').textContent(), `${user} · ${USERS[user][0]}`);
      await page.locator('#logout').click();   // ends the session and reloads: the form again
      await page.getByTestId('login-form').waitFor({ state: 'visible' });
      const me = await page.evaluate(async () => (await fetch('/api/me')).status);
      assert.equal(me, 401, 'signed out');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
}
