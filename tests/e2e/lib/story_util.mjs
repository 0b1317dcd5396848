// lib/story_util.mjs — what the story and translation browser tests share: one `kanyan serve`
// (with a settings file) in a temporary directory, accounts and cases made with the CLI,
// headless Chromium with a fake camera, a page per context (a language chosen before the page
// loads), sign-in through the login form, the REST API from a signed-in page, and one live
// inspection with marks, a still with a drawing and a decision. Not a test file itself.
import { ROOT, ARTIFACTS, PATIENCE, sleep, startServer, launchChromium } from './staff.mjs';

export { ROOT, ARTIFACTS, PATIENCE, sleep };

// A server of its own (lib/staff.mjs's, with a settings file) and its Chromium. `config` is the
// settings file's text; `name` names its log in the artifacts; setup(server) runs before the
// server does (accounts made then: no first-start admin is made); accounts added later are made
// on the running server's database.
export class StoryServer {
  constructor(name, config = '') { this.name = name; this.config = config; this.pending = {}; this.passwords = {}; }

  get base() { return this.server.base; }

  async start(setup) {
    if (setup) setup(this);
    this.server = await startServer(this.name, this.pending, { config: this.config });
    this.passwords = this.server.passwords;
    this.browser = await launchChromium();
    return this;
  }

  async stop() {
    await this.browser?.close();
    await this.server?.stop();
  }

  addUser(username, role, department, password = `${username}-story-password`) {
    if (!this.server) {
      this.pending[username] = { role, department, password };
      return;
    }
    this.server.cli(['user', 'add', '-u', username, '--role', role, '--department', department, '--password-stdin'],
      `${password}\n`);
    this.passwords[username] = password;
  }

  addCase(ref, owner, extra = []) {
    return JSON.parse(this.server.cli(['case', 'add', '--ref', ref, '--type', 'fuel-retail', '--owner', owner,
      '--json', ...extra]));
  }

  // a page in a fresh context: `lang` is chosen before any script of the page runs
  async newPage({ viewport = { width: 1366, height: 768 }, lang = 'en' } = {}) {
    const context = await this.browser.newContext({ viewport, locale: 'en-US' });
    context.setDefaultTimeout(PATIENCE);
    await context.addInitScript((l) => localStorage.setItem('kanyan.lang', l), lang);
    return context.newPage();
  }

  // a staff page, signed in through its login form
  async signIn(page, url, user) {
    await page.goto(`${this.base}${url}`);
    await page.getByTestId('login-user').fill(user);
    await page.getByTestId('login-password').fill(this.passwords[user]);
    await page.getByTestId('login-submit').click();
    await page.waitForFunction(() => document.getElementById('login')?.classList.contains('hidden'));
  }
}

// the REST API from a signed-in page (its cookie): { status, body }
export function pageApi(page, pathName, body) {
  return page.evaluate(async ([p, b]) => {
    const r = await fetch(p, b === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
    const text = await r.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    return { status: r.status, body: parsed };
  }, [pathName, body]);
}

// the live video's own clock: the reviewer watches until it has advanced this far
export async function watchFor(page, seconds) {
  const start = await page.evaluate(() => document.querySelector('[data-testid=live-video]').currentTime);
  await page.waitForFunction(([t0, s]) => {
    const v = document.querySelector('[data-testid=live-video]');
    return v.videoWidth > 0 && v.currentTime >= t0 + s;
  }, [start, seconds]);
}

// One live inspection of case c (its owner `owner`): the applicant's phone publishes, the owner
// marks item 1 pass and item 2 fail with `note`, captures a still of item 2 and draws a box and
// an arrow on it, then rejects the case (awaiting a countersignature). The phone is closed and
// the segment archived before this resolves. Returns { still, shapes, markAt }.
export async function inspect(server, c, owner, note) {
  const phone = await server.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${server.base}/apply/#case=${c.ref}&token=${c.token}`);
  await phone.getByTestId('start').click();
  await phone.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live');
  const desk = await server.newPage();
  await server.signIn(desk, `/review/#case=${c.ref}`, owner);
  await watchFor(desk, 3);
  const ok = (r, what) => { if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`); return r; };
  ok(await pageApi(desk, `/api/cases/${c.ref}/marks`, { item: 1, result: 'pass', note: '' }), 'mark 1');
  await watchFor(desk, 1);
  const markAt = Date.now();
  ok(await pageApi(desk, `/api/cases/${c.ref}/marks`, { item: 2, result: 'fail', note }), 'mark 2');
  const still = ok(await pageApi(desk, `/api/cases/${c.ref}/stills`, { item: 2 }), 'still').body;
  const shapes = [{ kind: 'box', x1: 0.2, y1: 0.2, x2: 0.6, y2: 0.7 }, { kind: 'arrow', x1: 0.9, y1: 0.1, x2: 0.65, y2: 0.4 }];
  ok(await pageApi(desk, `/api/cases/${c.ref}/annotations`, { still: still.id, shapes }), 'drawing');
  await watchFor(desk, 1);
  ok(await pageApi(desk, `/api/cases/${c.ref}/decisions`, { kind: 'reject', reason: 'the extinguisher is missing' }), 'decision');
  await phone.context().close();
  // the segment is archived: the timeline has a playable url for it
  for (const deadline = Date.now() + PATIENCE; ; await sleep(500)) {
    const tl = await pageApi(desk, `/api/cases/${c.ref}/timeline`);
    if (tl.status === 403) break;   // an owner may not read the timeline: the auditor waits instead
    if (tl.body.recordings.length && tl.body.recordings.every((r) => r.url || r.archive_state === 'failed')) break;
    if (Date.now() > deadline) throw new Error('the recording was not archived');
  }
  await desk.context().close();
  return { still, shapes, markAt };
}
