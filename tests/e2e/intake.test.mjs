// intake.test.mjs — intake and administration in the browser (issue 16, item 4), in real
// headless Chromium against a real `kanyan serve`: the bureau's intake clerk (role clerk)
// creates a case on /intake/ with its owner and a co-reviewer for the fire items, issues the
// invite, and the applicant page opened from that very link goes live while the owner's desk
// plays its video and the intake page says "live now"; on /admin/ an admin resets an account's
// password (confirmed in a dialog) and the user signs in with the one-time password, not the
// old one; a disabled account cannot sign in. Screenshots of both pages at 1366×768 and 390×844
// in English and Chinese go to tests/e2e/artifacts/. Every wait is for a condition, bounded by
// PATIENCE (a failure bound, not an expected time).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ARTIFACTS, PATIENCE, sleep, startServer, launchChromium, harness, signIn, videoPlays } from './lib/staff.mjs';

const DESKTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };
const user = (role, department, password) => ({ role, department, password });
const USERS = { clerk1: user('clerk', 'intake', 'e2e-intake-clerk-password'), adm1: user('admin', 'it', 'e2e-intake-admin-password'),
  rev1: user('reviewer', 'commerce', 'e2e-intake-owner-password'), fire1: user('reviewer', 'fire', 'e2e-intake-fire-password'),
  li: user('reviewer', 'commerce', 'e2e-intake-li-password'), zhao: user('reviewer', 'commerce', 'e2e-intake-zhao-password') };

const { test, newPage: pageIn } = harness('intake');
let server, browser;
const base = () => server.base;

// a page of the running test on which prompt()/alert()/confirm() throw (the pages' own dialogs instead)
async function newPage(viewport) {
  const page = await pageIn(browser, { viewport });
  await page.context().addInitScript(NO_NATIVE_DIALOGS);
  return page;
}

// a staff page, signed in through its login form
async function staffPage(url, name, viewport = DESKTOP, password = USERS[name].password) {
  const page = await newPage(viewport);
  await page.goto(`${base()}${url}`);
  await signIn(page, name, password);
  return page;
}

// the page in the other language (the shared switch in the bar), then back
// (the status lines the page wrote in English are written again in Chinese)
async function shootBoth(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-en.png`), fullPage: true });
  const said = () => page.evaluate(() => [...document.querySelectorAll('[data-say]')].map((e) => e.textContent).filter(Boolean));
  const english = await said();
  await page.locator('#lang').click();
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  const chinese = await said();
  assert.equal(chinese.filter((text) => english.includes(text)).length, 0, `still English after the switch: ${chinese}`);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-zh-CN.png`), fullPage: true });
  await page.locator('#lang').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
}

