// pages.test.mjs — the applicant and reviewer pages in real headless Chromium (fake camera and
// microphone) against a real `kanyan serve`, inside the test network namespace.
// Every wait is for a condition, bounded by PATIENCE (a failure bound, not an expected time:
// a loaded 2-core machine may take many seconds for a page load). Each test closes the pages
// it opened, and a failing test leaves screenshots, page errors and failed requests in
// tests/e2e/artifacts/failed-*.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from './lib/port.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KANYAN = path.join(ROOT, 'build', 'kanyan');
const ARTIFACTS = path.join(ROOT, 'tests', 'e2e', 'artifacts');
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server', '--autoplay-policy=no-user-gesture-required'];
const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const PATIENCE = 90000;   // ms: the bound of every wait for a condition
mkdirSync(ARTIFACTS, { recursive: true });
for (const old of readdirSync(ARTIFACTS).filter((f) => f === 'server.log' || f.startsWith('failed-')))
  rmSync(path.join(ARTIFACTS, old), { force: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let dir, port, server, browser, deniedBrowser, serverDied = null;
// The browser contexts the running test opened, and what its pages complained of. A page left
// open keeps encoding or decoding live video through every later test: on a 2-core machine
// the later tests then starved (issue 11: a reviewer video that never played, a login form
// that never appeared). Each test closes its own.
let contexts = [], pageLog = [];
const common = () => ['--data-dir', path.join(dir, 'data'), '--recordings', path.join(dir, 'rec'),
  '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines')];

const serverLogTail = () => readFileSync(path.join(ARTIFACTS, 'server.log'), 'utf8').slice(-3000);

// Resolves once the server answers /api/health: only then is it listening, and only then do
// the tests point a browser at it.
async function startServer() {
  // the server's log goes to the artifacts, at debug level, for when a browser test fails
  const log = openSync(path.join(ARTIFACTS, 'server.log'), 'a');
  const proc = spawn(KANYAN, ['serve', '--no-tls', '--port', String(port), '--bind', '127.0.0.1', '--ice-address', '10.77.0.1', ...common()],
    { stdio: ['ignore', log, log], env: { ...process.env, G_MESSAGES_DEBUG: 'kanyan' } });
  server = proc;
  proc.stopping = false;
  proc.once('exit', (code, signal) => {   // a crash is named in the failure of whatever test runs then
    if (!proc.stopping) serverDied = `kanyan serve exited unexpectedly (${signal || `exit ${code}`})`;
  });
  const deadline = Date.now() + PATIENCE;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`kanyan serve did not start:\n${serverLogTail()}`);
    try { if ((await fetch(`http://127.0.0.1:${port}/api/health`)).ok) return; } catch { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`kanyan serve did not answer within ${PATIENCE} ms:\n${serverLogTail()}`);
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  server.stopping = true;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await exited;
}

const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 60).replace(/-$/, '');

// A test: on failure, every page it opened is photographed, and the page errors, failed
// requests and an unexpected server exit are written beside and added to the message; its
// browser contexts are closed either way.
function test(name, fn) {
  return nodeTest(name, async (t) => {
    contexts = [];
    pageLog = [];
    try {
      await fn(t);
    } catch (err) {
      const base = path.join(ARTIFACTS, `failed-${slug(name)}`);
      let n = 0;
      for (const context of contexts)
        for (const page of context.pages())
          await page.screenshot({ path: `${base}-${++n}.png`, timeout: 10000 }).catch(() => {});
      const notes = [...(serverDied ? [serverDied] : []), ...pageLog];
      writeFileSync(`${base}.log`, notes.join('\n') + '\n');
      if (notes.length && err && typeof err.message === 'string')
        err.message += `\n--- ${notes.length} notes (${base}.log), the last:\n${notes.slice(-15).join('\n')}`;
      throw err;
    } finally {
      const open = contexts;
      contexts = [];
      await Promise.all(open.map((c) => c.close().catch(() => {})));
    }
  });
}

// A browser context of the running test, closed when the test ends.
async function newContext(b, viewport) {
  const context = await b.newContext({ viewport });
  context.setDefaultTimeout(PATIENCE);
  contexts.push(context);
  return context;
}

