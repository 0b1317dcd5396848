// finality.test.mjs — a final decision ends the live inspection on the pages themselves
// (issue 11): the phone shows the outcome, stops its camera and does not come back; the old
// link shows the outcome; the reviewer is told why in a sentence, never a code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync } from 'node:fs';
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
mkdirSync(ARTIFACTS, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let dir, port, server, browser;
const common = () => ['--data-dir', path.join(dir, 'data'), '--recordings', path.join(dir, 'rec'),
  '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines')];
const base = () => `http://127.0.0.1:${port}`;
const applyUrl = (c) => `${base()}/apply/#case=${c.ref}&token=${c.token}`;
const PASSWORDS = { owner: 'e2e-finality-owner', lead: 'e2e-finality-lead' };
const sql = (query) => execFileSync('sqlite3', [path.join(dir, 'data', 'kanyan.db'), query]).toString().trim();

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kanyan-e2e-finality-'));
  port = await freePort();
  for (const [user, role] of [['owner', 'reviewer'], ['lead', 'lead']])
    execFileSync(KANYAN, ['user', 'add', '-u', user, '--role', role, '--department', 'commerce', '--password-stdin',
      ...common()], { input: `${PASSWORDS[user]}\n` });
  const log = openSync(path.join(ARTIFACTS, 'server-finality.log'), 'w');
  server = spawn(KANYAN, ['serve', '--no-tls', '--port', String(port), '--bind', '127.0.0.1', '--ice-address', '10.77.0.1',
    ...common()], { stdio: ['ignore', log, log], env: { ...process.env, G_MESSAGES_DEBUG: 'kanyan' } });
  let up = false;
  for (let i = 0; i < 300 && !up; i++) {
    try { up = (await fetch(`${base()}/api/health`)).ok; } catch { await sleep(100); }
  }
  assert.ok(up, 'kanyan serve answers');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
});

function addCase(ref) {
  return JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', ref, '--type', 'fuel-retail', '--owner', 'owner',
    '--json', ...common()]).toString());
}

async function reviewerPage(user, ref) {
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  page.setDefaultTimeout(PATIENCE);   // every action waits as long as a condition may (a busy machine)
  await page.goto(`${base()}/review/#case=${ref}`);
  await page.getByTestId('login-user').fill(user);
  await page.getByTestId('login-password').fill(PASSWORDS[user]);
  await page.getByTestId('login-submit').click();
  await page.locator('#desk').waitFor({ state: 'visible', timeout: PATIENCE });
  return page;
}

// the page's own session calls the API (the cookie is the page's)
const call = (page, p, body) => page.evaluate(async ([p, body]) => {
  const r = await fetch(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json().catch(() => null) };
}, [p, body]);

async function livePhone(c) {
  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  phone.setDefaultTimeout(PATIENCE);
  await phone.goto(applyUrl(c));
  await phone.getByTestId('start').click();
  await phone.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live', null,
    { timeout: PATIENCE });
  return phone;
}

// the phone shows the outcome, its camera is off, and it does not come back
async function assertPhoneEnded(phone, c, outcome, pattern) {
  await phone.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'closed', null,
    { timeout: PATIENCE });
  await phone.getByTestId('outcome').waitFor({ state: 'visible' });
  assert.equal(await phone.getByTestId('outcome').getAttribute('data-outcome'), outcome);
  assert.match(await phone.getByTestId('outcome-text').textContent(), pattern);
  assert.ok(await phone.locator('#live').isHidden(), 'the live view, its "Live" line and the challenge are gone');
  const tracks = await phone.evaluate(() => document.getElementById('preview').srcObject);
  assert.equal(tracks, null, 'the camera preview is released');
  const open = () => Number(sql(`SELECT count(*) FROM recordings r JOIN live_sessions s ON s.id = r.session_id ` +
    `JOIN cases c ON c.id = s.case_id WHERE c.ref = '${c.ref}' AND r.ended_at IS NULL`));
  for (let i = 0; i < 100 && open() > 0; i++) await sleep(200);
  assert.equal(open(), 0, 'the segment was closed');
  const joins = () => sql(`SELECT count(*) FROM participants p JOIN live_sessions s ON s.id = p.session_id ` +
    `JOIN cases c ON c.id = s.case_id WHERE c.ref = '${c.ref}' AND p.role = 'applicant'`);
  const before = joins();
  await sleep(4000);   // longer than the page's first reconnection delay (1 s): it must not try
  assert.equal(joins(), before, 'the phone did not join again: nothing more is recorded');
  assert.equal(await phone.getByTestId('status').textContent(), 'closed');
  // the old link, opened again, shows the outcome too (not "invalid link"), with no start button
  await phone.reload();
  await phone.getByTestId('outcome').waitFor({ state: 'visible' });
  assert.match(await phone.getByTestId('outcome-text').textContent(), pattern);
  assert.ok(await phone.getByTestId('start').isHidden());
  assert.ok(await phone.locator('#error').isHidden());
}

