// camera_control.test.mjs — the reviewer's hands on the phone's camera (issue 18): from the
// desk, the phone (390×844, headless Chromium with two fake cameras) switches camera by
// replaceTrack and the video keeps playing on the desk; the torch is asked for and answered
// unsupported (the fake cameras have none), and the desk shows Torch disabled with the reason;
// zoom and focus do what the phone's capabilities say (done, or answered unsupported); "point
// here" puts the marker on the phone where the reviewer clicked on the frame (the desk's
// letterbox and the phone's object-fit: cover in bounding-box arithmetic), upright and turned
// sideways, and by keyboard (arrow keys and Enter on the focused video); every command and its
// outcome is in the audit log. Refused: malformed commands,
// out-of-range coordinates, an applicant sending `camera`, an answer to no command, a command
// with no applicant page. Real `kanyan serve`, real Chromium, in the test network namespace;
// every wait is for a condition bounded by PATIENCE.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PATIENCE, sleep, startServer, launchChromium, harness, openDesk, livePhone, videoPlays, apiAs } from './lib/staff.mjs';

const USERS = {
  cam1: { role: 'reviewer', department: 'commerce', password: 'camera-owner-password' },
  camlead: { role: 'lead', department: 'commerce', password: 'camera-lead-password' },
};
const PHONE = { width: 390, height: 844 };
const TOLERANCE_PX = 4;
let server, browser;
const { test, newPage } = harness('camera');
before(async () => {
  server = await startServer('camera', USERS);
  browser = await launchChromium(['--use-fake-device-for-media-stream=device-count=2']);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// A WebSocket of the test's own inside a page (its origin, its cookie): joins, then sends
// messages and collects every message it receives in window.probes[name].
async function probe(page, name, join) {
  await page.evaluate(async ({ name, join }) => {
    window.probes = window.probes || {};
    const ws = new WebSocket(`ws://${location.host}/ws`);
    const p = { ws, got: [] };
    window.probes[name] = p;
    ws.onmessage = (e) => p.got.push(JSON.parse(e.data));
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    ws.send(JSON.stringify(join));
  }, { name, join });
  await page.waitForFunction((n) => window.probes[n].got.some((m) => m.type === 'joined' || m.type === 'error'), name);
  return {
    send: (msg) => page.evaluate(({ name, msg }) => window.probes[name].ws.send(JSON.stringify(msg)), { name, msg }),
    // the first message received that matches (the pages' CSP allows no code from strings: the
    // messages come out to be matched here)
    wait: async (predicate) => {
      for (const deadline = Date.now() + PATIENCE; Date.now() < deadline; await sleep(100)) {
        const found = (await page.evaluate((n) => window.probes[n].got, name)).find(predicate);
        if (found) return found;
      }
      throw new Error(`${name}: no message matched ${predicate}`);
    },
    close: () => page.evaluate((n) => window.probes[n].ws.close(), name),
  };
}

// the error a message sent with this id got back
const refused = async (p, msg, id) => {
  await p.send({ ...msg, id });
  return (await p.wait((m) => m.type === 'error' && m.id === id)).code;
};

// where the phone must draw (x, y) of the frame: the preview's box, object-fit: cover about its centre
async function expectedOnPhone(phone, x, y) {
  return phone.evaluate(({ x, y }) => {
    const v = document.getElementById('preview'), r = v.getBoundingClientRect();
    const scale = Math.max(r.width / v.videoWidth, r.height / v.videoHeight);
    const cw = v.videoWidth * scale, ch = v.videoHeight * scale;
    return { x: r.left + (r.width - cw) / 2 + x * cw, y: r.top + (r.height - ch) / 2 + y * ch };
  }, { x, y });
}

// (x, y) of the frame the desk shows, on its page: the <video>'s box, letterboxed (object-fit: contain)
const onDeskFrame = (desk, x, y) => desk.evaluate(({ x, y }) => {
  const v = document.querySelector('[data-testid=live-video]'), r = v.getBoundingClientRect();
  const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
  const cw = v.videoWidth * scale, ch = v.videoHeight * scale;
  return { x: r.left + (r.width - cw) / 2 + x * cw, y: r.top + (r.height - ch) / 2 + y * ch };
}, { x, y });

async function clickOnDeskFrame(desk, x, y) {
  const at = await onDeskFrame(desk, x, y);
  await desk.mouse.click(at.x, at.y);
}

async function markerAt(phone, x, y) {
  const marker = phone.getByTestId('point-marker');
  await phone.waitForFunction(({ x, y }) => {
    const m = document.querySelector('[data-testid=point-marker]');
    return m && !m.classList.contains('hidden') && Math.abs(Number(m.dataset.x) - x) < 0.01 && Math.abs(Number(m.dataset.y) - y) < 0.01;
  }, { x, y });
  const box = await marker.boundingBox();
  const want = await expectedOnPhone(phone, x, y);
  assert.ok(box, 'the marker is drawn');
  const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  assert.ok(Math.abs(centre.x - want.x) <= TOLERANCE_PX && Math.abs(centre.y - want.y) <= TOLERANCE_PX,
    `the marker's centre ${JSON.stringify(centre)} is at the frame's (${x}, ${y}) = ${JSON.stringify(want)}`);
}

// the desk's last camera outcome for this action: 'ok' or the reason
async function deskOutcome(desk, action, count) {
  await desk.waitForFunction(({ action, count }) => {
    const s = document.querySelector('[data-testid=camera-status]');
    return s.dataset.action === action && Number(s.dataset.count || 0) >= count;
  }, { action, count });
  return desk.getByTestId('camera-status').getAttribute('data-result');
}

const disabledWhy = async (desk, name) => ({
  disabled: await desk.getByTestId(`camera-${name}`).getAttribute('aria-disabled'),
  why: await desk.getByTestId(`camera-${name}-why`).textContent(),
});

const senderTrack = (phone) => phone.evaluate(() => {
  const s = window.kanyanPc.getSenders().find((x) => x.track && x.track.kind === 'video');
  return s ? { id: s.track.getSettings().deviceId, state: s.track.readyState } : null;
});

test('the reviewer steers the phone camera: switch, torch, zoom, focus, point here, all audited', async () => {
  const c = server.addCase('CAM-1', { owner: 'cam1', applicant: 'Wang Fang' });
  const phone = await livePhone(await newPage(browser, { viewport: PHONE }), server, c);
  const desk = await openDesk(await newPage(browser, { viewport: { width: 1366, height: 768 } }), server, 'cam1', 'CAM-1');
  assert.ok(await videoPlays(desk), 'the desk plays the phone video');

  // what the phone can do, as the desk hears it (the test's own reviewer socket hears it too)
  const eye = await probe(desk, 'eye', { type: 'join', case: 'CAM-1', role: 'reviewer' });
  const caps = await eye.wait((m) => m.type === 'camera_caps');
  assert.equal(caps.facing, true, 'two cameras: switching is possible');
  assert.equal(caps.torch, false, 'the fake cameras have no torch');
  await desk.waitForFunction(() => document.querySelector('[data-testid=camera-point]').getAttribute('aria-disabled') === 'false');
  assert.deepEqual(await disabledWhy(desk, 'torch'),
    { disabled: 'true', why: "The phone's camera has no torch its browser can switch on." }, 'torch disabled up front, with the reason');
  assert.equal(await desk.getByTestId('camera-torch').getAttribute('title'), "The phone's camera has no torch its browser can switch on.");

  // switch camera: another device's track goes out by replaceTrack, and the desk keeps playing
  const before = await senderTrack(phone);
  await desk.getByTestId('camera-facing').click();
  assert.equal(await deskOutcome(desk, 'facing', 1), 'ok');
  const afterSwitch = await senderTrack(phone);
  assert.equal(afterSwitch.state, 'live');
  assert.notEqual(afterSwitch.id, before.id, 'the other camera is sent');
  assert.equal(await phone.evaluate(() => window.kanyanPc.connectionState), 'connected', 'the same connection');
  const framesBefore = await phone.evaluate(async () => {
    let n = 0; (await window.kanyanPc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') n += s.framesEncoded; });
    return n;
  });
  await phone.waitForFunction(async (n0) => {
    let n = 0; (await window.kanyanPc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') n += s.framesEncoded; });
    return n > n0 + 10;
  }, framesBefore);
  assert.ok(await videoPlays(desk), 'the desk still plays after the switch');

  // torch, asked for anyway (the desk would not): answered unsupported, said so on the desk
  await eye.send({ type: 'camera', action: 'torch', value: true });
  const torch = await eye.wait((m) => m.type === 'camera_result' && m.action === 'torch');
  assert.deepEqual([torch.ok, torch.reason, torch.by], [false, 'unsupported', 'cam1']);
  assert.equal(await deskOutcome(desk, 'torch', 1), 'unsupported');
  assert.match(await desk.getByTestId('camera-status').textContent(), /Torch: the phone's browser cannot do this/);
  assert.equal((await disabledWhy(desk, 'torch')).disabled, 'true');

  // zoom: done where the camera zooms, otherwise answered unsupported and disabled with the reason
  if (caps.zoom) {
    await desk.getByTestId('camera-zoom-in').click();
    assert.equal(await deskOutcome(desk, 'zoom', 1), 'ok');
  } else {
    assert.deepEqual(await disabledWhy(desk, 'zoom-in'), { disabled: 'true', why: "The phone's browser cannot zoom this camera." });
    await eye.send({ type: 'camera', action: 'zoom', value: 2 });
    const zoom = await eye.wait((m) => m.type === 'camera_result' && m.action === 'zoom');
    assert.deepEqual([zoom.ok, zoom.reason], [false, 'unsupported']);
  }

  // focus at a point: as the capabilities say
  await desk.getByTestId('camera-focus').click();
  assert.equal(await desk.getByTestId('camera-focus').getAttribute('aria-pressed'), 'true');
  if (caps.focus) {
    await clickOnDeskFrame(desk, 0.5, 0.5);
    assert.equal(await deskOutcome(desk, 'focus', 1), 'ok');
  } else {
    assert.equal((await disabledWhy(desk, 'focus')).disabled, 'true');
  }

  // point here: the marker where the reviewer clicked on the frame (cropped by the phone's cover)
  await desk.getByTestId('camera-point').click();
  await clickOnDeskFrame(desk, 0.6, 0.3);
  await markerAt(phone, 0.6, 0.3);
  assert.equal(await deskOutcome(desk, 'point', 1), 'ok');
  // the phone turned sideways: the same normalised spot of the frame, in the new geometry
  await phone.setViewportSize({ width: PHONE.height, height: PHONE.width });
  await clickOnDeskFrame(desk, 0.35, 0.8);
  await markerAt(phone, 0.35, 0.8);
  await phone.setViewportSize(PHONE);
  // without a mouse: the video takes the focus, the arrow keys move the spot, Enter points there
  await desk.getByTestId('live-video').focus();
  for (const key of ['ArrowRight', 'ArrowRight', 'ArrowDown']) await desk.keyboard.press(key);
  assert.match(await desk.getByTestId('camera-status').textContent(), /Spot: 60 % across, 55 % down/);
  const spot = await desk.getByTestId('camera-spot').boundingBox();
  const spotWant = await onDeskFrame(desk, 0.6, 0.55);
  assert.ok(spot && Math.abs(spot.x + spot.width / 2 - spotWant.x) <= TOLERANCE_PX &&
    Math.abs(spot.y + spot.height / 2 - spotWant.y) <= TOLERANCE_PX, 'the spot is drawn over the video where it points');
  await desk.keyboard.press('Enter');
  await markerAt(phone, 0.6, 0.55);

  // every command and its outcome in the audit log (the lead reads the timeline)
  const lead = await apiAs(server, 'camlead');
  const wanted = ['facing', 'torch', 'zoom', 'point', ...(caps.focus ? ['focus'] : [])];
  let entries = [];
  for (const deadline = Date.now() + 30000; Date.now() < deadline;) {
    const r = await lead('/api/cases/CAM-1/timeline');
    assert.equal(r.status, 200);
    entries = r.body.entries.filter((e) => e.action.startsWith('camera.'));
    const results = entries.filter((e) => e.action === 'camera.result').map((e) => e.detail.action);
    if (wanted.every((a) => results.includes(a))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const action of wanted) {
    const commands = entries.filter((e) => e.action === 'camera.command' && e.detail.action === action);
    assert.ok(commands.length >= 1, `${action} command audited`);
    for (const cmd of commands) {
      const outcome = entries.find((e) => e.action === 'camera.result' && e.detail.request === cmd.detail.request);
      assert.ok(outcome, `${action} (${cmd.detail.request}) has its outcome audited`);
      assert.equal(outcome.detail.action, action);
    }
  }
  const torchOutcome = entries.find((e) => e.action === 'camera.result' && e.detail.action === 'torch');
  assert.deepEqual([torchOutcome.detail.ok, torchOutcome.detail.reason], ['false', 'unsupported']);
  const point = entries.find((e) => e.action === 'camera.command' && e.detail.action === 'point');
  assert.equal(point.detail.by, 'cam1');
  assert.ok(Math.abs(Number(point.detail.x) - 0.6) < 0.01 && Math.abs(Number(point.detail.y) - 0.3) < 0.01,
    `the spot audited: ${point.detail.x}, ${point.detail.y}`);
  assert.ok(entries.some((e) => e.action === 'camera.capabilities'), 'what the camera can do is audited');

  // refusals, each with its code; nothing sent to the phone
  assert.equal(await refused(eye, { type: 'camera', action: 'tilt', value: 1 }, 'r1'), 'bad_field');
  assert.equal(await refused(eye, { type: 'camera', action: 'torch' }, 'r2'), 'missing_field');
  assert.equal(await refused(eye, { type: 'camera', action: 'torch', value: 'on' }, 'r3'), 'bad_field');
  assert.equal(await refused(eye, { type: 'camera', action: 'point', x: 1.5, y: 0.2 }, 'r4'), 'bad_field');
  assert.equal(await refused(eye, { type: 'camera', action: 'focus', x: 0.5, y: -0.1 }, 'r5'), 'bad_field');
  assert.equal(await refused(eye, { type: 'camera', action: 'point', x: 0.5, y: 0.5, value: true }, 'r6'), 'bad_field');
  assert.equal(await refused(eye, { type: 'camera', action: 'zoom', value: 1e9 }, 'r7'), 'bad_field');
  assert.equal(await refused(eye, { type: 'camera_result', request: 'c1', ok: true }, 'r8'), 'wrong_role');

  // an applicant's socket (it takes over from the phone page): it may not steer, nor answer nothing
  const other = await probe(phone, 'applicant', { type: 'join', case: 'CAM-1', role: 'applicant', token: c.token });
  assert.equal(await refused(other, { type: 'camera', action: 'point', x: 0.5, y: 0.5 }, 'a1'), 'wrong_role');
  assert.equal(await refused(other, { type: 'camera_result', request: 'c999', ok: true }, 'a2'), 'not_found');
  assert.equal(await refused(other, { type: 'camera_result', request: 'c999', ok: false }, 'a3'), 'missing_field');
  assert.equal(await refused(other, { type: 'camera_caps', facing: 'yes', torch: false, focus: false, zoom: null }, 'a4'), 'bad_field');
  await other.send({ type: 'leave' });
  await other.wait((m) => m.type === 'bye');
  await desk.waitForFunction(() => document.querySelector('[data-testid=camera-point]').getAttribute('aria-disabled') === 'true');
  assert.equal(await refused(eye, { type: 'camera', action: 'point', x: 0.5, y: 0.5 }, 'r9'), 'applicant_absent');
  assert.equal((await disabledWhy(desk, 'point')).why, "The applicant's phone is not live.");
  await eye.close();
});
