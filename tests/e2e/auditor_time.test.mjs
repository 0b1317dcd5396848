// auditor_time.test.mjs — the auditor's replay lands where the event happened: a reviewer marks
// items at known wall-clock moments during two publications of a phone (a gap between them:
// two segments), then in the auditor's page each mark's marker is clicked, and the video must
// show the right segment at the right second. The expected second is NOT taken from the page
// or from the server's media_started_at (the quantity under test): each publication ends when
// this test closes the phone (its own clock), so the mark lies (close − mark) before the end of
// the segment's file, whose duration is the file's own (the video element's). A segment that
// ended otherwise (the recording branch restarted) is anchored on its ended_at instead.
// Then a segment's archive is cut in half: the player must say it cannot decode it and move on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from './lib/port.mjs';
import { PATIENCE } from './lib/staff.mjs';   // the bound of every wait for a condition

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KANYAN = path.join(ROOT, 'build', 'kanyan');
const ARTIFACTS = path.join(ROOT, 'tests', 'e2e', 'artifacts');
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server', '--autoplay-policy=no-user-gesture-required',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const TOLERANCE_S = 1.0;
mkdirSync(ARTIFACTS, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let dir, port, server, browser;
const base = () => `http://127.0.0.1:${port}`;
const common = () => ['--data-dir', path.join(dir, 'data'), '--recordings', path.join(dir, 'rec'),
  '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines')];
const PASSWORDS = { rev1: 'time-owner-password', aud1: 'time-auditor-password' };

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kanyan-e2e-time-'));
  port = await freePort();
  execFileSync(KANYAN, ['user', 'add', '-u', 'rev1', '--role', 'reviewer', '--department', 'commerce',
    '--password-stdin', ...common()], { input: `${PASSWORDS.rev1}\n` });
  execFileSync(KANYAN, ['user', 'add', '-u', 'aud1', '--role', 'auditor', '--password-stdin', ...common()],
    { input: `${PASSWORDS.aud1}\n` });
  const log = openSync(path.join(ARTIFACTS, 'server-auditor-time.log'), 'w');
  server = spawn(KANYAN, ['serve', '--no-tls', '--port', String(port), '--bind', '127.0.0.1', '--ice-address', '10.77.0.1',
    ...common()], { stdio: ['ignore', log, log], env: { ...process.env, G_MESSAGES_DEBUG: 'kanyan' } });
  const deadline = Date.now() + 60000;
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

async function newPage(viewport = { width: 1440, height: 900 }) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(PATIENCE);   // every action waits as long as a condition may (a busy machine)
  return context.newPage();
}

async function signIn(page, url, user) {
  await page.goto(url);
  await page.getByTestId('login-user').fill(user, { timeout: PATIENCE });
  await page.getByTestId('login-password').fill(PASSWORDS[user]);
  await page.getByTestId('login-submit').click();
}

// the live video's own clock: the reviewer watches until it has advanced this far
async function watchFor(page, seconds) {
  const start = await page.evaluate(() => document.querySelector('[data-testid=live-video]').currentTime);
  await page.waitForFunction(([t0, s]) => {
    const v = document.querySelector('[data-testid=live-video]');
    return v.videoWidth > 0 && v.currentTime >= t0 + s;
  }, [start, seconds], { timeout: PATIENCE });
}

async function timeline(cookie, ref) {
  return (await fetch(`${base()}/api/cases/${ref}/timeline`, { headers: { Cookie: cookie } })).json();
}