// nothing to scroll sideways on a phone: the elements that reach past the viewport's right edge
const overflowX = (page) => page.evaluate(() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table, dialog:not([open])'))
  .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`)
  .concat(document.documentElement.scrollWidth > window.innerWidth ? [`page ${document.documentElement.scrollWidth}px`] : []));

// every visible control has a name a screen reader says (its <label>, or aria-label), every
// button a text; and no prompt()/alert()/confirm() was ever called (the page's dialogs instead)
const unnamed = (page) => page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((c) => c.offsetParent !== null && c.type !== 'hidden')
  .filter((c) => !((c.labels && c.labels.length && [...c.labels].some((l) => l.textContent.trim())) ||
    (c.getAttribute('aria-label') || '').trim() || (c.tagName === 'BUTTON' && c.textContent.trim())))
  .map((c) => c.outerHTML.slice(0, 120)));
const NO_NATIVE_DIALOGS = () => { for (const f of ['prompt', 'alert', 'confirm']) window[f] = () => { throw new Error(`${f}() used`); }; };

before(async () => {
  server = await startServer('intake', USERS);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the clerk creates a case and issues its invite in the browser; the applicant goes live from that link; the owner sees it', async () => {
  // from the home page to the intake page, by its link
  const clerk = await newPage(DESKTOP);
  await clerk.goto(`${base()}/`);
  await clerk.getByTestId('to-intake').click();
  await signIn(clerk, 'clerk1', USERS.clerk1.password);
  assert.match(clerk.url(), /\/intake\/$/);

  // a wrong owner is refused with a message, and nothing typed is lost
  await clerk.getByTestId('case-type').selectOption('fuel-retail');
  await clerk.getByTestId('case-ref').fill('E2E-IN-1');
  await clerk.getByTestId('case-applicant').fill('王芳');
  await clerk.getByTestId('case-phone').fill('13800000000');
  await clerk.getByTestId('case-address').fill('1 Riverside Road, Pudong');
  await clerk.getByTestId('case-lat').fill('31.2304');
  await clerk.getByTestId('case-lon').fill('121.4737');
  await clerk.getByTestId('case-owner').fill('nobody-such');
  await clerk.getByTestId('co-fire').fill('fire1');
  await clerk.getByLabel(/co-reviewer for fire/i).waitFor();   // the fire items' department has its labelled field
  await clerk.getByTestId('case-create').click();
  await clerk.waitForFunction(() => /not created/i.test(document.querySelector('[data-testid=case-result]').textContent));
  assert.equal(await clerk.getByTestId('case-ref').inputValue(), 'E2E-IN-1', 'the reference is kept after a refusal');
  assert.equal(await clerk.getByTestId('co-fire').inputValue(), 'fire1');

  await clerk.getByTestId('case-owner').fill('rev1');
  await clerk.getByTestId('case-create').click();
  await clerk.waitForFunction(() => location.hash === '#case=E2E-IN-1');
  await clerk.getByTestId('case-detail').waitFor();
  await clerk.waitForFunction(() => /E2E-IN-1/.test(document.getElementById('detail-title').textContent));
  const created = await clerk.evaluate(async () => (await fetch('/api/cases/E2E-IN-1')).json());
  assert.equal(created.owner, 'rev1');
  assert.deepEqual(created.co_reviewers, ['fire1']);
  assert.deepEqual(created.site, { lat: 31.2304, lon: 121.4737 });
  assert.equal(created.applicant_name, '王芳');
  await clerk.getByTestId('intake-cases').locator('tr', { hasText: 'E2E-IN-1' }).waitFor();

  // the invite: link, QR, text message — by keyboard
  await clerk.getByTestId('issue-invite').focus();
  await clerk.keyboard.press('Enter');
  await clerk.waitForFunction(() => /\/apply\/#case=E2E-IN-1&token=/.test(document.querySelector('[data-testid=invite-url]').value));
  const link = await clerk.getByTestId('invite-url').inputValue();
  assert.ok((await clerk.getByTestId('invite-sms').inputValue()).includes(link), 'the text message carries the link');
  await clerk.getByTestId('invite-qr').locator('img[alt]').waitFor();
  assert.ok(await clerk.getByTestId('invite-qr').locator('img').evaluate((img) => img.complete && img.naturalWidth > 0),
    'the QR code is drawn');
  await clerk.waitForFunction(() => /awaiting inspection/.test(document.querySelector('[data-testid=case-state]').textContent));

  // the applicant opens exactly that link on a phone and starts
  const applicant = await newPage(PHONE);
  await applicant.goto(link);
  await applicant.getByTestId('start').click();
  await applicant.waitForFunction(() => (document.getElementById('status-line')?.dataset.state === 'live') ||
    document.querySelector('[data-testid=status]').textContent === 'live');

  // the owner's desk plays it; the co-reviewer for fire sees the case too
  const owner = await staffPage('/review/#case=E2E-IN-1', 'rev1');
  assert.ok(await videoPlays(owner), "the owner's desk plays the applicant's video");
  const fire = await newPage(DESKTOP);
  await fire.goto(`${base()}/`);
  const fireCases = await fire.evaluate(async ({ pw }) => {
    await fetch('/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'fire1', password: pw }) });
    return (await (await fetch('/api/cases')).json()).cases.map((c) => c.ref);
  }, { pw: USERS.fire1.password });
  assert.deepEqual(fireCases, ['E2E-IN-1'], 'the co-reviewer named at intake has the case');

  // the clerk's page follows the state without a reload
  await clerk.waitForFunction(() => /live now/.test(document.querySelector('[data-testid=case-state]').textContent));
  await clerk.waitForFunction(() => /live now/.test(document.querySelector('[data-testid=intake-cases] tr[data-ref="E2E-IN-1"]').textContent));

  assert.deepEqual(await unnamed(clerk), [], 'every control of the intake page has a name');
  await shootBoth(clerk, 'intake-desktop');
  const phone = await staffPage('/intake/#case=E2E-IN-1', 'clerk1', PHONE);
  await phone.getByTestId('case-detail').waitFor();
  await phone.waitForFunction(() => /live now/.test(document.querySelector('[data-testid=case-state]').textContent));
  assert.deepEqual(await overflowX(phone), [], 'the intake page fits a 390 px phone');
  await shootBoth(phone, 'intake-phone');

  // revoking from the intake page ends the applicant's link
  await clerk.getByTestId('revoke-invites').click();
  await clerk.waitForFunction(() => /revoked/.test(document.querySelector('[data-testid=invite-result]').textContent));
  const status = await clerk.evaluate(async (u) => {
    const [ref, token] = [/case=([^&]+)/.exec(u)[1], /token=([^&]+)/.exec(u)[1]];
    return (await fetch(`/api/invite?case=${ref}`, { headers: { Authorization: `Bearer ${token}` } })).status;
  }, link);
  assert.equal(status, 401, 'the revoked link no longer opens the case');
});

test('an admin resets a password in the browser and the user signs in with the one-time password; a disabled account cannot', async () => {
  const admin = await staffPage('/admin/', 'adm1');
  await admin.locator('tr[data-user="li"]').waitFor();
  // cancelling changes nothing
  await admin.getByTestId('reset-li').click();
  await admin.getByTestId('confirm').waitFor();
  await admin.keyboard.press('Escape');
  await admin.getByTestId('confirm').waitFor({ state: 'hidden' });
  assert.ok(await admin.getByTestId('account-result').isHidden(), 'no reset without confirmation');
  // confirmed: the one-time password, shown once
  await admin.getByTestId('reset-li').click();
  await admin.getByTestId('confirm-yes').click();
  await admin.getByTestId('account-result').waitFor();
  const oneTime = (await admin.getByTestId('one-time-password').textContent()).trim();
  assert.ok(oneTime.length >= 10, 'a one-time password is shown');
  await admin.getByRole('button', { name: /hide the password/i }).click();
  assert.equal(await admin.getByTestId('one-time-password').textContent(), '', 'hidden again once done');

  // the old password no longer signs in; the one-time password does
  const user = await newPage(DESKTOP);
  await user.goto(`${base()}/review/`);
  await user.getByTestId('login-user').fill('li');
  await user.getByTestId('login-password').fill(USERS.li.password);
  await user.getByTestId('login-submit').click();
  await user.waitForFunction(() => document.getElementById('login-error').textContent.trim() !== '');
  assert.equal((await user.locator('#who').textContent()).trim(), '', 'the old password is refused');
  await user.getByTestId('login-password').fill(oneTime);
  for (const deadline = Date.now() + PATIENCE; ;) {   // after a failure the server makes the next try wait a little
    await user.getByTestId('login-submit').click();
    const done = await user.waitForFunction(() => document.getElementById('who').textContent.trim() !== '' ||
      document.getElementById('login-error').textContent.trim() !== '', null, { timeout: PATIENCE }).then(() =>
      user.evaluate(() => document.getElementById('who').textContent.trim() !== ''));
    if (done) break;
    assert.ok(Date.now() < deadline, 'the one-time password signs in');
    await user.evaluate(() => { document.getElementById('login-error').textContent = ''; });
    await sleep(500);
  }
  assert.match(await user.locator('#who').textContent(), /^li\b/);

  // disabling (confirmed): that account cannot sign in
  await admin.getByTestId('disable-zhao').click();
  await admin.getByTestId('confirm-yes').click();
  await admin.locator('tr[data-user="zhao"]', { hasText: /disabled/ }).waitFor();
  const login = await admin.evaluate(async (pw) => (await fetch('/api/login', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'zhao', password: pw }) })).status, USERS.zhao.password);
  assert.equal(login, 403, 'a disabled account cannot sign in');

  // a case type with its items in both languages, through the items editor (reordered by button)
  await admin.locator('#type-key').fill('e2e-salon');
  await admin.locator('#type-en').fill('Hair salon licence');
  await admin.locator('#type-zh').fill('美发店许可');
  await admin.locator('#type-days').fill('5');
  const item = (n) => admin.getByTestId('type-items').locator('li').nth(n);
  await item(0).getByLabel('Title (English)').fill('Price list posted');
  await item(0).getByLabel('Title (Chinese)').fill('价目表公示');
  await admin.getByTestId('item-add').click();
  await item(1).getByLabel('Title (English)').fill('Sterilizer cabinet');
  await item(1).getByLabel('Title (Chinese)').fill('消毒柜');
  await item(1).getByLabel(/guidance/i).fill('Open it to the camera');
  await item(1).getByLabel(/department/i).fill('health');
  await item(1).getByRole('button', { name: 'Move up' }).click();
  await admin.getByTestId('type-save').click();
  await admin.locator('#types tr', { hasText: 'e2e-salon' }).waitFor();
  const salon = await admin.evaluate(async () => (await (await fetch('/api/case-types')).json()).types.find((ty) => ty.key === 'e2e-salon'));
  assert.deepEqual(salon.items.map((i) => [i.title_en, i.title_zh, i.guidance, i.department]),
    [['Sterilizer cabinet', '消毒柜', 'Open it to the camera', 'health'], ['Price list posted', '价目表公示', '', '']]);
  assert.equal(salon.time_limit_days, 5);
  // editing it again: the rows come back in order
  await admin.locator('#types tr', { hasText: 'e2e-salon' }).getByRole('button').click();
  assert.equal(await item(0).getByLabel('Title (Chinese)').inputValue(), '消毒柜');

  assert.deepEqual(await unnamed(admin), [], 'every control of the administration page has a name');
  await shootBoth(admin, 'admin-desktop');
  const phone = await staffPage('/admin/', 'adm1', PHONE);
  await phone.locator('tr[data-user="li"]').waitFor();
  assert.deepEqual(await overflowX(phone), [], 'the administration page fits a 390 px phone');
  await shootBoth(phone, 'admin-phone');
});
