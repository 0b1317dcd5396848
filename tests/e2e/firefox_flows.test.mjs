// firefox_flows.test.mjs — the two main flows of the staff pages in Firefox ESR (issue 16; the
// same flows run in Chromium in desk_notes, auditor_time and audit_story): (a) the reviewer's
// desk — sign in, open the case, the live video plays, Fail an item and type its note while a
// co-reviewer marks another item (the note survives, keeps the focus, is saved as typed and
// after a reload), capture a still, decide through the confirmation dialog; (b) the auditor —
// the finished case's page, its markers clicked: the player shows the segment holding each
// mark at the second the mark was made (the moments taken on this test's clock). The phone is
// headless Chromium (lib/staff.mjs) publishing VP8; the staff pages are Firefox (lib/firefox.mjs). Every wait
// is for a condition, bounded by PATIENCE; a failure leaves screenshots in tests/e2e/artifacts.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ARTIFACTS, PATIENCE, sleep, startServer, launchChromium, harness, apiAs, livePhone, openDesk, videoPlays } from './lib/staff.mjs';
import { launchFirefox, signInFirefox } from './lib/firefox.mjs';

const USERS = {
  rev1: { role: 'reviewer', department: 'commerce', password: 'ff-owner-password' },
  lead1: { role: 'lead', department: 'commerce', password: 'ff-lead-password' },
  aud1: { role: 'auditor', department: 'audit', password: 'ff-auditor-password' },
};
const NOTE = 'the tank lid is cracked';
const TOLERANCE_S = 1.0;
let server, chromium, firefox, c;
const moments = [];   // { item, at } on this test's clock, the middle of each mark's request
const { test: chromiumTest, newPage } = harness('firefox');

// a test whose Firefox pages are photographed on failure and closed either way
const test = (name, fn) => chromiumTest(name, async (t) => {
  try { await fn(t); } catch (err) {
    await firefox.shoot(path.join(ARTIFACTS, `failed-firefox-${name.slice(0, 30).replace(/[^a-z0-9]+/gi, '-')}`));
    throw err;
  } finally { await firefox.closePages(); }
});

before(async () => {
  server = await startServer('firefox', USERS);
  [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);
  c = server.addCase('FF-1', { owner: 'rev1', co: ['lead1'], applicant: 'Wang Fang' });
});
after(async () => {
  await firefox?.close();
  await chromium?.close();
  await server?.stop();
});

// The phone publishes VP8: Debian's Firefox ESR decodes no H.264 without the OpenH264 plug-in,
// which it would download (offline here); the applicant page prefers H.264 (web/apply/apply.js)
const vp8Only = () => {
  const prefer = RTCRtpTransceiver.prototype.setCodecPreferences;
  RTCRtpTransceiver.prototype.setCodecPreferences = function (codecs) {
    return prefer.call(this, codecs.filter((c) => !/h264/i.test(c.mimeType)));
  };
};

const row = (n) => `[data-testid=checklist] li[data-item="${n}"]`;

