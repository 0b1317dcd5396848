// signature.test.mjs — the applicant's signature and the report's pictures (issue 18, items 5
// and 6): the reviewer takes a still (with a drawing on it) and issues a rectify notice; the
// phone (phone-sized headless Chromium) draws a signature with the pointer and acknowledges
// receipt; the desk shows who acknowledged; the PDF report, rendered with `pdftoppm -png`, has
// the still's thumbnail (camera colours and the red drawing over them) and, compared with the
// same report rendered before the signature, the signature's ink-blue strokes; the report page
// shows the thumbnail with its drawing, the signature and the QR code. A countersigned rejection:
// the phone, on the rejected outcome, signs the rejection's notice with the same link (and the
// link opens nothing live). Real `kanyan serve`, real
// Chromium (fake camera), in the test network namespace; every wait is for a condition bounded
// by PATIENCE; a failing test leaves screenshots in tests/e2e/artifacts/failed-signature-*.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ARTIFACTS, PATIENCE, sleep, startServer, launchChromium, harness, openDesk, livePhone, apiAs } from './lib/staff.mjs';

const USERS = { rev1: { role: 'reviewer', department: 'commerce', password: 'signature-owner-password' },
  lead1: { role: 'lead', department: 'commerce', password: 'signature-lead-password' } };