// What a page complains of: its console errors, uncaught errors and failed requests.
function watch(page) {
  const label = () => page.url().replace(/^https?:\/\/[^/]+/, '');
  page.on('console', (m) => { if (m.type() === 'error') pageLog.push(`${label()} console: ${m.text()}`); });
  page.on('pageerror', (e) => pageLog.push(`${label()} error: ${e.message}`));
  page.on('requestfailed', (r) => pageLog.push(`${label()} request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('crash', () => pageLog.push(`${label()} the page crashed`));
  return page;
}

const PASSWORDS = { rev1: 'e2e-owner-password', rev2: 'e2e-co-reviewer-password', aud1: 'e2e-auditor-password',
  lead1: 'e2e-lead-password' };
const ROLES = { rev1: 'reviewer', rev2: 'reviewer', aud1: 'auditor', lead1: 'lead' };
function addUsers() {
  for (const [user, password] of Object.entries(PASSWORDS))
    execFileSync(KANYAN, ['user', 'add', '-u', user, '--role', ROLES[user],
      '--department', user === 'rev1' || user === 'lead1' ? 'commerce' : 'fire',
      '--password-stdin', ...common()], { input: `${password}\n` });
}

// a case owned by rev1, co-reviewed by rev2 (parallel approval)
function addCase(ref) {
  return JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', ref, '--type', 'fuel-retail', '--owner', 'rev1',
    '--co-reviewer', 'rev2', '--json', ...common()]).toString());
}

// the reviewer page of a case, signed in through its login form
async function reviewerPage(b, user, ref, viewport) {
  const page = await newPage(b, viewport);
  await page.goto(`${base()}/review/${ref ? `#case=${ref}` : ''}`);
  await page.getByTestId('login-user').fill(user);
  await page.getByTestId('login-password').fill(PASSWORDS[user]);
  await page.getByTestId('login-submit').click();
  return page;
}

const base = () => `http://127.0.0.1:${port}`;
const applyUrl = (c) => `${base()}/apply/#case=${c.ref}&token=${c.token}`;

async function newPage(b, viewport = { width: 1440, height: 900 }) {
  const context = await newContext(b, viewport);
  return watch(await context.newPage());
}

// The live video has a picture and its time advances (a failure bound, not an expected time).
async function videoPlaying(page, timeout = PATIENCE) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const a = await page.evaluate(() => { const v = document.querySelector('[data-testid=live-video]'); return { w: v.videoWidth, t: v.currentTime }; });
    if (a.w > 0) {
      await sleep(500);
      const b = await page.evaluate(() => document.querySelector('[data-testid=live-video]').currentTime);
      if (b > a.t) return true;
    }
    await sleep(200);
  }
  return false;
}

async function waitStatus(page, value, timeout = PATIENCE) {
  await page.waitForFunction((v) => document.querySelector('[data-testid=status]').textContent === v, value, { timeout });
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kanyan-e2e-'));
  port = await freePort();
  addUsers();
  await startServer();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...ARGS, ...FAKE_MEDIA] });
  deniedBrowser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...ARGS, '--use-fake-device-for-media-stream'] });
});

after(async () => {
  await browser?.close();
  await deniedBrowser?.close();
  await stopServer();
});