test('after an approval the phone shows the outcome and stops streaming; the reviewer is told in a sentence', async () => {
  const c = addCase('E2E-FIN-OK');
  const phone = await livePhone(c);
  const owner = await reviewerPage('owner', c.ref);
  for (let item = 1; item <= 8; item++)
    assert.equal((await call(owner, `/api/cases/${c.ref}/marks`, { item, result: 'pass' })).status, 201);
  await owner.getByTestId('decide-kind').selectOption('approve');
  await owner.getByTestId('decide-reason').fill('Every item seen on site.');
  await owner.getByTestId('decide-submit').click();
  await owner.getByTestId('decide-confirm').click();   // the confirmation dialog (issue 16)
  await assertPhoneEnded(phone, c, 'approved', /approved|准予/);
  await phone.screenshot({ path: path.join(ARTIFACTS, 'apply-phone-approved.png') });
  await owner.locator('#hint').filter({ hasText: /decided|作出决定/ }).waitFor({ timeout: PATIENCE });
  // an action refused on the closed case reads as a sentence in the page's language, never a code
  await owner.getByRole('button', { name: /make an invite/i }).click();
  await owner.locator('#hint').filter({ hasText: /finally decided|最终决定/ }).waitFor({ timeout: PATIENCE });
  assert.doesNotMatch(await owner.locator('#hint').textContent(), /case_closed|illegal_transition|approved'/);
  // …in the chosen language
  await owner.locator('#lang').click();
  await owner.locator('#invite').click();
  await owner.locator('#hint').filter({ hasText: /最终决定/ }).waitFor({ timeout: PATIENCE });
  await phone.locator('#lang').click();
  assert.match(await phone.getByTestId('outcome-text').textContent(), /准予/);
});

test('after a countersigned rejection the phone shows the outcome and stops streaming', async () => {
  const c = addCase('E2E-FIN-REJECT');
  const phone = await livePhone(c);
  const owner = await reviewerPage('owner', c.ref);
  // a rectify, then a rejection at once: no reconnection needed, and no raw status name shown
  assert.equal((await call(owner, `/api/cases/${c.ref}/marks`, { item: 2, result: 'fail', note: 'no barrier' })).status, 201);
  await owner.getByTestId('decide-kind').selectOption('rectify');
  await owner.getByTestId('decide-reason').fill('Fix the tank area.');
  await owner.getByTestId('decide-submit').click();
  await owner.getByTestId('decide-confirm').click();   // the confirmation dialog (issue 16)
  await phone.getByTestId('notice').waitFor({ state: 'visible', timeout: PATIENCE });
  await owner.getByTestId('decide-kind').selectOption('reject');
  await owner.getByTestId('decide-reason').fill('The applicant says it cannot be fixed.');
  await owner.getByTestId('decide-submit').click();
  await owner.getByTestId('decide-confirm').click();   // the confirmation dialog (issue 16)
  await owner.locator('#decide-result').filter({ hasText: /recorded|记录/ }).waitFor({ timeout: PATIENCE });
  const { body } = await owner.evaluate(async (ref) => ({ body: await (await fetch(`/api/countersign`)).json() }), c.ref);
  assert.deepEqual(body.decisions, [], 'the owner is no lead');
  const lead = await reviewerPage('lead', c.ref);
  const pending = await lead.evaluate(async () => (await (await fetch('/api/countersign')).json()).decisions);
  const decision = pending.find((d) => d.case === c.ref);
  assert.ok(decision, 'the rejection waits for the lead');
  assert.equal((await call(lead, `/api/cases/${c.ref}/countersign`, { decision: decision.id, sign: true })).status, 200);
  await assertPhoneEnded(phone, c, 'rejected', /rejected|未予准许/);
  await phone.screenshot({ path: path.join(ARTIFACTS, 'apply-phone-rejected.png') });
  // the lead reopens it from the desk, saying why; the owner has no such control
  assert.ok(await owner.getByTestId('reopen').isHidden(), 'only a lead (or an admin) reopens');
  await lead.getByTestId('reopen').waitFor({ state: 'visible', timeout: PATIENCE });
  await lead.getByTestId('reopen-reason').fill('The applicant brought new evidence.');
  await lead.getByTestId('reopen-submit').click();
  await lead.locator('#hint').filter({ hasText: /open again|重新开启/ }).waitFor({ timeout: PATIENCE });
  assert.equal(sql(`SELECT status FROM cases WHERE ref = '${c.ref}'`), 'accepted');
  assert.match(sql(`SELECT detail FROM audit_log WHERE action = 'case.reopened'`), /new evidence/);
  await lead.getByTestId('reopen').waitFor({ state: 'hidden', timeout: PATIENCE });
});