const PHONE = { width: 390, height: 844 };
let server, browser;
const { test, newPage } = harness('signature');
before(async () => {
  server = await startServer('signature', USERS);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// the REST API from a signed-in page (its cookie)
const pageApi = (page, url, body) => page.evaluate(async ([u, b]) => {
  const r = await fetch(u, b === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}, [url, body]);
const ok = (r, what) => { assert.ok(r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`); return r.body; };

// The report PDF (English) as pdftoppm renders it: per page, counts of red (the drawing), ink-blue
// (the signature) and other coloured pixels (a photograph: text, lines and the QR code are grey)
async function pdfColours(page, name) {
  const bytes = await page.evaluate(async () => {
    const r = await fetch(`/api/cases/SG-1/report.pdf?lang=en`);
    return r.ok ? [...new Uint8Array(await r.arrayBuffer())] : r.status;
  });
  assert.ok(Array.isArray(bytes), `the PDF is served (${bytes})`);
  const dir = mkdtempSync(path.join(tmpdir(), 'kanyan-signature-pdf-'));
  const pdf = path.join(ARTIFACTS, `signature-${name}.pdf`);
  writeFileSync(pdf, Buffer.from(bytes));
  execFileSync('pdftoppm', ['-png', '-r', '60', pdf, path.join(dir, 'page')]);
  const pngs = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  assert.ok(pngs.length >= 1, 'pdftoppm rendered pages');
  const counts = { red: 0, blue: 0, colour: 0 };
  const probe = await browser.newContext();
  const blank = await probe.newPage();
  for (const f of pngs) {
    const b64 = readFileSync(path.join(dir, f)).toString('base64');
    const c = await blank.evaluate(async (data) => {
      const img = new Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      const canvas = Object.assign(document.createElement('canvas'), { width: img.width, height: img.height });
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, img.width, img.height).data;
      const out = { red: 0, blue: 0, colour: 0 };
      for (let i = 0; i < px.length; i += 4) {
        const [r, gr, b] = [px[i], px[i + 1], px[i + 2]];
        if (r > 170 && gr < 90 && b < 90) out.red++;
        else if (b > 110 && b > r + 70 && b > gr + 50) out.blue++;
        else if (Math.max(r, gr, b) - Math.min(r, gr, b) > 40) out.colour++;
      }
      return out;
    }, b64);
    for (const k of Object.keys(counts)) counts[k] += c[k];
  }
  await probe.close();
  return counts;
}

test('rectify, the applicant signs on the phone, the desk, the PDF and the report page show it', async () => {
  const c = server.addCase('SG-1', { owner: 'rev1', applicant: 'Zhou Min' });
  const phone = await newPage(browser, { viewport: PHONE });
  await livePhone(phone, server, c);
  const desk = await openDesk(await newPage(browser), server, 'rev1', 'SG-1');
  // a still of item 2 (retried until the video has given a picture), a box drawn on it, a fail
  let still = null;
  for (const deadline = Date.now() + PATIENCE; !still; await sleep(500)) {
    const r = await pageApi(desk, '/api/cases/SG-1/stills', { item: 2 });
    if (r.status < 300) still = r.body;
    else assert.ok(Date.now() < deadline, `no still: ${JSON.stringify(r.body)}`);
  }
  ok(await pageApi(desk, '/api/cases/SG-1/annotations', { still: still.id,
    shapes: [{ kind: 'box', x1: 0.1, y1: 0.1, x2: 0.9, y2: 0.9 }, { kind: 'circle', x1: 0.3, y1: 0.3, x2: 0.7, y2: 0.7 }] }), 'drawing');
  ok(await pageApi(desk, '/api/cases/SG-1/marks', { item: 2, result: 'fail', note: 'no seal' }), 'mark');
  ok(await pageApi(desk, '/api/cases/SG-1/decisions', { kind: 'rectify', reason: 'seal the dispensers' }), 'rectify');

  // the desk: the notice awaits its acknowledgement (not flagged yet: 3 working days by default)
  await desk.waitForFunction(() => /not acknowledged yet/.test(document.querySelector('[data-testid=facts]').textContent));
  assert.equal(await desk.getByTestId('ack-flag').count(), 0, 'not flagged within notice_ack_days');
  const before = await pdfColours(desk, 'before');

  // the phone: the form appears with the notice; an empty signature is not sent
  const form = phone.getByTestId('signature');
  await form.waitFor();
  await phone.getByTestId('sig-name').fill('Zhou Min');
  await phone.getByTestId('sig-submit').click();
  await phone.waitForFunction(() => document.getElementById('sig-result').textContent.length > 0);
  assert.equal(await phone.getByTestId('sig-done').isVisible(), false, 'nothing sent without a drawing');
  // two strokes with the pointer
  const pad = await phone.getByTestId('sig-pad').boundingBox();
  assert.ok(pad.width <= PHONE.width, 'the pad fits the phone');
  const at = (fx, fy) => [pad.x + fx * pad.width, pad.y + fy * pad.height];
  for (const stroke of [[[0.1, 0.6], [0.25, 0.2], [0.4, 0.8], [0.55, 0.3]], [[0.6, 0.7], [0.9, 0.25]]]) {
    await phone.mouse.move(...at(...stroke[0]));
    await phone.mouse.down();
    for (const p of stroke.slice(1)) await phone.mouse.move(...at(...p), { steps: 8 });
    await phone.mouse.up();
  }
  assert.equal(await phone.getByTestId('sig-pad').getAttribute('data-strokes'), '2');
  await phone.getByTestId('sig-submit').click();
  await phone.getByTestId('sig-done').waitFor();
  assert.match(await phone.getByTestId('sig-done').textContent(), /Zhou Min/);

  // the desk: acknowledged, by whom
  await desk.waitForFunction(() => document.querySelector('[data-testid=facts]').dataset.ack === 'acknowledged');
  assert.match(await desk.getByTestId('facts').textContent(), /Notice acknowledged by Zhou Min/);

  // the PDF: the thumbnail (a photograph's colours, the red drawing) before and after; the
  // signature's ink only after
  const after = await pdfColours(desk, 'after');
  assert.ok(before.colour > 500 && after.colour > 500, `the still's thumbnail is in the PDF (${JSON.stringify([before, after])})`);
  assert.ok(before.red > 100 && after.red > 100, `its drawing is over it (${JSON.stringify([before, after])})`);
  assert.ok(after.blue > before.blue + 100, `the signature's strokes are in the PDF (${JSON.stringify([before, after])})`);

  // the report page: the thumbnail with its drawing, the signature, the QR code
  const report = await newPage(browser);
  await report.context().addCookies((await desk.context().cookies()));
  await report.goto(`${server.base}/report/#case=SG-1`);
  const thumb = report.getByTestId('report-thumb').first();
  await thumb.waitFor();
  await report.waitForFunction(() => {
    const img = document.querySelector('[data-testid=report-thumb] img');
    return img && img.complete && img.naturalWidth > 0;
  });
  assert.equal(await thumb.locator('svg.shapes rect').count(), 1, 'the box over the thumbnail');
  assert.equal(await thumb.locator('svg.shapes ellipse').count(), 1, 'the circle over the thumbnail');
  const ack = report.getByTestId('report-ack');
  assert.match(await ack.textContent(), /Zhou Min/);
  await report.waitForFunction(() => {
    const img = document.querySelector('[data-testid=report-ack] img');
    return img && img.complete && img.naturalWidth > 0;
  });
  await report.waitForFunction(() => {
    const img = document.querySelector('[data-testid=report-qr] img');
    return img && img.complete && img.naturalWidth > 0;
  });
  assert.match(await report.getByTestId('report-hash').textContent(), /[0-9a-f]{64}/);
});

test('a countersigned rejection: the phone on the rejected outcome signs its notice with the same link', async () => {
  const c = server.addCase('SG-2', { owner: 'rev1', applicant: 'Wu Lan' });
  const phone = await newPage(browser, { viewport: PHONE });
  await livePhone(phone, server, c);
  const desk = await openDesk(await newPage(browser), server, 'rev1', 'SG-2');
  const lead = await apiAs(server, 'lead1');
  const decision = ok(await pageApi(desk, '/api/cases/SG-2/decisions', { kind: 'reject', reason: 'no permit' }), 'reject');
  ok(await lead('/api/cases/SG-2/countersign', { decision: decision.decision, sign: true }), 'countersign');

  // the phone: the outcome, the camera off; under it the form for the rejection's notice
  await phone.getByTestId('outcome').waitFor({ state: 'visible' });
  assert.equal(await phone.getByTestId('outcome').getAttribute('data-outcome'), 'rejected');
  await phone.getByTestId('signature').waitFor();
  assert.equal(await phone.getByTestId('status').textContent(), 'closed');
  // what is signed for: the rejection's reason, in the reviewer's words, above the form
  await phone.getByTestId('outcome-reason').waitFor();
  assert.match(await phone.getByTestId('outcome-reason').textContent(), /no permit/);
  await phone.getByTestId('sig-name').fill('Wu Lan');
  await phone.getByTestId('sig-pad').scrollIntoViewIfNeeded();   // below the outcome: the pointer must reach it
  const pad = await phone.getByTestId('sig-pad').boundingBox();
  await phone.mouse.move(pad.x + 0.1 * pad.width, pad.y + 0.5 * pad.height);
  await phone.mouse.down();
  await phone.mouse.move(pad.x + 0.8 * pad.width, pad.y + 0.4 * pad.height, { steps: 8 });
  await phone.mouse.up();
  await phone.getByTestId('sig-submit').click();
  await phone.getByTestId('sig-done').waitFor();
  assert.match(await phone.getByTestId('sig-done').textContent(), /Wu Lan/);

  // the old link again: the outcome, who acknowledged, no form, nothing to start
  await phone.reload();
  await phone.getByTestId('sig-done').waitFor();
  assert.equal(await phone.getByTestId('outcome').getAttribute('data-outcome'), 'rejected');
  assert.ok(await phone.locator('#sig-form').isHidden(), 'signed once: no second form');
  assert.ok(await phone.getByTestId('start').isHidden());

  // the desk: acknowledged, by whom (the case list's refresh brings it)
  await desk.waitForFunction(() => document.querySelector('[data-testid=facts]').dataset.ack === 'acknowledged',
    null, { timeout: PATIENCE });
  assert.match(await desk.getByTestId('facts').textContent(), /Notice acknowledged by Wu Lan/);
});
