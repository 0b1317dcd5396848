// a11y.test.mjs — WCAG 2.2 AA on the applicant's and reviewers' pages (issue 16, item 5):
// axe-core (lib/axe.mjs) finds no violation at the A/AA rules on the applicant page before,
// during and after a live inspection (its one-time notice), the reviewer desk (with its invite,
// and its decision dialog open), the lead's countersignature queue (and its dialog) and the
// report page; a keyboard-only walk through the desk (Tab into the case list, arrow keys to a
// case, Enter, Tab to the checklist, Space marks an item) with a focus ring of at least 3:1;
// the dialogs work from the keyboard; the applicant's status is a live region; no page calls
// prompt(), confirm() or alert(); reduced motion is respected.
// Real `kanyan serve`, real headless Chromium (fake camera), in the test network namespace.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startServer, launchChromium, harness, openDesk, livePhone, signIn } from './lib/staff.mjs';
import { checkAxe, describeViolations } from './lib/axe.mjs';

const USERS = {
  rev1: { role: 'reviewer', department: 'commerce', password: 'a11y-owner-password' },
  lead1: { role: 'lead', department: 'commerce', password: 'a11y-lead-password' },
  audit1: { role: 'auditor', department: '', password: 'a11y-auditor-password' },
  admin1: { role: 'admin', department: '', password: 'a11y-admin-password' },
  clerk1: { role: 'clerk', department: '', password: 'a11y-clerk-password' },
};
const DESKTOP = { width: 1366, height: 768 }, PHONE = { width: 390, height: 844 };
const { default: EN } = await import(path.join(ROOT, 'web', 'i18n', 'en.js'));

