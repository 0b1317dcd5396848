// waiting_room.test.mjs — the waiting room from both pages (issue 18, item 2): the applicant of a
// booked case opens the invite on a phone-sized page before the reviewer is there and waits: it
// is told when the reviewer will join (the booked time, in its language), sees its own camera's
// preview and its microphone's level, and sends nothing (no peer connection on the phone, the
// case not live on the server, no video on the desk). The desk shows "applicant waiting since
// HH:MM" with the booked time; the reviewer calls the applicant in early, the phone announces it
// and goes live, and the video reaches the desk; the admission is audited with who gave it. A
// reload of the admitted phone goes live again without waiting. Real `kanyan serve` and headless
// Chromium with a fake camera, in the test network namespace; every wait is for a condition.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, PATIENCE, startServer, launchChromium, harness, openDesk, apiAs, videoPlays, mondayAhead } from './lib/staff.mjs';

const USERS = { rev1: { role: 'reviewer', department: 'commerce', password: 'waiting-room-password' } };
const PHONE = { width: 390, height: 844 };
let server, browser;
const { test, newPage } = harness('waiting');
before(async () => {
  server = await startServer('waiting', USERS);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const { default: EN } = await import(path.join(ROOT, 'web', 'i18n', 'en.js'));

const status = (page) => page.getByTestId('status').textContent();
const audit = (action) => execFileSync('sqlite3', [server.db,
  `SELECT actor || '|' || detail FROM audit_log WHERE case_ref = 'WAIT-E2E' AND action = '${action}' ORDER BY id`])
  .toString().trim().split('\n').filter(Boolean);

test('the applicant waits with a preview and sends nothing; the reviewer calls it in early and the video arrives', async () => {
  const c = server.addCase('WAIT-E2E', { owner: 'rev1' });
  const api = await apiAs(server, 'rev1');
  const offered = await api('/api/cases/WAIT-E2E/slots', { at: `${mondayAhead()} 14:30` });
  assert.equal(offered.status, 201, JSON.stringify(offered.body));
  const booked = await api(`/api/cases/WAIT-E2E/slots/${offered.body.id}/book`, {});
  assert.equal(booked.body.state, 'booked');

  // the phone comes first: it waits
  const phone = await newPage(browser, { viewport: PHONE });
  await phone.goto(server.applyUrl(c));
  await phone.getByTestId('start').click();
  await phone.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'waiting');
  const card = phone.getByTestId('waiting');
  await card.waitFor();
  const expected = await phone.evaluate((ms) => new Intl.DateTimeFormat('en', { dateStyle: 'full', timeStyle: 'short' })
    .format(new Date(ms)), booked.body.starts_at);
  assert.equal(await card.getByTestId('waiting-when').textContent(), EN['apply.waiting.at'].replace('{time}', expected));
  assert.ok(await videoPlays(phone, '#preview'), 'the local preview plays while waiting');
  await card.getByTestId('mic-level').waitFor();
  await card.locator('[data-testid=waiting-check]:not([data-result=running])').waitFor();   // the connection check ran
  const box = await card.boundingBox();
  assert.ok(box.width <= PHONE.width, `the waiting card fits the phone (${box.width} px)`);

  // the desk: waiting since, the booked time, a call-in button; still nothing is sent
  const desk = await openDesk(await newPage(browser), server, 'rev1', 'WAIT-E2E');
  const banner = desk.getByTestId('waiting-desk');
  await banner.waitFor();
  assert.match(await banner.getByTestId('waiting-since').textContent(),
    new RegExp(`^${EN['review.wait.since'].replace('{time}', '\\d\\d:\\d\\d')}$`));
  assert.equal(await banner.getByTestId('admit').textContent(), EN['review.wait.call'], 'before the slot: calling in early');
  // the case list says it too, for a desk with another case open (its 5 s refresh, or the first load)
  const listed = desk.locator('#cases li[data-ref="WAIT-E2E"] [data-testid=waiting-flag]');
  await listed.waitFor({ timeout: PATIENCE });
  assert.equal(await listed.textContent(), await banner.getByTestId('waiting-since').textContent());
  await desk.waitForFunction(() => document.querySelector('[data-testid=waiting-desk]').dataset.sound);   // played, or kept silent by the browser
  assert.equal(await status(phone), 'waiting');
  assert.equal(await phone.evaluate(() => window.kanyanPc === undefined), true, 'no peer connection on the waiting phone');
  assert.equal((await api('/api/cases/WAIT-E2E')).body.live, false, 'the server has no media of the case');
  assert.equal(await desk.evaluate(() => document.querySelector('[data-testid=live-video]').srcObject), null);
  assert.deepEqual(audit('applicant.admitted'), []);

  // the reviewer calls the applicant in: the phone says so and goes live, the desk sees the video
  await banner.getByTestId('admit').click();
  await phone.getByTestId('waiting-note').and(phone.locator(`:text("${EN['apply.waiting.admitted']}")`)).waitFor();
  await phone.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live');
  assert.ok(await card.isHidden(), 'the waiting card goes once admitted');
  assert.ok(await videoPlays(desk), 'the live video reaches the desk');
  await banner.waitFor({ state: 'hidden' });
  await listed.waitFor({ state: 'detached', timeout: PATIENCE });   // admitted: no longer flagged in the list
  const admitted = audit('applicant.admitted');
  assert.equal(admitted.length, 1);
  const [actor, detail] = admitted[0].split('|');
  assert.equal(actor, 'rev1');
  assert.deepEqual([JSON.parse(detail).by, JSON.parse(detail).early], ['rev1', 'true']);
  assert.equal(audit('applicant.waiting').length, 1);

  // the admitted phone reloads: live again at once, without waiting or a second admission
  await phone.reload();
  await phone.getByTestId('start').click();
  await phone.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live');
  assert.ok(await card.isHidden());
  assert.equal(audit('applicant.waiting').length, 1, 'no second wait');
  assert.equal(audit('applicant.admitted').length, 1);
});