test('each marker seeks the segment that was recording when the mark was made, at that second; segments apart on the axis', async () => {
  const c = JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', 'E2E-TIME', '--type', 'fuel-retail', '--owner', 'rev1',
    '--json', ...common()]).toString());
  const marks = [];    // { item, at, pub }
  const closes = [];   // when each publication ended (this test's clock)
  const opens = [];    // when each publication was begun
  for (const [pub, items] of [[0, [1, 2]], [1, [3]]]) {
    opens.push(Date.now());
    const applicant = await newPage({ width: 390, height: 844 });
    await applicant.goto(`${base()}/apply/#case=${c.ref}&token=${c.token}`);
    await applicant.getByTestId('start').click();
    await applicant.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live', null,
      { timeout: PATIENCE });
    const owner = await newPage();
    await signIn(owner, `${base()}/review/#case=${c.ref}`, 'rev1');
    await watchFor(owner, 2.5);
    for (const item of items) {
      const button = owner.getByTestId('checklist').locator(`li[data-item="${item}"] button[data-result="pass"]`);
      const before = Date.now();
      await button.click();
      await owner.waitForFunction((i) => document.querySelector(`li[data-item="${i}"] button[data-result="pass"]`)
        ?.getAttribute('aria-pressed') === 'true', item, { timeout: PATIENCE });
      marks.push({ item, at: (before + Date.now()) / 2, pub });
      await watchFor(owner, 3);
    }
    closes.push(Date.now());
    await applicant.context().close();   // the publication ends: its segment is finalized
    await owner.context().close();
  }

  const login = await fetch(`${base()}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'aud1', password: PASSWORDS.aud1 }) });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  let recs = [];
  for (const deadline = Date.now() + 90000; Date.now() < deadline; await sleep(500)) {
    recs = (await timeline(cookie, c.ref)).recordings;
    if (recs.length >= 2 && recs.every((r) => r.url || r.archive_state === 'failed') && recs.every((r) => r.ended_at)) break;
  }
  recs = recs.filter((r) => r.url).sort((a, b) => a.started_at - b.started_at);
  assert.ok(recs.length >= 2, `two publications give at least two archived segments (${JSON.stringify(recs)})`);

  // which segment was recording at each mark: the last one opened before it (started_at, the
  // server's moment of opening, not the media_started_at under test); and where each segment's
  // file ends on this test's clock: when the phone was closed, or, for a segment that ended
  // because the recording branch restarted, its ended_at
  // (a segment opened just after a close still belongs to it: the phone's last packets were on
  // their way; the next publication had not begun)
  const pubOf = (r) => opens.findLastIndex((t) => r.started_at >= t);
  const endAt = (r) => {
    const next = recs.find((n) => n.started_at > r.started_at);
    return !next || pubOf(next) !== pubOf(r) ? closes[pubOf(r)] : r.ended_at;
  };
  for (const m of marks) {
    m.rec = recs.filter((r) => r.started_at <= m.at).pop();
    assert.ok(m.rec, `a segment was recording at mark ${m.item}`);
  }
  assert.notEqual(marks[0].rec.id, marks[2].rec.id, 'the marks lie in two segments');

  const auditor = await newPage();
  await signIn(auditor, `${base()}/audit/#case=${c.ref}`, 'aud1');
  const markers = auditor.getByTestId('markers').locator('button[data-action="mark"]');
  await auditor.waitForFunction((n) => document.querySelectorAll('[data-testid=markers] button[data-action="mark"]').length >= n,
    marks.length, { timeout: PATIENCE });
  assert.equal(await markers.count(), marks.length, 'one marker per mark');

  // the gap between the publications is a gap on the axis: the second bar begins right of the first
  const bars = await auditor.locator('.segment-bar').evaluateAll((els) => els.map((e) => {
    const r = e.getBoundingClientRect(); return { left: r.left, right: r.right };
  }));
  const firstOfPub1 = recs.findIndex((r) => pubOf(r) === 1);
  assert.ok(firstOfPub1 > 0, 'a segment of the second publication');
  assert.equal(bars.length, recs.length, 'a bar per segment');
  assert.ok(bars[firstOfPub1].left > bars[firstOfPub1 - 1].right + 5, `a visible gap between the publications (${JSON.stringify(bars)})`);

  // from the last marker back to the first, so every click must change segment or position
  for (const k of [2, 0, 1]) {
    const m = marks[k];
    await markers.nth(k).dispatchEvent('click');   // markers of one moment may overlap: this one, exactly
    // the recording of the mark, or (a mark in the instant between two segments of a restart)
    // the one that follows it at once
    const next = recs.find((r) => r.started_at > m.rec.started_at);
    const allowed = [m.rec.id, ...(next && next.started_at - m.at < 1000 ? [next.id] : [])].map(String);
    await auditor.waitForFunction((ids) => {
      const v = document.querySelector('[data-testid=player]');
      return ids.includes(v.dataset.recording) && v.readyState >= 1 && !v.seeking && Number.isFinite(v.duration);
    }, allowed, { timeout: PATIENCE }).catch(async (e) => {
      const state = await auditor.evaluate(() => {
        const p = document.querySelector('[data-testid=player]');
        return { rec: p.dataset.recording, readyState: p.readyState, seeking: p.seeking, t: p.currentTime, d: p.duration };
      });
      throw new Error(`mark ${m.item} (${m.at}) should play recording ${m.rec.id}: ${JSON.stringify(state)}; ` +
        `segments ${JSON.stringify(recs.map((r) => [r.id, r.started_at, r.media_started_at, r.duration_ms, r.ended_at]))}: ${e.message}`);
    });
    const v = await auditor.evaluate(() => {
      const p = document.querySelector('[data-testid=player]');
      return { t: p.currentTime, d: p.duration, rec: p.dataset.recording };
    });
    const loaded = recs.find((r) => String(r.id) === v.rec);
    const expected = Math.max(0, v.d - (endAt(loaded) - m.at) / 1000);   // the mark lay this far before the file's end
    assert.ok(Math.abs(v.t - expected) < TOLERANCE_S,
      `mark ${m.item}: the video is at ${v.t.toFixed(2)} s of recording ${v.rec} (${v.d.toFixed(2)} s), ` +
      `the mark was made at ${expected.toFixed(2)} s`);
    assert.ok(v.d < (endAt(loaded) - loaded.started_at) / 1000 + TOLERANCE_S, `the segment's duration is its own (${v.d} s)`);
  }
  await auditor.screenshot({ path: path.join(ARTIFACTS, 'audit-time.png'), fullPage: true });

  // a marker clicked while the first segment's file is still on its way (a slow link): the case
  // opens on that segment at 0, and the click must win over that opening when the metadata comes
  const early = marks.filter((x) => x.rec.id === recs[0].id).pop();
  assert.ok(early, `a mark lies in the first segment: ${JSON.stringify(marks)}`);
  const slow = await newPage();
  const file0 = new URL(recs[0].url, base()).pathname;
  let release;
  const gate = new Promise((r) => { release = r; });
  await slow.route((url) => url.pathname === file0, async (route) => { await gate; await route.continue(); });
  await signIn(slow, `${base()}/audit/#case=${c.ref}`, 'aud1');
  await slow.waitForFunction(([id, n]) => {
    const v = document.querySelector('[data-testid=player]');
    return v.dataset.recording === String(id) && v.readyState === 0 &&
      document.querySelectorAll('[data-testid=markers] button[data-action="mark"]').length >= n;
  }, [recs[0].id, marks.length], { timeout: PATIENCE });
  await slow.getByTestId('markers').locator('button[data-action="mark"]').nth(marks.indexOf(early)).dispatchEvent('click');
  release();
  await slow.waitForFunction(() => {
    const v = document.querySelector('[data-testid=player]');
    return v.readyState >= 1 && !v.seeking && Number.isFinite(v.duration);
  }, null, { timeout: PATIENCE });
  const sv = await slow.evaluate(() => {
    const p = document.querySelector('[data-testid=player]');
    return { t: p.currentTime, d: p.duration, rec: p.dataset.recording };
  });
  const want = Math.max(0, sv.d - (endAt(recs[0]) - early.at) / 1000);
  assert.equal(sv.rec, String(recs[0].id), 'still the first segment');
  assert.ok(want > TOLERANCE_S, `the mark lies past the opening second (${want.toFixed(2)} s)`);
  assert.ok(Math.abs(sv.t - want) < TOLERANCE_S,
    `clicked before the metadata came, the video is at ${sv.t.toFixed(2)} s; the mark was made at ${want.toFixed(2)} s`);
  await slow.context().close();

  // a segment that cannot be decoded: the player says so and moves on to the next one
  const broken = recs[0];
  const folder = path.join(dir, 'rec', c.ref, `session-${broken.session}`);
  const file = readdirSync(folder).find((f) => f.startsWith(`segment-${String(broken.seq).padStart(3, '0')}.`) &&
    !f.endsWith('.mkv'));
  truncateSync(path.join(folder, file), Math.floor(statSync(path.join(folder, file)).size / 2));
  const replay = await newPage();   // a fresh browser context: nothing of the whole file cached
  await signIn(replay, `${base()}/audit/#case=${c.ref}`, 'aud1');
  // the case opens on its first segment, at 0
  await replay.waitForFunction((id) => document.querySelector('[data-testid=player]').dataset.recording === String(id),
    broken.id, { timeout: PATIENCE });
  await replay.evaluate(() => { const v = document.querySelector('[data-testid=player]'); v.muted = true; v.play().catch(() => {}); });
  await replay.waitForFunction(() => document.querySelector('[data-testid=player]').dataset.segment === '1', null,
    { timeout: PATIENCE });
  // A file cut in half: Chromium either reports a decode error or plays what is there and
  // ends; either way the player must move on to segment 2 and say why.
  assert.match(await replay.getByTestId('player-note').textContent(), /(could not be decoded|ended).*segment 2/,
    'the page says why it moved on');
  await replay.waitForFunction(() => document.querySelector('[data-testid=player]').currentTime > 0.5, null,
    { timeout: PATIENCE });   // and the next segment plays
});
