#!/usr/bin/env node
// apply_chromium.mjs — the real applicant page (web/apply) in headless Chromium with its fake
// camera, for Kanyan's reachability tests (issue 13). Run inside tests/netns.sh (or a phone
// namespace built inside it):
//
//   node tests/peers/apply_chromium.mjs --base http://127.0.0.1:PORT --case REF --token TOKEN
//        [--duration S] [--no-start] [--lang en|zh-CN] [--chromium-arg ARG]...
//
// Opens /apply/#case=…&token=…, waits for the page's pre-flight check, presses Start (unless
// --no-start) and watches the page for --duration seconds. Prints JSON lines whenever what the
// page shows changes:
//   {"event":"check","result":"ok"|"no_server"|"no_relay"|"no_udp"|"no_udp_no_relay","kinds":"…","text":…}
//   {"event":"status","state":"connecting"|"live"|…}
//   {"event":"help","visible":true|false,"text":…}          the 15 s what-to-try card
//   {"event":"socket","local":"ip:port"}                    its selected local socket, once live
//   {"event":"link_mode","mode":"audio_first"|"full"}       sound first on a weak uplink, and back
//   {"event":"error","message":…}                           a page error
// A base URL that is not 127.0.0.1 (a phone in another namespace) needs
// --chromium-arg=--unsafely-treat-insecure-origin-as-secure=BASE for the camera.
import { chromium } from 'playwright-core';

const emit = (e) => process.stdout.write(JSON.stringify(e) + '\n');
const opts = { duration: 30, start: true, lang: null, chromiumArgs: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const [k, inline] = argv[i].split(/=(.*)/s);
  const value = () => (inline !== undefined ? inline : argv[++i]);
  if (k === '--base') opts.base = value();
  else if (k === '--case') opts.case = value();
  else if (k === '--token') opts.token = value();
  else if (k === '--duration') opts.duration = Number(value());
  else if (k === '--no-start') opts.start = false;
  else if (k === '--lang') opts.lang = value();
  else if (k === '--chromium-arg') opts.chromiumArgs.push(value());
  else { process.stderr.write(`apply_chromium: unknown option ${k}\n`); process.exit(2); }
}
if (!opts.base || !opts.case || !opts.token) { process.stderr.write('apply_chromium: --base, --case and --token are required\n'); process.exit(2); }

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--disable-gpu', '--no-proxy-server', ...opts.chromiumArgs],
});
let exitCode = 0;
try {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'], locale: opts.lang || 'en-US' });
  const page = await context.newPage();
  page.on('pageerror', (err) => emit({ event: 'error', message: String(err) }));
  await page.goto(`${opts.base}/apply/#case=${encodeURIComponent(opts.case)}&token=${encodeURIComponent(opts.token)}`);
  const read = () => page.evaluate(() => {
    const el = (id) => document.getElementById(id);
    return {
      check: el('check') ? el('check').dataset.result || '' : '',
      kinds: el('check') ? el('check').dataset.kinds || '' : '',
      checkText: el('check-text') ? el('check-text').textContent : '',
      status: el('status') ? el('status').textContent : '',
      live: el('live') ? !el('live').classList.contains('hidden') : false,
      help: el('reach-help') ? !el('reach-help').classList.contains('hidden') : false,
      helpText: el('reach-help') ? el('reach-help').innerText : '',
      lang: document.documentElement.lang,
      linkMode: document.body.dataset.linkMode || 'full',
    };
  });
  // the page's selected local socket ("ip:port"), from its connection's stats (test hook window.kanyanPc)
  const localSocket = () => page.evaluate(async () => {
    const pc = window.kanyanPc;
    if (!pc) return null;
    const report = await pc.getStats();
    let local = null;
    report.forEach((s) => {
      const pair = s.type === 'transport' && s.selectedCandidatePairId && report.get(s.selectedCandidatePairId);
      const c = pair && report.get(pair.localCandidateId);
      if (c) local = `${c.address || c.ip}:${c.port}`;
    });
    return local;
  });
  let last = {};
  const watch = async () => {
    const now = await read();
    if (now.check && now.check !== 'running' && now.check !== last.check)
      emit({ event: 'check', result: now.check, kinds: now.kinds, text: now.checkText, lang: now.lang });
    if (now.live && now.status !== last.status) emit({ event: 'status', state: now.status });
    if (now.live && now.status === 'live' && last.status !== 'live') emit({ event: 'socket', local: await localSocket() });
    if (now.linkMode !== (last.linkMode || 'full')) emit({ event: 'link_mode', mode: now.linkMode });
    if (now.help !== !!last.help) emit({ event: 'help', visible: now.help, text: now.helpText });
    last = now;
  };
  // the check runs once the invite is read; Start is pressed after it finished (a bound, not a wait)
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    await watch();
    if (last.check && last.check !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (opts.start) await page.getByTestId('start').click();
  const end = Date.now() + opts.duration * 1000;
  while (Date.now() < end) {
    await watch();
    await new Promise((r) => setTimeout(r, 250));
  }
} catch (err) {
  emit({ event: 'error', message: String(err && err.stack || err) });
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
