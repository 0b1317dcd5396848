#!/usr/bin/env node
// apply_firefox.mjs — the applicant page (web/apply/) in Debian's Firefox ESR, driven over
// WebDriver BiDi by puppeteer-core (which downloads no browser), with Firefox's fake
// camera and microphone. For Kanyan's integration tests; run inside tests/netns.sh:
//
//   node tests/peers/apply_firefox.mjs --url 'http://127.0.0.1:PORT/apply/#case=REF&token=…' [--duration S]
//
// Taps "start", waits for the page's status to read `live`, stays live for --duration
// seconds, then closes. Prints JSON lines: {"event":"status","status":…} on each change,
// {"event":"live"} once, {"event":"error","message":…} on a page error.
// Exit status: 0 when the page went live, 1 when it did not, 2 on usage.
import puppeteer from 'puppeteer-core';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: { url: { type: 'string' }, duration: { type: 'string', default: '10' } } });
if (!opt.url) { console.error('usage: apply_firefox.mjs --url URL [--duration S]'); process.exit(2); }
const print = (o) => console.log(JSON.stringify(o));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await puppeteer.launch({
  browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true,
  extraPrefsFirefox: {
    'media.navigator.streams.fake': true,            // a fake camera and microphone
    'media.navigator.permission.disabled': true,     // as if the user allowed them
    'media.autoplay.default': 0,
  },
});
const watchdog = setTimeout(() => { print({ event: 'error', message: 'timeout' }); process.exit(1); },
  (Number(opt.duration) + 180) * 1000);
let live = false;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => print({ event: 'error', message: e.message }));
  await page.goto(opt.url);
  await page.click('[data-testid=start]');
  let last = '';
  for (const deadline = Date.now() + 150000; !live && Date.now() < deadline;) {   // a failure bound
    const status = await page.$eval('[data-testid=status]', (e) => e.textContent);
    if (status !== last) print({ event: 'status', status });
    last = status;
    live = status === 'live';
    if (!live) await sleep(100);
  }
  if (live) {
    print({ event: 'live' });
    await sleep(Number(opt.duration) * 1000);
  }
} finally {
  clearTimeout(watchdog);
  await browser.close();
}
process.exit(live ? 0 : 1);