test('the reviewer\'s desk in Firefox: live video, a note that survives a co-reviewer\'s mark and a reload, a still, a decision', async () => {
  const phone = await newPage(chromium, { viewport: { width: 390, height: 844 } });
  await phone.context().addInitScript(vp8Only);
  await livePhone(phone, server, c);
  const desk = await firefox.newPage();
  await desk.goto(`${server.base}/review/#case=${c.ref}`);
  await signInFirefox(desk, 'rev1', server.passwords.rev1);
  await desk.waitForFunction((sel) => document.querySelector(sel) &&
    [...document.querySelectorAll('#participants li')].some((li) => li.textContent.includes('rev1')), {}, row(1));
  assert.ok(await videoPlays(desk), 'the live video plays in Firefox');

  // Fail on item 1, then its note typed while the co-reviewer marks item 2
  const before1 = Date.now();
  await desk.click(`${row(1)} button[data-result="fail"]`);
  await desk.waitForFunction((sel) => document.querySelector(sel).getAttribute('aria-pressed') === 'true', {},
    `${row(1)} button[data-result="fail"]`);
  moments.push({ item: 1, at: (before1 + Date.now()) / 2 });
  await desk.click(`${row(1)} input.note`);
  await desk.evaluate(() => { document.activeElement.dataset.probe = 'focused'; });
  await desk.keyboard.type('the tank lid ', { delay: 20 });
  const lead = await apiAs(server, 'lead1');
  const before2 = Date.now();
  const r = await lead(`/api/cases/${c.ref}/marks`, { item: 2, result: 'pass', note: '' });
  moments.push({ item: 2, at: (before2 + Date.now()) / 2 });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await desk.waitForFunction((sel) => document.querySelector(sel).classList.contains('pass'), {}, row(2));
  assert.ok(await desk.evaluate(() => document.activeElement?.dataset.probe === 'focused'),
    'the note field keeps the focus when the co-reviewer\'s mark arrives');
  assert.equal(await desk.$eval(`${row(1)} input.note`, (i) => i.value), 'the tank lid ', 'the mark does not wipe the note');
  await desk.keyboard.type('is cracked', { delay: 20 });
  await desk.waitForFunction((sel) => document.querySelector(sel).dataset.state === 'saved', {},
    `${row(1)} [data-testid=note-state]`);
  const marks = (await lead(`/api/cases/${c.ref}/marks`)).body;
  const mark1 = marks.items.find((i) => i.position === 1).mark;
  assert.deepEqual([mark1.result, mark1.note, mark1.by], ['fail', NOTE, 'rev1'], 'the server has the note with the Fail');

  // a reload keeps it
  await desk.reload();
  await desk.waitForFunction((sel, text) => document.querySelector(`${sel} input.note`)?.value === text, {}, row(1), NOTE);
  assert.equal(await desk.$eval(`${row(1)} button[data-result="fail"]`, (b) => b.getAttribute('aria-pressed')), 'true');

  // a still of item 1: its thumbnail shows beside the item
  await desk.click(`${row(1)} [data-testid=capture]`);
  await desk.waitForFunction((sel) => [...document.querySelectorAll(`${sel} .thumbs img`)].some((i) => i.naturalWidth > 0),
    {}, row(1));

  // the decision, confirmed in its dialog
  await desk.select('[data-testid=decide-kind]', 'reject');
  await desk.type('[data-testid=decide-reason]', 'the tank lid is cracked');
  await desk.click('[data-testid=decide-submit]');
  await desk.waitForSelector('[data-testid=decide-dialog][open]');
  assert.equal(await desk.evaluate(() => document.activeElement.id), 'decide-cancel', 'the dialog focuses Cancel first');
  await desk.click('[data-testid=decide-confirm]');
  await desk.waitForFunction(() => !document.querySelector('[data-testid=decided-note]').classList.contains('hidden'));
  const status = (await lead(`/api/cases/${c.ref}`)).body.status;
  assert.equal(status, 'rejection_pending', 'the rejection waits for a countersignature');
  await desk.screenshot({ path: path.join(ARTIFACTS, 'firefox-desk-en-1366.png') });
  await phone.context().close();   // the publication ends: its segment is archived
});

