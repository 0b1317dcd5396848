// keyboard_walk.test.mjs — the desk and the auditor's page with the keyboard alone (issue 16,
// WCAG 2.1.1): at the desk a still is captured and a box drawn on it (the arrow keys move the
// drawing's cursor, Enter sets each corner, web/review/drawing.js) and saved; at the auditor's
// page the case is searched and picked, the video played, the timeline walked with the arrow
// keys to the still's entry (its drawing shown over it), and the check run — Tab, Shift+Tab,
// Enter, Space and the arrow keys only, never a click. The open drawing dialog passes axe-core. Real `kanyan serve`, headless Chromium, a
// live phone; every wait is for a condition, bounded by PATIENCE.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, PATIENCE, sleep, startServer, launchChromium, harness, apiAs, openDesk, livePhone } from './lib/staff.mjs';
import { checkAxe, describeViolations } from './lib/axe.mjs';

const USERS = {
  rev1: { role: 'reviewer', department: 'commerce', password: 'keys-owner-password' },
  aud1: { role: 'auditor', department: 'audit', password: 'keys-auditor-password' },
};
const { default: EN } = await import(path.join(ROOT, 'web', 'i18n', 'en.js'));
let server, browser, c, stillId;
const { test, newPage } = harness('keys');
before(async () => {
  server = await startServer('keys', USERS);
  browser = await launchChromium();
  c = server.addCase('KEYS-1', { owner: 'rev1', applicant: 'Wang Fang' });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// Tab (or Shift+Tab) until the focused element matches `selector`; fails after `max` presses
async function tabTo(page, selector, { back = false, max = 120 } = {}) {
  for (let n = 0; n < max; n++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`${max} presses of ${back ? 'Shift+Tab' : 'Tab'} did not reach ${selector}`);
}
const focused = (page, selector) => page.evaluate((s) => document.activeElement?.matches(s), selector);
const press = async (page, key, times = 1) => { for (let i = 0; i < times; i++) await page.keyboard.press(key); };

test('at the desk, a still is captured and a box drawn on it with the keyboard alone', async () => {
  const phone = await livePhone(await newPage(browser, { viewport: { width: 390, height: 844 } }), server, c);
  const desk = await openDesk(await newPage(browser), server, 'rev1', c.ref);
  await desk.waitForFunction(() => document.querySelector('[data-testid=live-video]').videoWidth > 0);
  const row = '[data-testid=checklist] li[data-item="2"]';
  await tabTo(desk, `${row} [data-testid=capture]`);
  await desk.keyboard.press('Enter');
  await desk.waitForFunction((r) => [...document.querySelectorAll(`${r} .thumbs img`)].some((i) => i.naturalWidth > 0), row);
  await tabTo(desk, `${row} .thumbs img`, { max: 5 });
  await desk.keyboard.press('Enter');
  await desk.waitForFunction(() => document.getElementById('drawing').open);
  assert.ok(await focused(desk, '#drawing canvas'), 'the dialog opens with the picture focused');
  assert.equal(await desk.getAttribute('#drawing canvas', 'aria-label'), EN['desk.drawing.keys'], 'the picture says how to draw on it');
  // the shape: Box (the select, one Tab on), then back to the picture
  await desk.keyboard.press('Tab');
  assert.ok(await focused(desk, '#drawing-kind'));
  await press(desk, 'ArrowDown', 2);
  assert.equal(await desk.inputValue('#drawing-kind'), 'box');
  await desk.keyboard.press('Shift+Tab');
  assert.ok(await focused(desk, '#drawing canvas'));
  // the cursor starts in the middle: to (0.2, 0.3), Enter, to (0.7, 0.8), Enter
  await press(desk, 'Shift+ArrowLeft', 3);
  await press(desk, 'Shift+ArrowUp', 2);
  await desk.keyboard.press('Enter');
  assert.match(await desk.textContent('#drawing .result'), /20 %.*30 %/, 'the start is said');
  await press(desk, 'Shift+ArrowRight', 5);
  await press(desk, 'ArrowDown', 25);
  await desk.keyboard.press('Enter');
  assert.equal(await desk.textContent('#drawing .result'), EN['desk.drawing.added'].replace('{shape}', EN['shape.box']));
  await tabTo(desk, '#drawing [data-testid=drawing-save]', { max: 4 });
  await desk.keyboard.press('Enter');
  await desk.waitForFunction((t) => document.querySelector('#drawing .result').textContent === t, EN['review.drawing.saved']);
  const violations = await checkAxe(desk, 'keys-drawing-dialog');   // the dialog with its keyboard picture
  assert.deepEqual(violations, [], describeViolations(violations));
  await desk.keyboard.press('Escape');
  await desk.waitForFunction(() => !document.getElementById('drawing').open);
  const api = await apiAs(server, 'rev1');
  const stills = (await api(`/api/cases/${c.ref}`)).body.stills;
  assert.equal(stills.length, 1);
  stillId = stills[0].id;
  const [box] = stills[0].annotation;
  assert.equal(stills[0].annotation.length, 1, JSON.stringify(stills[0].annotation));
  const near = (a, b) => Math.abs(a - b) < 0.005;
  assert.ok(box.kind === 'box' && near(box.x1, 0.2) && near(box.y1, 0.3) && near(box.x2, 0.7) && near(box.y2, 0.8),
    `the box lies where the keys put it: ${JSON.stringify(box)}`);
  // the case is decided and the phone leaves: the auditor's turn
  assert.equal((await api(`/api/cases/${c.ref}/decisions`, { kind: 'reject', reason: 'no extinguisher' })).status, 201);
  await phone.context().close();
});

test('the auditor\'s page with the keyboard alone: search, pick, play, walk the timeline to the drawing, verify', async () => {
  assert.ok(stillId, 'the desk made a still with a drawing');
  const audit = await apiAs(server, 'aud1');
  for (const deadline = Date.now() + PATIENCE; ; await sleep(300)) {
    const tl = (await audit(`/api/cases/${c.ref}/timeline`)).body;
    // every recording finalized one way or another (an empty or failed one need not be waited for)
    if (tl.recordings.length && tl.recordings.every((x) => x.url || ['failed', 'empty'].includes(x.archive_state))) {
      assert.ok(tl.recordings.some((x) => x.url),
        `no recording was archived: ${JSON.stringify(tl.recordings.map((x) => x.archive_state))}`);
      break;
    }
    if (Date.now() > deadline) throw new Error('the recording was not archived');
  }
  const page = await newPage(browser);
  await page.goto(`${server.base}/audit/`);
  await tabTo(page, '[data-testid=login-user]');
  await page.keyboard.type('aud1');
  await page.keyboard.press('Tab');
  await page.keyboard.type(server.passwords.aud1);
  await page.keyboard.press('Enter');
  await page.getByTestId('login-form').waitFor({ state: 'hidden' });
  // search by reference, then pick the case from the results
  await tabTo(page, '#search input[name=ref]');
  await page.keyboard.type(c.ref);
  await page.keyboard.press('Enter');
  await page.locator(`#results li[data-ref="${c.ref}"]`).waitFor();
  await tabTo(page, `#results li[data-ref="${c.ref}"]`);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#timeline button.seek').length > 3 &&
    document.querySelector('[data-testid=player]').readyState >= 1);
  // play: the player's own controls take Space
  await tabTo(page, '[data-testid=player]');
  await page.evaluate(() => { document.querySelector('[data-testid=player]').muted = true; });
  await page.keyboard.press('Space');
  await page.waitForFunction(() => { const v = document.querySelector('[data-testid=player]'); return !v.paused && v.currentTime > 0.3; });
  // the timeline: Tab into it, then Down from entry to entry until the still's
  await tabTo(page, '#timeline button.seek');
  const seekable = await page.locator('#timeline button.seek').count();
  let at = 0;
  while (!(await focused(page, 'li[data-action="still.captured"] button.seek'))) {
    assert.ok(++at < seekable, 'Down reaches the still\'s entry');
    const before = await page.evaluate(() => document.activeElement.closest('li').dataset.entry);
    await page.keyboard.press('ArrowDown');
    const now = await page.evaluate(() => document.activeElement.closest('li')?.dataset.entry);
    assert.notEqual(now, before, 'Down moves to the next entry');
  }
  await page.keyboard.press('ArrowUp');
  assert.ok(!(await focused(page, 'li[data-action="still.captured"] button.seek')), 'Up moves back');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  // the still's entry seeks the player to its moment and shows the drawing over the still, in view
  const entry = page.locator('#timeline li[data-action="still.captured"]');
  const mark = Number(await page.evaluate(() => document.querySelector('[data-testid=markers] .marker[data-action="still.captured"]').dataset.at));
  await page.waitForFunction((t) => {
    const v = document.querySelector('[data-testid=player]');
    return !v.seeking && Math.abs(Number(v.dataset.mediaStartedAt) + v.currentTime * 1000 - t) < 1500;
  }, mark);
  const drawing = await entry.evaluate((li, id) => {
    const fig = li.querySelector(`figure.still[data-still="${id}"]`);
    const shape = fig?.querySelector('svg.drawing-over rect');
    if (!shape) return null;
    const r = shape.getBoundingClientRect();
    return { kind: shape.dataset.kind, top: r.top, bottom: r.bottom, height: innerHeight };
  }, stillId);
  assert.ok(drawing && drawing.kind === 'box', 'the box drawn at the desk shows over its still');
  assert.ok(drawing.bottom > 0 && drawing.top < drawing.height, `the drawing is in view: ${JSON.stringify(drawing)}`);
  // the check: back up to its button, Enter
  await tabTo(page, '[data-testid=verify]', { back: true });
  await page.keyboard.press('Enter');
  await page.locator('[data-testid=integrity] p.ok').waitFor();
});
