// lib/story_util.mjs — what the story and translation browser tests share: one `kanyan serve`
// (with a settings file) in a temporary directory, accounts and cases made with the CLI,
// headless Chromium with a fake camera, a page per context (a language chosen before the page
// loads), sign-in through the login form, the REST API from a signed-in page, and one live
// inspection with marks, a still with a drawing and a decision. Not a test file itself.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const KANYAN = path.join(ROOT, 'build', 'kanyan');
export const ARTIFACTS = path.join(ROOT, 'tests', 'e2e', 'artifacts');
export const PATIENCE = 90000;   // ms: the bound of every wait for a condition (a failure bound)
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server', '--autoplay-policy=no-user-gesture-required',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
mkdirSync(ARTIFACTS, { recursive: true });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});

// A server of its own: start() resolves once /api/health answers; stop() ends it and removes
// its directory. `config` is the settings file's text; `name` names its log in the artifacts;
// setup(server) runs before the server does (accounts made then: no first-start admin is made).
export class StoryServer {
  constructor(name, config = '') { this.name = name; this.config = config; this.passwords = {}; }

  common() {
    return ['--data-dir', path.join(this.dir, 'data'), '--recordings', path.join(this.dir, 'rec'),
      '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines'),
      ...(this.config ? ['--config', path.join(this.dir, 'kanyan.conf')] : [])];
  }

  get base() { return `http://127.0.0.1:${this.port}`; }

  async start(setup) {
    this.dir = mkdtempSync(path.join(tmpdir(), `kanyan-e2e-${this.name}-`));
    if (this.config) writeFileSync(path.join(this.dir, 'kanyan.conf'), this.config);
    if (setup) setup(this);
    this.port = await freePort();
    const log = openSync(path.join(ARTIFACTS, `server-${this.name}.log`), 'w');
    this.proc = spawn(KANYAN, ['serve', '--no-tls', '--port', String(this.port), '--bind', '127.0.0.1',
      '--ice-address', '10.77.0.1', ...this.common()], { stdio: ['ignore', log, log], env: { ...process.env, G_MESSAGES_DEBUG: 'kanyan' } });
    for (const deadline = Date.now() + PATIENCE; ;) {
      if (this.proc.exitCode !== null) throw new Error(`kanyan serve exited (${this.proc.exitCode}); see server-${this.name}.log`);
      try { if ((await fetch(`${this.base}/api/health`)).ok) break; } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error('kanyan serve did not start');
      await sleep(100);
    }
    this.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
    return this;
  }

  async stop() {
    await this.browser?.close();
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  addUser(username, role, department, password = `${username}-story-password`) {
    execFileSync(KANYAN, ['user', 'add', '-u', username, '--role', role, '--department', department,
      '--password-stdin', ...this.common()], { input: `${password}\n` });
    this.passwords[username] = password;
  }

  addCase(ref, owner, extra = []) {
    return JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', ref, '--type', 'fuel-retail', '--owner', owner,
      '--json', ...extra, ...this.common()]).toString());
  }

  // a page in a fresh context: `lang` is chosen before any script of the page runs
  async newPage({ viewport = { width: 1366, height: 768 }, lang = 'en' } = {}) {
    const context = await this.browser.newContext({ viewport, locale: 'en-US' });
    context.setDefaultTimeout(PATIENCE);
    await context.addInitScript((l) => localStorage.setItem('kanyan.lang', l), lang);
    return context.newPage();
  }

  // a staff page, signed in through its login form
  async signIn(page, url, user) {
    await page.goto(`${this.base}${url}`);
    await page.getByTestId('login-user').fill(user);
    await page.getByTestId('login-password').fill(this.passwords[user]);
    await page.getByTestId('login-submit').click();
    await page.waitForFunction(() => document.getElementById('login')?.classList.contains('hidden'));
  }
}

// the REST API from a signed-in page (its cookie): { status, body }
export function pageApi(page, pathName, body) {
  return page.evaluate(async ([p, b]) => {
    const r = await fetch(p, b === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
    const text = await r.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    return { status: r.status, body: parsed };
  }, [pathName, body]);
}

// the live video's own clock: the reviewer watches until it has advanced this far
export async function watchFor(page, seconds) {
  const start = await page.evaluate(() => document.querySelector('[data-testid=live-video]').currentTime);
  await page.waitForFunction(([t0, s]) => {
    const v = document.querySelector('[data-testid=live-video]');
    return v.videoWidth > 0 && v.currentTime >= t0 + s;
  }, [start, seconds]);
}

// One live inspection of case c (its owner `owner`): the applicant's phone publishes, the owner
// marks item 1 pass and item 2 fail with `note`, captures a still of item 2 and draws a box and
// an arrow on it, then rejects the case (awaiting a countersignature). The phone is closed and
// the segment archived before this resolves. Returns { still, shapes, markAt }.
export async function inspect(server, c, owner, note) {
  const phone = await server.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${server.base}/apply/#case=${c.ref}&token=${c.token}`);
  await phone.getByTestId('start').click();
  await phone.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live');
  const desk = await server.newPage();
  await server.signIn(desk, `/review/#case=${c.ref}`, owner);
  await watchFor(desk, 3);
  const ok = (r, what) => { if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`); return r; };
  ok(await pageApi(desk, `/api/cases/${c.ref}/marks`, { item: 1, result: 'pass', note: '' }), 'mark 1');
  await watchFor(desk, 1);
  const markAt = Date.now();
  ok(await pageApi(desk, `/api/cases/${c.ref}/marks`, { item: 2, result: 'fail', note }), 'mark 2');
  const still = ok(await pageApi(desk, `/api/cases/${c.ref}/stills`, { item: 2 }), 'still').body;
  const shapes = [{ kind: 'box', x1: 0.2, y1: 0.2, x2: 0.6, y2: 0.7 }, { kind: 'arrow', x1: 0.9, y1: 0.1, x2: 0.65, y2: 0.4 }];
  ok(await pageApi(desk, `/api/cases/${c.ref}/annotations`, { still: still.id, shapes }), 'drawing');
  await watchFor(desk, 1);
  ok(await pageApi(desk, `/api/cases/${c.ref}/decisions`, { kind: 'reject', reason: 'the extinguisher is missing' }), 'decision');
  await phone.context().close();
  // the segment is archived: the timeline has a playable url for it
  for (const deadline = Date.now() + PATIENCE; ; await sleep(500)) {
    const tl = await pageApi(desk, `/api/cases/${c.ref}/timeline`);
    if (tl.status === 403) break;   // an owner may not read the timeline: the auditor waits instead
    if (tl.body.recordings.length && tl.body.recordings.every((r) => r.url || r.archive_state === 'failed')) break;
    if (Date.now() > deadline) throw new Error('the recording was not archived');
  }
  await desk.context().close();
  return { still, shapes, markAt };
}