test('the auditor\'s page in Firefox: each mark\'s marker plays its segment at the second it was made', async () => {
  assert.equal(moments.length, 2, 'the desk flow marked two items');
  const audit = await apiAs(server, 'aud1');
  let tl;
  for (const deadline = Date.now() + PATIENCE; ; await sleep(300)) {
    tl = (await audit(`/api/cases/${c.ref}/timeline`)).body;
    if (tl.recordings.length && tl.recordings.every((x) => x.url || x.archive_state === 'failed')) break;
    if (Date.now() > deadline) throw new Error(`the recording was not archived: ${JSON.stringify(tl.recordings)}`);
  }
  const segs = tl.recordings.filter((x) => x.url && x.duration_ms > 0);
  const start = (s) => s.media_started_at ?? s.started_at;
  const page = await firefox.newPage();
  await page.goto(`${server.base}/audit/#case=${c.ref}`);
  await signInFirefox(page, 'aud1', server.passwords.aud1);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=markers] button[data-action="mark"]').length >= 2);
  for (const m of [...moments].reverse()) {   // the later first: each click changes the position
    const seg = segs.find((s) => m.at >= start(s) && m.at <= start(s) + s.duration_ms);
    assert.ok(seg, `a segment holds the mark of item ${m.item}: ${JSON.stringify(segs)}`);
    const expected = (m.at - start(seg)) / 1000;
    // the marker of this mark: the one nearest the moment measured here
    const at = await page.evaluate((t) => {
      const all = [...document.querySelectorAll('[data-testid=markers] button[data-action="mark"]')];
      const near = all.reduce((a, b) => (Math.abs(b.dataset.at - t) < Math.abs(a.dataset.at - t) ? b : a));
      near.click();
      return Number(near.dataset.at);
    }, m.at);
    assert.ok(Math.abs(at - m.at) < 1000, `the marker of item ${m.item} lies at its moment (${at} vs ${m.at})`);
    await page.waitForFunction((id, t, tol) => {
      const v = document.querySelector('[data-testid=player]');
      return v.dataset.recording === String(id) && v.readyState >= 1 && !v.seeking && Math.abs(v.currentTime - t) < tol;
    }, {}, seg.id, expected, TOLERANCE_S).catch(async (e) => {
      const state = await page.$eval('[data-testid=player]', (v) => ({ rec: v.dataset.recording, t: v.currentTime, rs: v.readyState }));
      throw new Error(`item ${m.item}: expected recording ${seg.id} at ${expected.toFixed(2)} s, the player: ` +
        `${JSON.stringify(state)}: ${e.message}`);
    });
  }
  // the player plays from there
  const t0 = await page.$eval('[data-testid=player]', (v) => { v.muted = true; v.play(); return v.currentTime; });
  await page.waitForFunction((t) => document.querySelector('[data-testid=player]').currentTime > t + 0.3, {}, t0);
  await page.screenshot({ path: path.join(ARTIFACTS, 'firefox-audit-en-1366.png'), fullPage: true });
});

test('a desk whose browser cannot decode the phone\'s video says so instead of showing a black picture', async () => {
  // the phone as it is: the applicant page prefers H.264 (relayed as it comes, never transcoded)
  const c2 = server.addCase('FF-2', { owner: 'rev1', applicant: 'Li Na' });
  const phone = await newPage(chromium, { viewport: { width: 390, height: 844 } });
  await livePhone(phone, server, c2);
  const desk = await firefox.newPage();
  await desk.goto(`${server.base}/review/#case=${c2.ref}`);
  await signInFirefox(desk, 'rev1', server.passwords.rev1);
  const canH264 = await desk.evaluate(() => RTCRtpReceiver.getCapabilities('video').codecs.some((x) => /h264/i.test(x.mimeType)));
  if (canH264) {   // a Firefox with its OpenH264 plug-in: it plays, and nothing is said
    assert.ok(await videoPlays(desk), 'the live video plays in Firefox');
    assert.equal(await desk.$eval('[data-testid=codec-alert]', (e) => e.hidden), true);
  } else {         // Debian's Firefox ESR offline: the desk names the codec it cannot play
    await desk.waitForFunction(() => !document.querySelector('[data-testid=codec-alert]').hidden);
    assert.match(await desk.$eval('[data-testid=codec-alert]', (e) => e.textContent), /H264.*OpenH264/);
  }
  // the same case on a Chromium desk, which decodes H.264: the video plays, no alert
  const chromiumDesk = await newPage(chromium);
  await openDesk(chromiumDesk, server, 'rev1', c2.ref);
  assert.ok(await videoPlays(chromiumDesk), 'the live video plays in Chromium');
  assert.equal(await chromiumDesk.getByTestId('codec-alert').isHidden(), true);
});
