#!/usr/bin/env node
// review_firefox.mjs — the reviewer page (web/review/) in Debian's Firefox ESR, driven over
// WebDriver BiDi by puppeteer-core (which downloads no browser). For Kanyan's integration
// tests; run inside tests/netns.sh:
//
//   echo '{"username":"…","password":"…"}' | node tests/peers/review_firefox.mjs --base http://127.0.0.1:PORT --case REF
//
// Signs in through the page's form (the password on stdin, never on the command line),
// opens the case and waits until the live video plays: videoWidth > 0 and currentTime
// advancing. Prints one JSON line {"width":…,"advanced":…,"error":…}.
// Exit status: 0 when the video played, 1 when it did not, 2 on usage.
import puppeteer from 'puppeteer-core';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: { base: { type: 'string' }, case: { type: 'string' } } });
if (!opt.base || !opt.case) { console.error('usage: review_firefox.mjs --base URL --case REF < login.json'); process.exit(2); }
const login = JSON.parse(readFileSync(0, 'utf8'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await puppeteer.launch({
  browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true,
  extraPrefsFirefox: { 'media.autoplay.default': 0, 'media.navigator.streams.fake': true,
    'media.navigator.permission.disabled': true },
});
const watchdog = setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(1); }, 240000);
const result = { width: 0, advanced: false, error: null };
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => { result.error = e.message; });
  await page.goto(`${opt.base}/review/#case=${encodeURIComponent(opt.case)}`);
  await page.type('[data-testid=login-user]', login.username);
  await page.type('[data-testid=login-password]', login.password);
  await page.click('[data-testid=login-submit]');
  for (const deadline = Date.now() + 150000; !result.advanced && Date.now() < deadline;) {   // a failure bound
    const a = await page.$eval('[data-testid=live-video]', (v) => ({ w: v.videoWidth, t: v.currentTime }));
    if (a.w > 0) {
      await sleep(500);
      const t = await page.$eval('[data-testid=live-video]', (v) => v.currentTime);
      result.width = a.w;
      result.advanced = t > a.t;
    } else {
      await sleep(200);
    }
  }
} finally {
  clearTimeout(watchdog);
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.advanced ? 0 : 1);
