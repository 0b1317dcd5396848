// booking.test.mjs — booking from both pages (issue 18, item 1): the reviewer offers a slot on
// the desk (and a clashing one is refused with its sentence), the applicant opens the invite by
// its short code (/i/code, typed in lower case) on a phone-sized page in zh-CN, sees the offered
// slots, picks one, sees the booked time in Chinese and downloads the .ics (read back: CRLF,
// the slot's UTC start), and the reviewer desk lists the booking among today's and upcoming
// slots. Real `kanyan serve`, real headless Chromium, in the test network namespace; every wait
// is for a condition, bounded by PATIENCE (a failure bound, not an expected time).
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KANYAN = path.join(ROOT, 'build', 'kanyan');
const ARTIFACTS = path.join(ROOT, 'tests', 'e2e', 'artifacts');
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server', '--autoplay-policy=no-user-gesture-required',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const PATIENCE = 90000;   // ms: the bound of every wait for a condition
mkdirSync(ARTIFACTS, { recursive: true });

const freePort = () => new Promise((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let dir, port, server, browser;
let contexts = [], pageLog = [];
const common = () => ['--data-dir', path.join(dir, 'data'), '--recordings', path.join(dir, 'rec'),
  '--web-dir', path.join(ROOT, 'web'), '--pipelines-dir', path.join(ROOT, 'pipelines')];
const base = () => `http://127.0.0.1:${port}`;
const LOG = () => path.join(ARTIFACTS, 'booking-server.log');

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kanyan-e2e-booking-'));
  port = await freePort();
  addUsers();
  const log = openSync(LOG(), 'w');
  server = spawn(KANYAN, ['serve', '--no-tls', '--port', String(port), '--bind', '127.0.0.1', '--ice-address', '10.77.0.1',
    ...common()], { stdio: ['ignore', log, log] });
  for (const deadline = Date.now() + PATIENCE; ;) {   // listening once /api/health answers
    try { if ((await fetch(`${base()}/api/health`)).ok) break; } catch { /* not yet */ }
    if (Date.now() > deadline || server.exitCode !== null)
      throw new Error(`kanyan serve did not start:\n${readFileSync(LOG(), 'utf8').slice(-3000)}`);
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
});

const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 50).replace(/-$/, '');

// A test: on failure, its pages are photographed and their complaints written beside; its
// browser contexts are closed either way (as pages.test.mjs does).
function test(name, fn) {
  return nodeTest(name, async (t) => {
    contexts = [];
    pageLog = [];
    try {
      await fn(t);
    } catch (err) {
      const stem = path.join(ARTIFACTS, `failed-booking-${slug(name)}`);
      let n = 0;
      for (const context of contexts)
        for (const page of context.pages())
          await page.screenshot({ path: `${stem}-${++n}.png`, timeout: 10000 }).catch(() => {});
      writeFileSync(`${stem}.log`, pageLog.join('\n') + '\n');
      if (pageLog.length && err && typeof err.message === 'string')
        err.message += `\n--- page notes (${stem}.log), the last:\n${pageLog.slice(-15).join('\n')}`;
      throw err;
    } finally {
      const open = contexts;
      contexts = [];
      await Promise.all(open.map((c) => c.close().catch(() => {})));
    }
  });
}

async function newPage(viewport = { width: 1440, height: 900 }) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(PATIENCE);
  contexts.push(context);
  const page = await context.newPage();
  const label = () => page.url().replace(/^https?:\/\/[^/]+/, '');
  page.on('console', (m) => { if (m.type() === 'error') pageLog.push(`${label()} console: ${m.text()}`); });
  page.on('pageerror', (e) => pageLog.push(`${label()} error: ${e.message}`));
  return page;
}


const PASSWORD = 'booking-owner-password';
function addUsers() {
  execFileSync(KANYAN, ['user', 'add', '-u', 'rev1', '--role', 'reviewer', '--department', 'commerce',
    '--password-stdin', ...common()], { input: `${PASSWORD}\n` });
}

const { default: EN } = await import(path.join(ROOT, 'web', 'i18n', 'en.js'));
const { default: ZH } = await import(path.join(ROOT, 'web', 'i18n', 'zh-CN.js'));

// a Monday at least two weeks ahead (a working day: no holidays are configured), as YYYY-MM-DD
function mondayAhead() {
  const d = new Date();
  d.setDate(d.getDate() + 14);
  d.setDate(d.getDate() + ((8 - d.getDay()) % 7));
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
const utcStamp = (ms) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

test('the applicant books by the short code in zh-CN and gets the .ics; the desk lists the booking', async () => {
  const c = JSON.parse(execFileSync(KANYAN, ['case', 'add', '--ref', 'BOOK-E2E', '--type', 'fuel-retail', '--owner', 'rev1',
    '--json', ...common()]).toString());
  assert.match(c.short_code, /^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}$/);
  const day = mondayAhead();
  const first = JSON.parse(execFileSync(KANYAN, ['case', 'slot', 'add', '--ref', 'BOOK-E2E', '--at', `${day} 10:00`,
    '--json', ...common()]).toString());

  // the reviewer offers a second slot on the desk; one that overlaps the first is refused
  const desk = await newPage();
  await desk.goto(`${base()}/review/#case=BOOK-E2E`);
  await desk.getByTestId('login-user').fill('rev1');
  await desk.getByTestId('login-password').fill(PASSWORD);
  await desk.getByTestId('login-submit').click();
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
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN',
    acceptDownloads: true, isMobile: true, hasTouch: true });
  context.setDefaultTimeout(PATIENCE);
  contexts.push(context);
  const phone = await context.newPage();
  phone.on('pageerror', (e) => pageLog.push(`apply error: ${e.message}`));
  await phone.goto(`${base()}/i/${c.short_code.toLowerCase()}`);
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
  const stored = execFileSync('sqlite3', [path.join(dir, 'data', 'kanyan.db'),
    `SELECT state || '|' || booked_by FROM slots WHERE id = ${first.id}`]).toString().trim();
  assert.equal(stored, 'booked|applicant');
});
