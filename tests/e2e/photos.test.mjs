// photos.test.mjs — photo-grade evidence in the browsers (issue 18): the reviewer clicks "Ask for
// a photo" on an item, the phone (headless Chromium, fake camera, phone-sized) shows the prompt
// naming the item, takes the photo (ImageCapture, or the track's frame) and sends it; the desk
// shows it beside that item as a photo, the server's SHA-256 is the bytes' own, and the desk's
// button waits no more. A photo the phone sends without a request is refused. Real `kanyan
// serve`, in the test network namespace; every wait is for a condition, bounded by PATIENCE.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, launchChromium, harness, openDesk, livePhone, apiAs } from './lib/staff.mjs';
import { checkAxe, describeViolations } from './lib/axe.mjs';

const USERS = { rev1: { role: 'reviewer', department: 'commerce', password: 'photo-owner-password' } };
const PHONE = { width: 390, height: 844 };
let server, browser;
const { test, newPage } = harness('photos');

before(async () => {
  server = await startServer('photos', USERS);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the reviewer asks, the phone takes and sends the photo, the desk shows it beside the item; an unrequested one is refused', async () => {
  const c = server.addCase('PHOTO-1', { owner: 'rev1' });
  const phone = await livePhone(await newPage(browser, { viewport: PHONE }), server, c);
  const desk = await openDesk(await newPage(browser, { viewport: { width: 1440, height: 900 } }), server, 'rev1', c.ref);
  const item2 = desk.getByTestId('checklist').locator('li[data-item="2"]');

  // nothing asked: the phone shows no prompt, and what it sends on its own is refused
  assert.equal(await phone.getByTestId('photo-request').isVisible(), false);
  const unasked = await phone.evaluate(async ({ ref, token }) => {
    const r = await fetch(`/api/invite/photos?case=${ref}&request=1&key=guess`, { method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/jpeg' }, body: new Uint8Array([0xff, 0xd8, 0xff, 0xe0]) });
    return { status: r.status, code: (await r.json()).code };
  }, { ref: c.ref, token: c.token });
  assert.deepEqual(unasked, { status: 404, code: 'photo_not_requested' });

  await item2.getByTestId('ask-photo').click();
  await desk.waitForFunction(() => document.querySelector('li[data-item="2"] [data-testid=ask-photo]').dataset.state === 'waiting');
  const prompt = phone.getByTestId('photo-request');
  await prompt.waitFor({ state: 'visible' });
  const itemTitle = await phone.locator('#items li').nth(1).textContent();
  assert.match(await phone.getByTestId('photo-ask').textContent(), new RegExp(itemTitle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const violations = await checkAxe(phone, 'photo-prompt');   // the prompt as the phone shows it
  assert.deepEqual(violations, [], describeViolations(violations));
  await phone.getByTestId('photo-take').click();
  await phone.waitForFunction(() => ['sent', 'failed'].includes(document.querySelector('[data-testid=photo-request]').dataset.state));
  assert.equal(await prompt.getAttribute('data-state'), 'sent', await phone.getByTestId('photo-status').textContent());

  // the desk: a photo beside item 2, and the button asks again
  const thumb = item2.locator('.thumbs img[data-source="photo"]');
  await thumb.waitFor();
  await desk.waitForFunction(() => document.querySelector('li[data-item="2"] [data-testid=ask-photo]').dataset.state === 'idle');
  await desk.waitForFunction(() => { const i = document.querySelector('li[data-item="2"] .thumbs img[data-source="photo"]'); return i && i.naturalWidth > 0; });
  const call = await apiAs(server, 'rev1');
  const photos = (await call(`/api/cases/${c.ref}`)).body.stills.filter((s) => s.source === 'photo');
  assert.equal(photos.length, 1);
  assert.equal(photos[0].item, 2);
  assert.ok(photos[0].width > 0 && photos[0].height > 0);
  const login = await fetch(`${server.base}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'rev1', password: USERS.rev1.password }) });
  const bytes = Buffer.from(await (await fetch(`${server.base}${photos[0].url}`,
    { headers: { Cookie: login.headers.get('set-cookie').split(';')[0] } })).arrayBuffer());
  assert.equal(createHash('sha256').update(bytes).digest('hex'), photos[0].sha256);
  assert.equal(await thumb.getAttribute('data-still'), String(photos[0].id));
});
