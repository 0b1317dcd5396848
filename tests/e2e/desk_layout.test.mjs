// desk_layout.test.mjs — the reviewer's desk fits one screen at 1366×768 (issue 16, item 2):
// the live video stays within the viewport while the reviewer marks the last checklist item
// (bounding boxes); the invite link and its QR code are one click from the case header; the
// case facts follow the case's state (no "awaiting inspection" while live); the decision is the
// last step, confirmed in a real <dialog> that states what follows, and is not offered on a
// decided case; a countersignature and a return are confirmed the same way (no prompt()); the
// decision's controls stay inside their card. Screenshots of the desk and the applicant page at
// 1366×768 and 390×844 in both languages go to tests/e2e/artifacts/desk-*.png.
// Real `kanyan serve`, real headless Chromium (fake camera), in the test network namespace.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ARTIFACTS, ROOT, startServer, launchChromium, harness, openDesk, livePhone, videoPlays, apiAs } from './lib/staff.mjs';

const USERS = {
  rev1: { role: 'reviewer', department: 'commerce', password: 'layout-owner-password' },
  rev2: { role: 'reviewer', department: 'fire', password: 'layout-fire-password' },
  lead1: { role: 'lead', department: 'commerce', password: 'layout-lead-password' },
};
const { default: EN } = await import(path.join(ROOT, 'web', 'i18n', 'en.js'));
const { default: ZH } = await import(path.join(ROOT, 'web', 'i18n', 'zh-CN.js'));
const DESKTOP = { width: 1366, height: 768 }, PHONE = { width: 390, height: 844 };

