// lib/staff.mjs — what the browser tests of the staff pages share: a real `kanyan serve` in a
// temporary directory (users and cases made with its own CLI), headless Chromium with a fake
// camera and microphone, a test wrapper that photographs a failing test's pages and closes its
// browser contexts, and the staff sign-in through the pages' login form. Every wait is for a
// condition, bounded by PATIENCE (a failure bound, not an expected time). Touches nothing
// outside its temporary directory and tests/e2e/artifacts.
import { test as nodeTest } from 'node:test';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from './port.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const KANYAN = path.join(ROOT, 'build', 'kanyan');
export const ARTIFACTS = path.join(ROOT, 'tests', 'e2e', 'artifacts');
export const PATIENCE = 90000;   // ms: the bound of every wait for a condition
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server', '--autoplay-policy=no-user-gesture-required',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
mkdirSync(ARTIFACTS, { recursive: true });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// servers of this file that died without being stopped: each failing test's message names them
// with their log's last lines (a crash's backtrace among them, src/app/crash.c)
const deaths = [];

// A server of its own for one test file: `name` names its log (tests/e2e/artifacts/NAME-server.log).
// Users are made before it starts (the CLI writes the same database); `config` is the text of
// its settings file, if any. Resolves once /api/health answers.
export async function startServer(name, users = {}, { config = '' } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), `kanyan-e2e-${name}-`));
  if (config) writeFileSync(path.join(dir, 'kanyan.conf'), config);
  const common = ['--data-dir', path.join(dir, 'data'), '--recordings', path.join(dir, 'rec'),
    '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines'),
    ...(config ? ['--config', path.join(dir, 'kanyan.conf')] : [])];
  const cli = (args, input) => execFileSync(KANYAN, [...args, ...common], input === undefined ? {} : { input }).toString();
  const passwords = {};
  for (const [user, { role, department, password }] of Object.entries(users)) {
    cli(['user', 'add', '-u', user, '--role', role, '--department', department, '--password-stdin'], `${password}\n`);
    passwords[user] = password;
  }
  const port = await freePort();
  const logPath = path.join(ARTIFACTS, `${name}-server.log`);
  // its info messages too (as the integration tests' servers): a phone whose media never came
  // leaves its sessions, offers and ICE states in the log
  const proc = spawn(KANYAN, ['serve', '--no-tls', '--port', String(port), '--bind', '127.0.0.1', '--ice-address', '10.77.0.1',
    ...common], { stdio: ['ignore', openSync(logPath, 'w'), openSync(logPath, 'a')],
    env: { ...process.env, G_MESSAGES_DEBUG: 'kanyan' } });
  let stopping = false;
  proc.once('exit', (code, signal) => {
    if (!stopping) deaths.push(`kanyan serve (${name}) died unasked (${signal ?? `exit ${code}`}); ` +
      `the last of ${logPath}:\n${readFileSync(logPath, 'utf8').slice(-4000)}`);
  });
  const base = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + PATIENCE; ;) {
    try { if ((await fetch(`${base}/api/health`)).ok) break; } catch { /* not listening yet */ }
    if (Date.now() > deadline || proc.exitCode !== null)
      throw new Error(`kanyan serve did not start:\n${readFileSync(logPath, 'utf8').slice(-3000)}`);
    await sleep(100);
  }
  return {
    base, dir, cli, passwords,
    db: path.join(dir, 'data', 'kanyan.db'),
    // a case of `type`, owned by `owner`, with co-reviewers and an applicant's name; its invite token too
    addCase(ref, { owner, co = [], applicant = '', type = 'fuel-retail' } = {}) {
      return JSON.parse(cli(['case', 'add', '--ref', ref, '--type', type, ...(owner ? ['--owner', owner] : []),
        ...co.flatMap((u) => ['--co-reviewer', u]), ...(applicant ? ['--applicant', applicant] : []), '--json']));
    },
    applyUrl: (c) => `${base}/apply/#case=${c.ref}&token=${c.token}`,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      stopping = true;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

// extra: more switches, e.g. '--use-fake-device-for-media-stream=device-count=2' (two cameras; the last one given counts)
export const launchChromium = (extra = []) => chromium.launch({ executablePath: '/usr/bin/chromium', args: [...ARGS, ...extra] });

// Browser contexts and page notes of the running test (one test at a time in a file).
export function harness(prefix) {
  const state = { contexts: [], log: [] };
  const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 50).replace(/-$/, '');
  // a test: on failure its pages are photographed and their complaints written beside
  // (tests/e2e/artifacts/failed-PREFIX-*); its browser contexts are closed either way
  const test = (name, fn) => nodeTest(name, async (t) => {
    state.contexts = [];
    state.log = [];
    try {
      await fn(t);
    } catch (err) {
      const stem = path.join(ARTIFACTS, `failed-${prefix}-${slug(name)}`);
      let n = 0;
      for (const context of state.contexts)
        for (const page of context.pages())
          await page.screenshot({ path: `${stem}-${++n}.png`, timeout: 10000 }).catch(() => {});
      writeFileSync(`${stem}.log`, state.log.join('\n') + '\n');
      if (state.log.length && err && typeof err.message === 'string')
        err.message += `\n--- page notes (${stem}.log), the last:\n${state.log.slice(-15).join('\n')}`;
      if (deaths.length && err && typeof err.message === 'string')
        err.message += `\n--- ${deaths.join('\n')}`;
      throw err;
    } finally {
      const open = state.contexts;
      state.contexts = [];
      await Promise.all(open.map((c) => c.close().catch(() => {})));
    }
  });
  // a page in a new context of the running test; `lang` ('en' | 'zh-CN') is the pages' remembered choice
  const newPage = async (browser, { viewport = { width: 1366, height: 768 }, lang = 'en', reducedMotion } = {}) => {
    const context = await browser.newContext({ viewport, ...(reducedMotion ? { reducedMotion } : {}) });
    context.setDefaultTimeout(PATIENCE);
    state.contexts.push(context);
    await context.addInitScript((l) => { try { localStorage.setItem('kanyan.lang', l); } catch { /* opaque origin */ } }, lang);
    const page = await context.newPage();
    const label = () => page.url().replace(/^https?:\/\/[^/]+/, '');
    page.on('console', (m) => { if (m.type() === 'error') state.log.push(`${label()} console: ${m.text()}`); });
    page.on('pageerror', (e) => state.log.push(`${label()} error: ${e.message}`));
    return page;
  };
  return { test, newPage };
}