test('applicant goes live; two reviewers see the video; talk-back reaches the applicant; survives a server restart', async () => {
  const c = addCase('E2E-LIVE');
  const applicant = await newPage(browser, { width: 390, height: 844 });
  await applicant.goto(applyUrl(c));
  await applicant.screenshot({ path: path.join(ARTIFACTS, 'apply-phone-before.png') });
  await applicant.getByTestId('start').click();
  await waitStatus(applicant, 'live');

  const r1 = await reviewerPage(browser, 'rev1', c.ref);
  assert.ok(await videoPlaying(r1), 'reviewer 1 video plays');
  const r2 = await reviewerPage(browser, 'rev2', c.ref);
  const r2Playing = await videoPlaying(r2);
  if (!r2Playing) await r2.screenshot({ path: path.join(ARTIFACTS, 'review-2-not-playing.png') });
  assert.ok(r2Playing, 'reviewer 2 (co-reviewer) video plays');
  await r1.getByTestId('case-list').locator('li', { hasText: c.ref }).waitFor();

  await r1.getByTestId('talk').click();
  const audioIn = () => applicant.evaluate(async () => {
    const el = document.getElementById('voices');
    const track = el.srcObject && el.srcObject.getAudioTracks()[0];
    return { live: !!track && track.readyState === 'live', playing: !el.paused };
  });
  let heard = await audioIn();
  for (const deadline = Date.now() + PATIENCE; !(heard.live && heard.playing) && Date.now() < deadline;) {
    await sleep(250);
    heard = await audioIn();
  }
  assert.ok(heard.live && heard.playing, 'the applicant receives and plays the reviewers\' audio');

  await r1.getByRole('button', { name: /make an invite/i }).click();
  await r1.getByTestId('invite-qr').locator('svg').waitFor();
  assert.match(await r1.getByTestId('invite-url').inputValue(), /\/apply\/#case=E2E-LIVE&token=/);
  await applicant.screenshot({ path: path.join(ARTIFACTS, 'apply-phone-live.png') });
  await r1.screenshot({ path: path.join(ARTIFACTS, 'review-desktop.png') });
  const phoneReview = await reviewerPage(browser, 'rev1', null, { width: 390, height: 844 });
  await phoneReview.getByTestId('case-list').locator('li').first().waitFor();
  await phoneReview.screenshot({ path: path.join(ARTIFACTS, 'review-phone.png') });
  const desktopApply = await newPage(browser);
  await desktopApply.goto(applyUrl(c));
  await desktopApply.screenshot({ path: path.join(ARTIFACTS, 'apply-desktop.png') });
  await desktopApply.close();

  await stopServer();
  await waitStatus(applicant, 'reconnecting');
  await startServer();
  await waitStatus(applicant, 'live');
  assert.ok(await videoPlaying(r1), 'the reviewer video resumes after the restart');
});

test('an invalid link, an expired link and a refused camera get their messages', async () => {
  const c = addCase('E2E-ERR');
  const bad = await newPage(browser, { width: 390, height: 844 });
  await bad.goto(`${base()}/apply/#case=${c.ref}&token=not-the-token`);
  await bad.locator('#error').waitFor({ state: 'visible' });
  assert.match(await bad.locator('#error').textContent(), /not valid|expired|无效/);
  await bad.screenshot({ path: path.join(ARTIFACTS, 'apply-phone-invalid-link.png') });

  const old = addCase('E2E-EXPIRED');
  execFileSync('sqlite3', [path.join(dir, 'data', 'kanyan.db'),
    "UPDATE invites SET expires_at = 1 WHERE case_id = (SELECT id FROM cases WHERE ref = 'E2E-EXPIRED')"]);
  const expired = await newPage(browser, { width: 390, height: 844 });
  await expired.goto(applyUrl(old));
  await expired.locator('#error').waitFor({ state: 'visible' });
  assert.match(await expired.locator('#error').textContent(), /expired|过期/);
  assert.ok(await expired.getByTestId('start').isHidden(), 'no start button on an expired link');

  const context = await newContext(deniedBrowser, { width: 390, height: 844 });
  const denied = watch(await context.newPage());
  await denied.goto(applyUrl(c));
  const cdp = await context.newCDPSession(denied);
  for (const name of ['camera', 'microphone'])
    await cdp.send('Browser.setPermission', { permission: { name }, setting: 'denied', origin: base() });
  await denied.getByTestId('start').click();
  await denied.locator('#error').waitFor({ state: 'visible' });
  assert.match(await denied.locator('#error').textContent(), /permission|权限/i);
  await denied.screenshot({ path: path.join(ARTIFACTS, 'apply-phone-denied.png') });
});

test('the reviewer desk asks for a login, refuses a wrong password, and lists only the reviewer\'s cases', async () => {
  addCase('E2E-MINE');
  execFileSync(KANYAN, ['case', 'add', '--ref', 'E2E-NOT-MINE', '--type', 'food-business', '--json', ...common()]);
  const page = await newPage(browser);
  await page.goto(`${base()}/review/`);
  assert.ok(await page.getByTestId('case-list').isHidden(), 'no cases before signing in');
  await page.getByTestId('login-user').fill('rev2');
  await page.getByTestId('login-password').fill('wrong password');
  await page.getByTestId('login-submit').click();
  await page.waitForFunction(() => document.querySelector('#login-error').textContent !== '');
  await page.getByTestId('login-password').fill(PASSWORDS.rev2);
  // the server refuses (429) any sign-in of this account for 250 ms after a failure: wait past
  // that window (measured from the failure, which the page has already shown: wall time, not load)
  await page.waitForTimeout(600);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('case-list').locator('li', { hasText: 'E2E-MINE' }).waitFor();
  assert.equal(await page.getByTestId('case-list').locator('li', { hasText: 'E2E-NOT-MINE' }).count(), 0,
    'a co-reviewer sees the cases it is on, and no others');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'kanyan_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict', 'HttpOnly, SameSite=Strict session cookie');
  await page.screenshot({ path: path.join(ARTIFACTS, 'review-desktop-signed-in.png') });
});

