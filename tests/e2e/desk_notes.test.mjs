// desk_notes.test.mjs — the reviewer's desk loses nothing typed (issue 16): a note typed after
// clicking Fail is saved as it is typed, survives a co-reviewer's mark arriving meanwhile (the
// field is updated in place, never rebuilt under the cursor) and a reload; the focus stays where
// it is across marks and the case list's refresh; the URL (#case=) drives the case; the Talk
// button is reset by a switch; another department's buttons look disabled and say why; the
// applicant is listed by name. Real `kanyan serve`, real headless Chromium (fake microphone),
// in the test network namespace. Every wait is for a condition, bounded by PATIENCE (a failure
// bound, not an expected time); a failing test leaves screenshots and the pages' complaints in
// tests/e2e/artifacts/failed-desk-*.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, PATIENCE, sleep, startServer, launchChromium, harness, openDesk } from './lib/staff.mjs';

// rev1 owns the cases (commerce; its lead, lead1, may mark the same items); rev2 co-reviews
// them for the fire department (items 4 and 5)
const USERS = {
  rev1: { role: 'reviewer', department: 'commerce', password: 'desk-owner-password' },
  lead1: { role: 'lead', department: 'commerce', password: 'desk-lead-password' },
  rev2: { role: 'reviewer', department: 'fire', password: 'desk-fire-password' },
};
const DESKTOP = { width: 1440, height: 900 };
let server, browser;
const { test, newPage } = harness('desk');
before(async () => {
  server = await startServer('desk', USERS);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const addCase = (ref, applicant = '') => server.addCase(ref, { owner: 'rev1', co: ['rev2'], applicant });

// the reviewer page of a case, signed in through its login form; resolves once the page has
// joined the case's live inspection (it is listed among the participants) and shown its items
const reviewerPage = async (user, ref) => openDesk(await newPage(browser, { viewport: DESKTOP }), server, user, ref);

async function joinedAs(page, user) {
  await page.locator('#participants li', { hasText: user }).first().waitFor();
  await page.getByTestId('checklist').locator('li[data-item="1"]').waitFor();
}

const item = (page, n) => page.getByTestId('checklist').locator(`li[data-item="${n}"]`);

// Tags the element now focused; true later while that same element (not a rebuilt copy) has the focus
const tagFocus = (page) => page.evaluate(() => { document.activeElement.dataset.probe = 'focused'; return document.activeElement.tagName; });
const stillFocused = (page) => page.evaluate(() => document.activeElement?.dataset.probe === 'focused');

// The number of case-list fetches the page made so far (the list is fetched again every 5 s)
function countCaseFetches(page) {
  const counter = { n: 0 };
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/cases') counter.n++; });
  return counter;
}
async function waitFetches(counter, more) {
  const until = counter.n + more;
  for (const deadline = Date.now() + PATIENCE; counter.n < until;) {
    if (Date.now() > deadline) throw new Error(`the case list was not fetched ${more} more times`);
    await sleep(100);
  }
}

const { default: EN } = await import(path.join(ROOT, 'web', 'i18n', 'en.js'));
const { default: ZH } = await import(path.join(ROOT, 'web', 'i18n', 'zh-CN.js'));

test('a note typed after Fail survives a co-reviewer\'s mark and the list\'s refresh, is saved as typed, and a reload keeps it', async () => {
  const c = addCase('DESK-NOTE');
  const a = await reviewerPage('rev1', c.ref);
  const b = await reviewerPage('lead1', c.ref);
  const fetches = countCaseFetches(a);
  await item(a, 1).locator('button[data-result="fail"]').click();
  await a.waitForFunction(() => document.querySelector('li[data-item="1"] button[data-result="fail"]')
    ?.getAttribute('aria-pressed') === 'true');
  const note = item(a, 1).locator('input.note');
  await note.click();
  assert.equal(await tagFocus(a), 'INPUT');
  await a.keyboard.type('the tank lid ', { delay: 20 });
  // the co-reviewer marks another item while A is typing
  await item(b, 2).locator('button[data-result="pass"]').click();
  await item(a, 2).and(a.locator('.pass')).waitFor();
  assert.ok(await stillFocused(a), 'A\'s note field keeps the focus (it is not rebuilt) when B\'s mark arrives');
  assert.equal(await note.inputValue(), 'the tank lid ', 'B\'s mark does not wipe what A is typing');
  await a.keyboard.type('is cracked', { delay: 20 });
  const text = 'the tank lid is cracked';
  // saved as it is typed: no blur, no button
  const state = item(a, 1).getByTestId('note-state');
  await state.and(a.locator('[data-state="saved"]')).waitFor();
  assert.equal(await state.textContent(), EN['review.note.saved'], 'the field says it is saved');
  assert.equal(await note.inputValue(), text);
  assert.ok(await stillFocused(a), 'the focus stayed in A\'s field while the note was saved');
  const marks = await a.evaluate(async (ref) => (await (await fetch(`/api/cases/${ref}/marks`)).json()), c.ref);
  const mark1 = marks.items.find((i) => i.position === 1).mark;
  assert.deepEqual([mark1.result, mark1.note, mark1.by], ['fail', text, 'rev1'], 'the API has the note with the Fail');
  const stored = execFileSync('sqlite3', [server.db, "SELECT result || '|' || note FROM marks " +
    "WHERE case_id = (SELECT id FROM cases WHERE ref = 'DESK-NOTE') AND item = 1 ORDER BY id DESC LIMIT 1"]).toString().trim();
  assert.equal(stored, `fail|${text}`, 'the database has it');
  // B sees A's note appear in place
  await b.waitForFunction((t) => document.querySelector('li[data-item="1"] input.note').value === t, text);
  // two refreshes of the case list: the focus stays in the field
  await waitFetches(fetches, 2);
  assert.ok(await stillFocused(a), 'the case list\'s refresh leaves the focus in A\'s field');
  // a reload keeps it
  await a.reload();
  await joinedAs(a, 'rev1');
  await a.waitForFunction((t) => document.querySelector('li[data-item="1"] input.note')?.value === t, text);
  assert.equal(await item(a, 1).locator('button[data-result="fail"]').getAttribute('aria-pressed'), 'true');
});

test('a note typed before a result waits, says so, and is saved with the result; the focused case stays focused', async () => {
  const c = addCase('DESK-FIRST');
  const a = await reviewerPage('rev1', c.ref);
  const note = item(a, 3).locator('input.note');
  await note.click();
  await a.keyboard.type('seen from afar', { delay: 20 });
  const state = item(a, 3).getByTestId('note-state');
  await state.and(a.locator('[data-state="unsaved"]')).waitFor();
  assert.equal(await state.textContent(), EN['review.note.needs_result'], 'the field says a result is needed first');
  // not on the server yet, yet a reload keeps it (in this browser) and says it is still unsaved
  await a.reload();
  await joinedAs(a, 'rev1');
  await a.waitForFunction(() => document.querySelector('li[data-item="3"] input.note')?.value === 'seen from afar');
  await state.and(a.locator('[data-state="unsaved"]')).waitFor();
  await item(a, 3).locator('button[data-result="not_shown"]').click();
  await state.and(a.locator('[data-state="saved"]')).waitFor();
  const marks = await a.evaluate(async (ref) => (await (await fetch(`/api/cases/${ref}/marks`)).json()), c.ref);
  assert.equal(marks.items.find((i) => i.position === 3).mark.note, 'seen from afar');
  // the keyboard user on the case list keeps its place across the list's refresh
  const fetches = countCaseFetches(a);
  const li = a.getByTestId('case-list').locator('li', { hasText: c.ref });
  await li.focus();
  await tagFocus(a);
  await waitFetches(fetches, 2);
  assert.ok(await stillFocused(a), 'the case list\'s refresh leaves the focus on the focused case');
});

test('the URL is the state: #case= switches the case, back and forward too; a switch resets Talk', async () => {
  const one = addCase('DESK-URL-1'), two = addCase('DESK-URL-2');
  const a = await reviewerPage('rev1', one.ref);
  await a.getByTestId('talk').click();
  await a.waitForFunction(() => document.querySelector('[data-testid=talk]').getAttribute('aria-pressed') === 'true');
  const showing = (ref) => a.waitForFunction((r) => document.getElementById('current').textContent === r &&
    document.querySelector('#cases li[aria-current="true"]')?.dataset.ref === r, ref);
  await a.evaluate((r) => { location.hash = `#case=${r}`; }, two.ref);   // as a pasted link would
  await showing(two.ref);
  await joinedAs(a, 'rev1');
  assert.equal(await a.getByTestId('talk').getAttribute('aria-pressed'), 'false', 'Talk is not left pressed after a switch');
  assert.equal(await a.getByTestId('talk').textContent(), EN['review.talk']);
  await a.goBack();
  await showing(one.ref);
  await a.goForward();
  await showing(two.ref);
  // a click on the list is a step in the history too
  await a.getByTestId('case-list').locator('li', { hasText: one.ref }).click();
  await showing(one.ref);
  assert.match(a.url(), new RegExp(`#case=${one.ref}$`));
  await a.goBack();
  await showing(two.ref);
});

test('another department\'s items look disabled and say why, in both languages; the applicant is listed by name', async () => {
  const c = addCase('DESK-WHO', 'Wang Fang');
  const fire = await reviewerPage('rev2', c.ref);
  const mine = item(fire, 4).locator('button[data-result="pass"]');
  const theirs = item(fire, 1).locator('button[data-result="pass"]');
  assert.ok(await theirs.isDisabled() && !(await mine.isDisabled()));
  const look = (loc) => loc.evaluate((el) => { const s = getComputedStyle(el); return `${s.opacity} ${s.color} ${s.backgroundColor} ${s.cursor}`; });
  assert.notEqual(await look(theirs), await look(mine), 'a disabled button does not look like an enabled one');
  const why = item(fire, 1).getByTestId('not-yours');
  assert.ok(await why.isVisible(), 'the reason is written beside the item');
  assert.equal(await why.textContent(), EN['review.not_yours']);
  assert.equal(await theirs.getAttribute('title'), EN['review.not_yours'], 'and shown on hover');
  const described = await theirs.getAttribute('aria-describedby');
  assert.equal(described, await why.getAttribute('id'), 'and read out with the button');
  assert.ok(!(await item(fire, 4).getByTestId('not-yours').isVisible()), 'not beside the reviewer\'s own items');
  assert.equal(await mine.getAttribute('title'), null);
  await fire.locator('#lang').click();
  await fire.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  assert.equal(await why.textContent(), ZH['review.not_yours']);
  assert.equal(await theirs.getAttribute('title'), ZH['review.not_yours']);
  await fire.locator('#lang').click();   // the choice is remembered in the browser: back to English
  await fire.waitForFunction(() => document.documentElement.lang === 'en');

  // the applicant joins (signaling only: the participants list is what is shown)
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
  await phone.goto(`${server.base}/api/health`);
  await phone.evaluate(([ref, token]) => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${location.host}/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', case: ref, role: 'applicant', token }));
    ws.onmessage = (e) => { if (JSON.parse(e.data).type === 'joined') { window.held = ws; resolve(); } };
    ws.onerror = reject;
  }), [c.ref, c.token]);
  const people = fire.locator('#participants li');
  await people.filter({ hasText: 'Wang Fang' }).waitFor();
  const names = await people.allTextContents();
  assert.ok(names.every((n) => !/\bp\d+\b/.test(n)), `no peer ids in the list: ${JSON.stringify(names)}`);
  assert.ok(names.some((n) => n.includes('Wang Fang') && n.includes(EN['review.who.applicant'])), JSON.stringify(names));
});