let server, browser;
const { test, newPage } = harness('layout');
before(async () => {
  server = await startServer('desk-layout', USERS);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// a page that must never open a native alert, confirm or prompt box
function noNativeDialogs(page) {
  const seen = [];
  page.on('dialog', (d) => { seen.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  return seen;
}

// the element's box lies wholly inside the viewport
async function inViewport(page, locator) {
  const box = await locator.boundingBox();
  const { width, height } = page.viewportSize();
  return { box, inside: !!box && box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height };
}

const status = (page, ref) => page.evaluate(async (r) => (await (await fetch(`/api/cases/${r}`)).json()).status, ref);
const item = (page, n) => page.getByTestId('checklist').locator(`li[data-item="${n}"]`);

test('at 1366×768 the video stays in view while the last item is marked; invite one click from the header; the decision is confirmed', async () => {
  const c = server.addCase('LAYOUT-LIVE', { owner: 'rev1', co: ['rev2'], applicant: 'Li Na' });
  const desk = await openDesk(await newPage(browser, { viewport: DESKTOP }), server, 'rev1', c.ref);
  const native = noNativeDialogs(desk);
  // before the applicant comes: no decision can be made yet, and the facts say so
  const facts = desk.getByTestId('facts');
  await desk.waitForFunction(() => document.getElementById('facts').dataset.status);
  assert.notEqual(await facts.getAttribute('data-status'), 'inspecting');
  // no card stands empty while its list loads (the slots card once did, for up to 5 s)
  const empty = await desk.evaluate(() => [...document.querySelectorAll('.card')]
    .filter((c) => c.getClientRects().length && !c.textContent.trim()).map((c) => c.id || c.className));
  assert.deepEqual(empty, [], 'a visible card with nothing in it');
  assert.ok(await desk.getByTestId('decide').isHidden(), 'no decision form before a live inspection');

  // the invite and its QR code: one click on the case header's button, and both are in view
  const head = desk.getByTestId('case-head');
  await head.getByRole('button', { name: EN['review.invite'] }).click();
  await desk.getByTestId('invite-qr').locator('svg').waitFor();
  assert.match(await desk.getByTestId('invite-url').inputValue(), /\/apply\/#case=LAYOUT-LIVE&token=/);
  for (const what of ['invite-qr', 'invite-url']) {
    const { inside, box } = await inViewport(desk, desk.getByTestId(what));
    assert.ok(inside, `the invite's ${what} is in view without scrolling (${JSON.stringify(box)})`);
  }
  assert.equal(await desk.evaluate(() => scrollY), 0, 'no scrolling was needed');
  await desk.screenshot({ path: path.join(ARTIFACTS, 'desk-review-1366x768-invite.png') });
  await desk.locator('#invite-close').click();
  await desk.getByTestId('invite-box').waitFor({ state: 'hidden' });

  // the applicant goes live: the facts line and the decision form follow without a reload
  const phone = await livePhone(await newPage(browser, { viewport: PHONE }), server, c);
  await desk.waitForFunction(() => document.getElementById('facts').dataset.status === 'inspecting');
  assert.match(await facts.textContent(), new RegExp(EN['status.inspecting']));
  assert.doesNotMatch(await facts.textContent(), new RegExp(EN['status.awaiting_inspection']));
  await desk.getByTestId('decide').waitFor({ state: 'visible' });
  assert.ok(await videoPlays(desk), 'the reviewer sees the site');

  // every item the owner may mark, in order; the video stays in view at each, the last included
  const video = desk.getByTestId('live-video');
  const mine = [1, 2, 3, 6, 7, 8];
  for (const n of mine) {
    const pass = item(desk, n).locator('button[data-result="pass"]');
    await pass.click();
    await desk.waitForFunction((k) => document.querySelector(`li[data-item="${k}"] button[data-result="pass"]`)
      ?.getAttribute('aria-pressed') === 'true', n);
    const v = await inViewport(desk, video), b = await inViewport(desk, pass);
    assert.ok(b.inside, `item ${n}'s button is in view when clicked (${JSON.stringify(b.box)})`);
    assert.ok(v.inside, `the video is in view while item ${n} is marked: ${JSON.stringify(v.box)} in ${JSON.stringify(desk.viewportSize())}`);
    assert.ok(v.box.height >= 150, `the video is large enough to inspect by (${v.box.height} px high)`);
  }
  const fire = await apiAs(server, 'rev2');   // the fire department's items, by its co-reviewer
  for (const n of [4, 5]) assert.equal((await fire(`/api/cases/${c.ref}/marks`, { item: n, result: 'pass' })).status, 201);
  await item(desk, 5).and(desk.locator('.pass')).waitFor();
  assert.ok(await desk.evaluate(() => document.documentElement.scrollHeight > innerHeight),
    'the checklist is longer than the screen (else this test proves nothing)');
  assert.ok(await desk.evaluate(() => scrollY > 0), 'marking the last item scrolled the page');
  await desk.screenshot({ path: path.join(ARTIFACTS, 'desk-review-1366x768-last-item.png') });

  // the decision comes last, with what was marked
  const summary = EN['desk.decide.summary'].replace('{marked}', 8).replace('{total}', 8).replace('{pass}', 8)
    .replace('{fail}', 0).replace('{not_shown}', 0);
  await desk.getByTestId('decide-summary').filter({ hasText: summary }).waitFor();
  assert.ok(await desk.evaluate(() => {
    const items = document.getElementById('checklist').getBoundingClientRect(), form = document.getElementById('decide').getBoundingClientRect();
    return form.top >= items.bottom;
  }), 'the decision form follows the checklist');
  // the decision's controls stay inside their card
  await item(desk, 8).locator('input.note').press('Tab');   // nothing typed: leaves the note
  const overflow = await desk.evaluate(() => {
    const card = document.querySelector('aside.desk-work').getBoundingClientRect();
    return ['decide-kind', 'decide-reason', 'decide-submit'].map((id) => {
      const r = document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
      return { id, left: r.left - card.left, right: card.right - r.right };
    }).filter((o) => o.left < 0 || o.right < 0);
  });
  assert.deepEqual(overflow, [], 'no decision control overflows its card');

  // the decision: a confirmation in a modal <dialog> stating the consequence; Escape cancels it
  await desk.getByTestId('decide-kind').selectOption('approve');
  await desk.getByTestId('decide-reason').fill('Every item seen on site.');
  await desk.getByTestId('decide-submit').click();
  const dialog = desk.getByTestId('decide-dialog');
  await dialog.waitFor({ state: 'visible' });
  assert.ok(await dialog.evaluate((d) => d.tagName === 'DIALOG' && d.open && d.matches(':modal')), 'a modal <dialog>');
  assert.equal(await desk.getByTestId('decide-consequence').textContent(), EN['desk.decide.consequence.approve']);
  assert.match(await dialog.textContent(), /Every item seen on site\./, 'the reason is shown with it');
  assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), 'the dialog has the focus');
  await desk.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await status(desk, c.ref), 'inspecting', 'nothing is decided until it is confirmed');
  await desk.getByTestId('decide-submit').click();
  await desk.getByTestId('decide-confirm').click();
  await dialog.waitFor({ state: 'hidden' });
  await phone.getByTestId('outcome').waitFor({ state: 'visible' });
  assert.equal(await status(desk, c.ref), 'approved');
  // a decided case: no decision form; the facts and a sentence say so
  await desk.waitForFunction(() => document.getElementById('facts').dataset.status === 'approved');
  await desk.getByTestId('decide').waitFor({ state: 'hidden' });
  assert.equal(await desk.getByTestId('decided-note').textContent(), EN['desk.decided.approved']);
  assert.deepEqual(native, [], 'no native alert/confirm/prompt box');
});

test('a rejection waits for the lead; countersigning and returning are confirmed in a dialog, the return says why', async () => {
  const c = server.addCase('LAYOUT-REJECT', { owner: 'rev1', applicant: 'Zhao Lei' });
  await livePhone(await newPage(browser, { viewport: PHONE }), server, c);
  const owner = await openDesk(await newPage(browser, { viewport: DESKTOP }), server, 'rev1', c.ref);
  const native = noNativeDialogs(owner);
  const reject = async (reason) => {
    await owner.getByTestId('decide').waitFor({ state: 'visible' });
    await owner.getByTestId('decide-kind').selectOption('reject');
    await owner.getByTestId('decide-reason').fill(reason);
    await owner.getByTestId('decide-submit').click();
    assert.equal(await owner.getByTestId('decide-consequence').textContent(), EN['desk.decide.consequence.reject']);
    await owner.getByTestId('decide-confirm').click();
    await owner.locator('#decide-result').filter({ hasText: EN['review.decided'] }).waitFor();
  };
  await reject('Not the site applied for.');
  assert.equal(await status(owner, c.ref), 'rejection_pending');
  // the owner is not offered another decision while the rejection waits
  await owner.getByTestId('decide').waitFor({ state: 'hidden' });
  assert.equal(await owner.getByTestId('decided-note').textContent(), EN['desk.decided.rejection_pending']);

  const lead = await openDesk(await newPage(browser, { viewport: DESKTOP, lang: 'zh-CN' }), server, 'lead1');
  const leadNative = noNativeDialogs(lead);
  const entry = lead.getByTestId('countersign-queue').locator('li', { hasText: c.ref });
  // a return: the dialog asks why (a labelled field), then sends it back to the owner
  await entry.getByTestId('return').click();
  const dialog = lead.getByTestId('countersign-dialog');
  await dialog.waitFor({ state: 'visible' });
  assert.ok(await dialog.evaluate((d) => d.tagName === 'DIALOG' && d.matches(':modal')));
  assert.equal(await lead.getByTestId('countersign-consequence').textContent(), ZH['desk.return.consequence']);
  await lead.getByLabel(ZH['review.return.note']).fill('Check the address with the applicant first.');
  await lead.getByTestId('countersign-confirm').click();
  await dialog.waitFor({ state: 'hidden' });
  await owner.waitForFunction(() => document.getElementById('facts').dataset.status === 'inspecting');
  await owner.getByTestId('decide').waitFor({ state: 'visible' });
  const decisions = await lead.evaluate(async (r) => (await (await fetch(`/api/cases/${r}`)).json()).decisions, c.ref);
  assert.ok(decisions.some((d) => d.countersign_note === 'Check the address with the applicant first.'),
    `the return's note is kept: ${JSON.stringify(decisions)}`);

  // rejected again; the countersignature: Cancel changes nothing, the confirmation makes it final
  await reject('Confirmed: not the site applied for.');
  await entry.waitFor();
  await entry.getByTestId('countersign').click();
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await lead.getByTestId('countersign-consequence').textContent(), ZH['desk.countersign.consequence']);
  assert.ok(await lead.getByTestId('countersign-note').isHidden(), 'a countersignature needs no note');
  await lead.getByTestId('countersign-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await status(lead, c.ref), 'rejection_pending', 'Cancel countersigns nothing');
  await entry.getByTestId('countersign').click();
  await lead.getByTestId('countersign-confirm').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await status(lead, c.ref), 'rejected');
  // the entry went with its countersignature: the keyboard's place is not lost (the queue is empty: its title)
  await lead.waitForFunction(() => document.activeElement?.id === 'cases-title');
  await owner.waitForFunction(() => document.getElementById('facts').dataset.status === 'rejected');
  assert.equal(await owner.getByTestId('decided-note').textContent(), EN['desk.decided.rejected']);
  assert.deepEqual([...native, ...leadNative], [], 'no native alert/confirm/prompt box');
});

test('screenshots: the desk and the applicant page at 1366×768 and 390×844, in English and Chinese; nothing wider than the phone', async () => {
  const c = server.addCase('LAYOUT-SHOT', { owner: 'rev1', co: ['rev2'], applicant: 'Chen Jing' });
  for (const lang of ['en', 'zh-CN'])
    for (const [size, viewport] of [['1366x768', DESKTOP], ['390x844', PHONE]]) {
      const desk = await openDesk(await newPage(browser, { viewport, lang }), server, 'rev1', c.ref);
      await desk.waitForFunction((l) => document.documentElement.lang === l, lang);
      await desk.waitForFunction(() => document.getElementById('facts').dataset.status);
      await desk.screenshot({ path: path.join(ARTIFACTS, `desk-review-${size}-${lang}.png`) });
      const apply = await newPage(browser, { viewport, lang });
      await apply.goto(server.applyUrl(c));
      await apply.getByTestId('start').waitFor({ state: 'visible' });
      await apply.screenshot({ path: path.join(ARTIFACTS, `desk-apply-${size}-${lang}.png`) });
      for (const [name, page] of [['desk', desk], ['applicant page', apply]]) {
        const wide = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
        assert.ok(wide <= 0, `the ${name} at ${size} (${lang}) is ${wide} px wider than the screen`);
      }
      await desk.context().close();
      await apply.context().close();
    }
});