test('the checklist: marks appear for the co-reviewer, the challenge matches, rectify shows the notice on the phone', async () => {
  const c = addCase('E2E-REVIEW');
  const applicant = await newPage(browser, { width: 390, height: 844 });
  await applicant.goto(applyUrl(c));
  await applicant.getByTestId('start').click();
  await waitStatus(applicant, 'live');
  const owner = await reviewerPage(browser, 'rev1', c.ref);
  const co = await reviewerPage(browser, 'rev2', c.ref);
  assert.ok(await videoPlaying(owner), 'the owner sees the site');
  const code = await applicant.getByTestId('challenge').textContent();
  assert.match(code, /^\d{4}$/);
  await owner.getByTestId('challenge').filter({ hasText: code }).waitFor();

  const item2 = owner.getByTestId('checklist').locator('li[data-item="2"]');
  await item2.locator('input.note').fill('no leak barrier at tank 2');
  await item2.locator('button[data-result="fail"]').click();
  await co.getByTestId('checklist').locator('li[data-item="2"].fail').waitFor();
  assert.equal(await co.getByTestId('checklist').locator('li[data-item="2"] input.note').inputValue(), 'no leak barrier at tank 2',
    'the co-reviewer sees the owner\'s mark and note appear');
  // parallel approval: the fire co-reviewer marks the fire department's items, and only those
  assert.ok(await co.getByTestId('checklist').locator('li[data-item="1"] button[data-result="pass"]').isDisabled(),
    'the owner\'s items are not the co-reviewer\'s to mark');
  assert.match(await co.getByTestId('checklist').locator('li[data-item="4"] [data-testid="item-department"]').textContent(), /fire/);
  for (const item of [4, 5]) {
    await co.getByTestId('checklist').locator(`li[data-item="${item}"] button[data-result="pass"]`).click();
    await owner.getByTestId('checklist').locator(`li[data-item="${item}"].pass`).waitFor();
  }
  assert.ok(await owner.getByTestId('checklist').locator('li[data-item="4"] button[data-result="pass"]').isDisabled(),
    'the fire department\'s items are its reviewer\'s, not the owner\'s');
  assert.ok(await co.getByTestId('decide').isHidden(), 'only the owner decides');
  // every item marked: 6 fails, 7 was not shown, the rest pass
  for (const [item, result] of [[1, 'pass'], [3, 'pass'], [6, 'fail'], [7, 'not_shown'], [8, 'pass']]) {
    await owner.getByTestId('checklist').locator(`li[data-item="${item}"] button[data-result="${result}"]`).click();
    await owner.getByTestId('checklist').locator(`li[data-item="${item}"].${result}`).waitFor();
  }
  // two stills: their JPEGs decode and are not blank; one gets a drawing
  for (const item of [2, 6]) {
    await owner.getByTestId('checklist').locator(`li[data-item="${item}"] [data-testid="capture"]`).click();
    await co.getByTestId('checklist').locator(`li[data-item="${item}"] .thumbs img`).waitFor();
  }
  const stills = await owner.evaluate(async () => {
    const imgs = [...document.querySelectorAll('[data-testid=checklist] .thumbs img')];
    await Promise.all(imgs.map((i) => (i.complete ? null : new Promise((r) => { i.onload = r; i.onerror = r; }))));
    return imgs.map((img) => {
      const c = document.createElement('canvas');
      c.width = 64; c.height = 36;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0, 64, 36);
      const px = g.getImageData(0, 0, 64, 36).data;
      let sum = 0, sq = 0;
      for (let k = 0; k < px.length; k += 4) { const y = (px[k] + px[k + 1] + px[k + 2]) / 3; sum += y; sq += y * y; }
      const n = px.length / 4;
      return { w: img.naturalWidth, variance: sq / n - (sum / n) ** 2 };
    });
  });
  assert.equal(stills.length, 2, 'two stills');
  for (const s of stills) assert.ok(s.w > 0 && s.variance > 20, `a decoded, non-blank still (${JSON.stringify(s)})`);
  await owner.getByTestId('checklist').locator('li[data-item="2"] .thumbs img').click();
  const canvas = owner.getByTestId('drawing-canvas');
  await canvas.waitFor();
  const box = await canvas.boundingBox();
  await owner.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.2);
  await owner.mouse.down();
  await owner.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.7, { steps: 5 });
  await owner.mouse.up();
  await owner.getByTestId('drawing-save').click();
  await owner.locator('#drawing .result').filter({ hasText: /saved|保存/ }).waitFor();
  await owner.screenshot({ path: path.join(ARTIFACTS, 'review-desktop-drawing.png') });
  await owner.locator('#drawing .close').click();

  await owner.getByTestId('decide-kind').selectOption('rectify');
  await owner.getByTestId('decide-reason').fill('Fix the tank area; show the other items next time.');
  await owner.getByTestId('decide-submit').click();
  await owner.getByTestId('decide-confirm').click();   // the confirmation dialog (issue 16)
  await applicant.getByTestId('notice').waitFor({ state: 'visible' });
  const notice = await applicant.getByTestId('notice').textContent();
  assert.match(notice, /no leak barrier at tank 2/);
  const listed = await applicant.locator('#notice-items li').evaluateAll((lis) => lis.map((li) => li.value));
  // the stills of the failed items come with the notice, fetched with the invite token
  await applicant.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('[data-testid=notice-still]')];
    return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  });
  assert.deepEqual(listed, [2, 6, 7], 'exactly the failed and not-shown items, all at once');
  await applicant.screenshot({ path: path.join(ARTIFACTS, 'apply-phone-notice.png') });
  await owner.screenshot({ path: path.join(ARTIFACTS, 'review-desktop-checklist.png') });
});