let server, browser;
const { test, newPage } = harness('a11y');
before(async () => {
  server = await startServer('a11y', USERS);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function assertAccessible(page, label) {
  const violations = await checkAxe(page, label);
  assert.deepEqual(violations.map((v) => v.id), [], `${label}:\n${describeViolations(violations)}`);
}

const post = (page, url, body) => page.evaluate(async ([u, b]) => {
  const r = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
  return r.status;
}, [url, body]);

// WCAG's contrast ratio of two CSS colours 'rgb(r, g, b)'
function contrast(a, b) {
  const lum = (css) => {
    const [r, g, bl] = css.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

test('the applicant page before, during and after (its notice), the desk, the lead\'s queue and the report have no WCAG A/AA violation', async () => {
  const c = server.addCase('A11Y-LIVE', { owner: 'rev1', applicant: 'Sun Mei' });
  for (const lang of ['en', 'zh-CN']) {
    const before = await newPage(browser, { viewport: PHONE, lang });
    await before.goto(server.applyUrl(c));
    await before.getByTestId('start').waitFor({ state: 'visible' });
    await before.waitForFunction(() => document.querySelector('[data-testid=check]').dataset.result !== 'running');
    await assertAccessible(before, `apply-before-${lang}`);
    await before.context().close();
  }
  const phone = await livePhone(await newPage(browser, { viewport: PHONE }), server, c);
  const line = phone.locator('#status-line');
  assert.equal(await line.getAttribute('role'), 'status', 'the applicant\'s status is a live region ("live", "reconnecting")');
  assert.equal(await line.getAttribute('aria-live'), 'polite');
  await assertAccessible(phone, 'apply-live');

  const desk = await openDesk(await newPage(browser, { viewport: DESKTOP }), server, 'rev1', c.ref);
  await desk.getByTestId('decide').waitFor({ state: 'visible' });
  await assertAccessible(desk, 'desk');
  await desk.getByTestId('invite').click();
  await desk.getByTestId('invite-qr').locator('svg').waitFor();
  await assertAccessible(desk, 'desk-invite');
  // a still opened from the keyboard, its drawing dialog checked, a shape drawn with two clicks (no dragging)
  const item1 = desk.getByTestId('checklist').locator('li[data-item="1"]');
  await item1.getByTestId('capture').click();
  await desk.waitForFunction(() => document.querySelector('li[data-item="1"] .thumbs img')?.naturalWidth > 0);
  await item1.locator('.thumbs img').focus();
  await desk.keyboard.press('Enter');
  const canvas = desk.getByTestId('drawing-canvas');
  await canvas.waitFor();
  await assertAccessible(desk, 'desk-drawing-dialog');
  const box = await canvas.boundingBox();
  await desk.mouse.click(box.x + box.width * 0.2, box.y + box.height * 0.2);
  await desk.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.6);
  await desk.getByTestId('drawing-save').click();
  await desk.locator('#drawing .result').filter({ hasText: EN['review.drawing.saved'] }).waitFor();
  const stills = await desk.evaluate(async (ref) => (await (await fetch(`/api/cases/${ref}`)).json()).stills, c.ref);
  assert.equal(stills[0].annotation?.length, 1, `two clicks drew one shape: ${JSON.stringify(stills[0].annotation)}`);
  await desk.keyboard.press('Escape');
  await canvas.waitFor({ state: 'hidden' });
  // the decision's dialog, from the keyboard: the focus goes in (on Cancel), Tab moves within,
  // Escape leaves and gives the focus back
  await desk.getByTestId('decide-reason').fill('Tank 2 has no barrier.');
  await desk.getByTestId('decide-kind').selectOption('rectify');
  await desk.getByTestId('decide-submit').focus();
  await desk.keyboard.press('Enter');
  await desk.getByTestId('decide-dialog').waitFor({ state: 'visible' });
  assert.equal(await desk.evaluate(() => document.activeElement.dataset.testid), 'decide-cancel');
  await assertAccessible(desk, 'desk-decide-dialog');
  await desk.keyboard.press('Tab');
  assert.equal(await desk.evaluate(() => document.activeElement.dataset.testid), 'decide-confirm');
  await desk.keyboard.press('Escape');
  await desk.getByTestId('decide-dialog').waitFor({ state: 'hidden' });
  assert.equal(await desk.evaluate(() => document.activeElement.dataset.testid), 'decide-submit', 'the focus is back on Decide');
  // …and confirmed from the keyboard: the applicant gets its one-time notice
  assert.equal(await post(desk, `/api/cases/${c.ref}/marks`, { item: 2, result: 'fail', note: 'no barrier at tank 2' }), 201);
  await desk.keyboard.press('Enter');
  await desk.getByTestId('decide-dialog').waitFor({ state: 'visible' });
  await desk.keyboard.press('Tab');
  await desk.keyboard.press('Enter');
  await phone.getByTestId('notice').waitFor({ state: 'visible' });
  await assertAccessible(phone, 'apply-notice');

  // the lead's queue: a rejection waiting for its countersignature, and its dialog
  await post(desk, `/api/cases/${c.ref}/decisions`, { kind: 'reject', reason: 'It cannot be fixed.' });
  const lead = await openDesk(await newPage(browser, { viewport: DESKTOP }), server, 'lead1');
  const entry = lead.getByTestId('countersign-queue').locator('li', { hasText: c.ref });
  await entry.waitFor();
  await assertAccessible(lead, 'lead-queue');
  await entry.getByTestId('return').click();
  await lead.getByTestId('countersign-dialog').waitFor({ state: 'visible' });
  await assertAccessible(lead, 'lead-return-dialog');
  await lead.keyboard.press('Escape');
  await lead.getByTestId('countersign-dialog').waitFor({ state: 'hidden' });

  const report = await lead.context().newPage();   // the lead's session reads the report
  await report.goto(`${server.base}/report/#case=${c.ref}`);
  await report.getByTestId('report').waitFor({ state: 'visible' });
  await assertAccessible(report, 'report');
});

test('the auditor\'s page (a case open, in both languages), the admin page and the intake page have no WCAG A/AA violation', async () => {
  server.addCase('A11Y-AUDIT', { owner: 'rev1', applicant: 'Wu Lan' });
  const auditor = await newPage(browser, { viewport: DESKTOP });
  await auditor.goto(`${server.base}/audit/`);
  await signIn(auditor, 'audit1', USERS.audit1.password);
  await auditor.locator('#search button[type=submit]').click();
  const first = auditor.locator('#results li').first();
  await first.waitFor();
  await first.click();
  await auditor.locator('#timeline > *').first().waitFor();
  await assertAccessible(auditor, 'audit-case');
  await auditor.locator('#lang').click();
  await assertAccessible(auditor, 'audit-case-other-language');
  // each page once what it loads is in (the admin's accounts, the clerk's case types)
  for (const [user, url, label, ready] of [['admin1', '/admin/', 'admin', '#users tr'],
    ['clerk1', '/intake/', 'intake', '#case-type option[value="fuel-retail"]']]) {
    const page = await newPage(browser, { viewport: DESKTOP });
    await page.goto(`${server.base}${url}`);
    await signIn(page, user, USERS[user].password);
    await page.locator(ready).first().waitFor({ state: 'attached' });
    await assertAccessible(page, label);
  }
});

test('keyboard only: Tab into the case list, arrow keys to a case, Enter opens it, Tab to the checklist, Space marks; the focus ring shows', async () => {
  const one = server.addCase('A11Y-KEY-1', { owner: 'rev1' }), two = server.addCase('A11Y-KEY-2', { owner: 'rev1' });
  const page = await openDesk(await newPage(browser, { viewport: DESKTOP }), server, 'rev1');
  const options = page.getByTestId('case-list').locator('li[role=option]');
  await options.filter({ hasText: two.ref }).waitFor();
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return { tag: el.tagName, role: el.getAttribute('role'), ref: el.dataset.ref || null, result: el.dataset.result || null,
      item: el.closest('li[data-item]')?.dataset.item || null, disabled: !!el.disabled };
  });
  // Tab from the top of the page until the case list has the focus
  await page.evaluate(() => { document.activeElement?.blur(); });
  let f = null;
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    f = await focused();
    if (f.role === 'option') break;
  }
  assert.equal(f.role, 'option', 'Tab reaches the case list');
  assert.equal(await page.locator('#cases li[tabindex="0"]').count(), 1, 'the list is one stop in the tab order');
  // the arrow keys move through it (the list is a listbox); Home and End too
  await page.keyboard.press('Home');
  const first = (await focused()).ref;
  await page.keyboard.press('ArrowDown');
  const second = (await focused()).ref;
  assert.ok(second && second !== first, `ArrowDown moves to the next case (${first} → ${second})`);
  await page.keyboard.press('ArrowUp');
  assert.equal((await focused()).ref, first, 'ArrowUp moves back');
  const count = await options.count();
  for (let i = 0; i < count && (await focused()).ref !== two.ref; i++) await page.keyboard.press('ArrowDown');
  assert.equal((await focused()).ref, two.ref);
  // the focus ring: drawn, at least 2 px, and 3:1 against the page
  const ring = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
      page: getComputedStyle(document.body).backgroundColor, card: getComputedStyle(document.activeElement.closest('.card')).backgroundColor };
  });
  assert.notEqual(ring.style, 'none', 'a focus ring is drawn');
  assert.ok(ring.width >= 2, `the ring is ${ring.width} px wide`);
  for (const against of [ring.card, 'rgb(255, 255, 255)'])
    assert.ok(contrast(ring.color, against) >= 3, `the ring ${ring.color} has ${contrast(ring.color, against).toFixed(2)}:1 against ${against}`);
  await page.keyboard.press('Enter');
  await page.waitForFunction((r) => document.getElementById('current').textContent === r, two.ref);
  await page.locator('#participants li', { hasText: 'rev1' }).first().waitFor();
  await page.getByTestId('checklist').locator('li[data-item="1"] button[data-result="pass"]').waitFor();
  // on to the checklist: the first mark button that can be used
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    f = await focused();
    if (f.item && f.result && !f.disabled) break;
  }
  assert.ok(f.item && f.result, `Tab reaches a checklist mark button (${JSON.stringify(f)})`);
  await page.keyboard.press('Space');
  await page.waitForFunction(([n, r]) => document.querySelector(`li[data-item="${n}"] button[data-result="${r}"]`)
    ?.getAttribute('aria-pressed') === 'true', [f.item, f.result]);
  const marks = await page.evaluate(async (ref) => (await (await fetch(`/api/cases/${ref}/marks`)).json()), two.ref);
  assert.equal(marks.items.find((i) => String(i.position) === f.item).mark?.result, f.result, 'the mark is saved');
  assert.ok(one.ref, 'two cases to move between');
});

test('no page asks with prompt(), confirm() or alert(); reduced motion is respected', async () => {
  const offenders = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|html)$/.test(e.name))
        readFileSync(p, 'utf8').split('\n').forEach((line, i) => {
          if (/(^|[^.\w])(window\.)?(prompt|confirm|alert)\s*\(/.test(line)) offenders.push(`${path.relative(ROOT, p)}:${i + 1}: ${line.trim()}`);
        });
    }
  };
  walk(path.join(ROOT, 'web'));
  assert.deepEqual(offenders, [], 'a <dialog> asks instead');
  const durations = {};
  for (const motion of ['reduce', 'no-preference']) {
    const page = await newPage(browser, { viewport: PHONE, reducedMotion: motion });
    await page.goto(`${server.base}/review/`);
    await page.getByTestId('login-submit').waitFor();
    durations[motion] = await page.evaluate(() => getComputedStyle(document.querySelector('[data-testid=login-submit]')).transitionDuration);
  }
  assert.notEqual(durations.reduce, durations['no-preference'], `the reduced-motion rule applies: ${JSON.stringify(durations)}`);
  assert.ok(parseFloat(durations.reduce) < 0.001, `no transition when less motion is asked for: ${durations.reduce}`);
});
