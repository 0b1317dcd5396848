// booking.test.mjs — booking from both pages (issue 18, item 1): the reviewer offers a slot on
// the desk (and a clashing one is refused with its sentence), the applicant opens the invite by
// its short code (/i/code, typed in lower case) on a phone-sized page in zh-CN, sees the offered
// slots, picks one, sees the booked time in Chinese and downloads the .ics (read back: CRLF,
// the slot's UTC start), and the reviewer desk lists the booking among today's and upcoming
// slots. Real `kanyan serve`, real headless Chromium, in the test network namespace; every wait
// is for a condition, bounded by PATIENCE (a failure bound, not an expected time).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startServer, launchChromium, harness, signIn, mondayAhead } from './lib/staff.mjs';

const USERS = { rev1: { role: 'reviewer', department: 'commerce', password: 'booking-owner-password' } };
let server, browser;
const { test, newPage } = harness('booking');
before(async () => {
  server = await startServer('booking', USERS);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const { default: EN } = await import(path.join(ROOT, 'web', 'i18n', 'en.js'));
const { default: ZH } = await import(path.join(ROOT, 'web', 'i18n', 'zh-CN.js'));

const utcStamp = (ms) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

test('the applicant books by the short code in zh-CN and gets the .ics; the desk lists the booking', async () => {
  const c = server.addCase('BOOK-E2E', { owner: 'rev1' });
  assert.match(c.short_code, /^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}$/);
  const day = mondayAhead();
  const first = JSON.parse(server.cli(['case', 'slot', 'add', '--ref', 'BOOK-E2E', '--at', `${day} 10:00`, '--json']));

  // the reviewer offers a second slot on the desk; one that overlaps the first is refused
  const desk = await newPage(browser, { viewport: { width: 1440, height: 900 } });
  await desk.goto(`${server.base}/review/#case=BOOK-E2E`);
  await signIn(desk, 'rev1', USERS.rev1.password);
  const caseSlots = desk.getByTestId('case-slots');
  await caseSlots.locator(`li[data-slot="${first.id}"]`).waitFor();
  await desk.getByTestId('slot-at').fill(`${day}T10:15`);
  await desk.getByTestId('slot-offer').click();
  await desk.getByTestId('slot-note').and(desk.locator(`:text("${EN['error.slot_conflict']}")`)).waitFor();
  await desk.getByTestId('slot-at').fill(`${day}T11:00`);
  await desk.getByTestId('slot-minutes').fill('45');
  await desk.getByTestId('slot-offer').click();
  await desk.waitForFunction(() => document.querySelectorAll('[data-testid="case-slot"]').length === 2);

  // the applicant: a phone in Chinese, opening the short link typed in lower case
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, lang: 'zh-CN' });
  await phone.goto(`${server.base}/i/${c.short_code.toLowerCase()}`);
  assert.equal(new URL(phone.url()).pathname, '/apply/', 'the short link opens the applicant page');
  const booking = phone.getByTestId('booking');
  await booking.locator('[data-testid="offered-slot"]').nth(1).waitFor();
  assert.equal(await booking.locator('h2').textContent(), ZH['booking.title']);
  const offered = await booking.locator('[data-testid="offered-slot"]').evaluateAll((lis) => lis.map((li) => Number(li.dataset.slot)));
  assert.equal(offered[0], first.id, 'the offered slots are in time order');
  await booking.locator(`li[data-slot="${first.id}"] [data-testid="slot-pick"]`).click();
  const booked = booking.getByTestId('booked-time');
  await booked.waitFor();
  const expected = await phone.evaluate((ms) => new Intl.DateTimeFormat('zh-CN', { dateStyle: 'full', timeStyle: 'short' })
    .format(new Date(ms)), first.starts_at);
  const shown = await booked.textContent();
  assert.ok(shown.startsWith(expected), `the booked time in Chinese: ${shown} (expected ${expected})`);
  assert.match(shown, /年.*月.*日/);
  assert.ok(shown.includes(ZH['booking.minutes'].replace('{n}', '30')));

  // the calendar file: downloaded, CRLF lines, the slot's start in UTC
  const [download] = await Promise.all([phone.waitForEvent('download'), booking.getByTestId('ics-download').click()]);
  const ics = readFileSync(await download.path(), 'utf8');
  assert.ok(ics.startsWith('BEGIN:VCALENDAR\r\n'), ics.slice(0, 80));
  assert.ok(!/[^\r]\n/.test(ics), 'every line ends in CRLF');
  assert.ok(ics.includes(`\r\nDTSTART:${utcStamp(first.starts_at)}\r\n`), ics);
  assert.ok(ics.includes(`\r\nDTEND:${utcStamp(first.ends_at)}\r\n`), ics);
  assert.ok(ics.replace(/\r\n /g, '').includes('BOOK-E2E'));
  assert.match(download.suggestedFilename(), /\.ics$/);

  // the reviewer desk lists it as booked, in time order with the other slot
  await desk.locator(`[data-testid="desk-slot"][data-slot="${first.id}"][data-state="booked"]`).waitFor();
  const order = await desk.getByTestId('slots-desk').locator('[data-testid="desk-slot"]')
    .evaluateAll((lis) => lis.map((li) => Number(li.dataset.slot)));
  assert.equal(order[0], first.id);
  assert.equal(order.length, 2);
  const stored = execFileSync('sqlite3', [server.db,
    `SELECT state || '|' || booked_by FROM slots WHERE id = ${first.id}`]).toString().trim();
  assert.equal(stored, 'booked|applicant');
});