test('a still from the checklist, then the auditor replays the case with its markers and verifies it', async () => {
  const c = addCase('E2E-AUDIT');
  const applicant = await newPage(browser, { width: 390, height: 844 });
  await applicant.goto(applyUrl(c));
  await applicant.getByTestId('start').click();
  await waitStatus(applicant, 'live');
  const owner = await reviewerPage(browser, 'rev1', c.ref);
  assert.ok(await videoPlaying(owner), 'the owner sees the site');
  const item1 = owner.getByTestId('checklist').locator('li[data-item="1"]');
  const beforeMark = Date.now();
  await item1.locator('button[data-result="pass"]').click();
  await owner.waitForFunction(() => document.querySelector('li[data-item="1"] button[data-result="pass"]')
    ?.getAttribute('aria-pressed') === 'true', null, { timeout: PATIENCE });
  const markAt = (beforeMark + Date.now()) / 2;   // when the mark was made, on this test's clock
  await item1.locator('[data-testid="capture"]').click();
  const thumb = item1.locator('.thumbs img');
  await thumb.waitFor();
  await owner.waitForFunction(() => { const i = document.querySelector('li[data-item="1"] .thumbs img'); return i && i.naturalWidth > 0; });
  await owner.waitForTimeout(2000);
  const closedAt = Date.now();
  await applicant.close();   // the inspection ends: its segment is finalized into an archive

  const login = await fetch(`${base()}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'aud1', password: PASSWORDS.aud1 }) });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  let archived = false;
  for (const deadline = Date.now() + PATIENCE; !archived && Date.now() < deadline;) {
    const tl = await (await fetch(`${base()}/api/cases/${c.ref}/timeline`, { headers: { Cookie: cookie } })).json();
    archived = tl.recordings.some((r) => r.url);
    if (!archived) await sleep(500);
  }
  assert.ok(archived, 'the recording was finalized');

  const auditor = await newPage(browser);
  await auditor.goto(`${base()}/audit/`);
  await auditor.getByTestId('login-user').fill('aud1');
  await auditor.getByTestId('login-password').fill(PASSWORDS.aud1);
  await auditor.getByTestId('login-submit').click();
  await auditor.getByTestId('search').locator('input[name=ref]').fill('e2e-audit');
  await auditor.getByTestId('search').getByRole('button', { name: /search|查询/i }).click();
  await auditor.getByTestId('results').locator('li', { hasText: c.ref }).click();
  await auditor.getByTestId('markers').locator('button').first().waitFor();
  const actions = await auditor.getByTestId('markers').locator('button').evaluateAll((bs) => bs.map((b) => b.dataset.action));
  for (const a of ['participant.joined', 'mark', 'still.captured']) assert.ok(actions.includes(a), `a ${a} marker`);
  await auditor.evaluate(async () => {
    const v = document.querySelector('[data-testid=player]');
    v.muted = true;
    await v.play();
  });
  const playing = await auditor.waitForFunction(() => {
    const v = document.querySelector('[data-testid=player]');
    return v.videoWidth > 0 && v.currentTime > 0.5;
  }).then(() => true, () => false);
  const played = await auditor.evaluate(() => { const v = document.querySelector('[data-testid=player]'); return { w: v.videoWidth, t: v.currentTime }; });
  assert.ok(playing, `the archive plays in the browser (${JSON.stringify(played)})`);
  // the mark's marker: the video lands within 1 s of the moment the mark was made. The expected
  // second comes from this test's clock, not the page's: the segment's file ends when the phone
  // was closed (or at its ended_at if the recording branch restarted after it), so the mark lies
  // (end - mark) before the end of the file, whose duration is the video element's own.
  const markMarker = auditor.getByTestId('markers').locator('button[data-action="mark"]').first();
  // start far from it: the last marker, at the end of its segment
  await auditor.getByTestId('markers').locator('button').last().dispatchEvent('click');
  await auditor.waitForFunction(() => {   // the last segment may be another file: wait for its metadata
    const v = document.querySelector('[data-testid=player]');
    return v.readyState >= 1 && Number.isFinite(v.duration);
  });
  await auditor.evaluate(() => { const v = document.querySelector('[data-testid=player]'); v.currentTime = Math.max(0, v.duration - 0.3); });
  await markMarker.dispatchEvent('click');   // markers of one moment overlap: this one, exactly
  const recs = (await (await fetch(`${base()}/api/cases/${c.ref}/timeline`, { headers: { Cookie: cookie } })).json())
    .recordings.filter((r) => r.url).sort((x, y) => x.started_at - y.started_at);
  const markRec = recs.filter((r) => r.started_at <= markAt).pop();
  assert.ok(markRec, 'a segment was recording when the mark was made');
  await auditor.waitForFunction((id) => {
    const v = document.querySelector('[data-testid=player]');
    return v.dataset.recording === String(id) && v.readyState >= 1 && !v.seeking && Number.isFinite(v.duration);
  }, markRec.id);
  const seen = await auditor.evaluate(() => {
    const v = document.querySelector('[data-testid=player]');
    return { t: v.currentTime, d: v.duration };
  });
  const endAt = markRec === recs[recs.length - 1] ? closedAt : markRec.ended_at;
  const expected = Math.max(0, seen.d - (endAt - markAt) / 1000);
  assert.ok(Math.abs(seen.t - expected) < 1, `the mark's marker seeks to ${seen.t.toFixed(2)} s of ${seen.d.toFixed(2)} s; ` +
    `the mark was made at ${expected.toFixed(2)} s`);
  await auditor.getByTestId('verify').click();
  await auditor.getByTestId('integrity').locator('p.ok').waitFor();
  assert.equal(await auditor.getByTestId('integrity').locator('li.error').count(), 0, 'every file matches its hash');
  await auditor.screenshot({ path: path.join(ARTIFACTS, 'audit-desktop.png') });
  const report = await newPage(browser);
  await report.context().addCookies([{ name: 'kanyan_session', value: cookie.split('=')[1], url: base() }]);
  await report.goto(`${base()}/report/#case=${c.ref}`);
  await report.getByTestId('report').waitFor({ state: 'visible' });
  assert.equal(await report.locator('.report-items > li').count(), 8, 'every item');
  await report.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('.report-items img')];
    return imgs.length === 1 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  });
  await report.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
});