// Signs in through the staff pages' login form (lib/staff.js) and waits until it is gone.
export async function signIn(page, user, password) {
  await page.getByTestId('login-user').fill(user);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-form').waitFor({ state: 'hidden' });
}

// The REST API as `user` (signed in with its password, outside any browser): call(path[, body])
// resolves to { status, body }; a body makes it a JSON POST.
export async function apiAs(server, user) {
  const login = await fetch(`${server.base}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: server.passwords[user] }) });
  if (!login.ok) throw new Error(`${user} could not sign in: ${login.status}`);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  return async (url, body) => {
    const resp = await fetch(`${server.base}${url}`, body === undefined ? { headers: { Cookie: cookie } }
      : { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const text = await resp.text();
    return { status: resp.status, body: text ? JSON.parse(text) : null };
  };
}

// The reviewer desk, signed in; with `ref`, once it has joined that case (its items are shown
// and the signed-in user is among the participants).
export async function openDesk(page, server, user, ref) {
  await page.goto(`${server.base}/review/${ref ? `#case=${ref}` : ''}`);
  await signIn(page, user, server.passwords[user]);
  if (ref) {
    await page.locator('#participants li', { hasText: user }).first().waitFor();
    await page.getByTestId('checklist').locator('li[data-item="1"]').waitFor();
  }
  return page;
}

// The applicant's phone page, started: resolves once its status is `live`.
export async function livePhone(page, server, c) {
  await page.goto(server.applyUrl(c));
  await page.getByTestId('start').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live');
  return page;
}

// The live video on a page has a picture and its time advances (bounded by PATIENCE).
export async function videoPlays(page, selector = '[data-testid=live-video]') {
  for (const deadline = Date.now() + PATIENCE; Date.now() < deadline;) {
    const a = await page.evaluate((s) => { const v = document.querySelector(s); return { w: v.videoWidth, t: v.currentTime }; }, selector);
    if (a.w > 0) {
      await sleep(500);
      if (await page.evaluate((s) => document.querySelector(s).currentTime, selector) > a.t) return true;
    }
    await sleep(200);
  }
  return false;
}

// A Monday at least two weeks ahead, as YYYY-MM-DD: a working day for slots (the test servers
// configure no holidays), whatever day the suite runs.
export function mondayAhead() {
  const d = new Date();
  d.setDate(d.getDate() + 14);
  d.setDate(d.getDate() + ((8 - d.getDay()) % 7));
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