test('a reviewer\'s rejection waits for the lead, who countersigns it from the queue', async () => {
  const c = addCase('E2E-REJECT');
  const applicant = await newPage(browser, { width: 390, height: 844 });
  await applicant.goto(applyUrl(c));
  await applicant.getByTestId('start').click();
  await waitStatus(applicant, 'live');
  const owner = await reviewerPage(browser, 'rev1', c.ref);
  await owner.getByTestId('decide').waitFor();
  await owner.getByTestId('decide-kind').selectOption('reject');
  await owner.getByTestId('decide-reason').fill('The site is not the one applied for.');
  await owner.getByTestId('decide-submit').click();
  await owner.getByTestId('decide-confirm').click();   // the confirmation dialog (issue 16)
  await owner.locator('#decide-result').filter({ hasText: /recorded|记录/ }).waitFor();
  const status = async (page) => page.evaluate(async (ref) => (await (await fetch(`/api/cases/${ref}`)).json()).status, c.ref);
  assert.equal(await status(owner), 'rejection_pending', 'a reviewer cannot reject alone');
  const lead = await reviewerPage(browser, 'lead1', null);
  const queue = lead.getByTestId('countersign-queue');
  await queue.locator('li', { hasText: c.ref }).waitFor();
  await queue.locator('li', { hasText: c.ref }).getByRole('button', { name: /countersign|会签/i }).click();
  await lead.getByTestId('countersign-confirm').click();   // the confirmation dialog (issue 16)
  await lead.waitForFunction(async (ref) => (await (await fetch(`/api/cases/${ref}`)).json()).status === 'rejected', c.ref,
    { polling: 500 });
  assert.equal(await status(owner), 'rejected');
  await applicant.close();
});

test('every string the pages use is in both catalogues', async () => {
  const { default: en } = await import(path.join(ROOT, 'web', 'i18n', 'en.js'));
  const { default: zh } = await import(path.join(ROOT, 'web', 'i18n', 'zh-CN.js'));
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort(), 'the same keys in English and Chinese');
  const { readFileSync, readdirSync } = await import('node:fs');
  const used = new Set();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(html|js)$/.test(e.name) && !p.includes(`${path.sep}i18n${path.sep}`)) {
        const text = readFileSync(p, 'utf8');
        for (const m of text.matchAll(/data-i18n="([^"]+)"|\bt\('([a-z0-9_.]+)'\)/g)) used.add(m[1] || m[2]);
      }
    }
  };
  walk(path.join(ROOT, 'web'));
  assert.ok(used.size > 80, `the pages' keys were found (${used.size})`);
  const missing = [...used].filter((k) => !(k in en));
  assert.deepEqual(missing, [], 'keys used by the pages but missing from the catalogues');
});

test('the reviewer desk issues a WHEP viewing token for its case', async () => {
  addCase('E2E-WATCH');
  const page = await reviewerPage(browser, 'rev1', 'E2E-WATCH');
  await page.getByTestId('case-list').locator('li', { hasText: 'E2E-WATCH' }).waitFor();
  await page.getByTestId('watch-token').click();
  await page.getByTestId('watch-url').waitFor({ state: 'visible' });
  assert.equal(await page.getByTestId('watch-url').inputValue(), `${base()}/whep/E2E-WATCH`);
  const token = await page.getByTestId('watch-token-value').inputValue();
  assert.ok(token.length >= 40, 'a token is shown');
  // the token admits a WHEP player to this case (no applicant yet: not_live, not a token error)
  const resp = await fetch(`${base()}/whep/E2E-WATCH`, { method: 'POST', body: 'v=0',
    headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` } });
  assert.equal(resp.status, 409);
  assert.equal((await resp.json()).code, 'not_live');
});
