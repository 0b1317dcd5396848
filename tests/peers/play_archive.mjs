// play_archive.mjs — plays one archived recording in a real browser, as an auditor would:
// Debian's Firefox ESR (driven over WebDriver BiDi) or Debian's Chromium (over CDP), both
// through puppeteer-core, which downloads no browser. Prints one JSON line with what the
// browser decoded; the Python test (tests/integration/test_playback.py) judges it.
//
//   node play_archive.mjs --browser firefox|chromium --base http://127.0.0.1:PORT --media /media/recordings/ID
//   (the auditor's session cookie, "kanyan_session=…", on stdin: never on the command line)
import puppeteer from 'puppeteer-core';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: {
  browser: { type: 'string', default: 'firefox' }, base: { type: 'string' }, media: { type: 'string' } } });
const [name, value] = readFileSync(0, 'utf8').trim().split(/=(.*)/s);

const firefox = opt.browser === 'firefox';
const browser = await puppeteer.launch(firefox
  ? { browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true,
      extraPrefsFirefox: { 'media.autoplay.default': 0, 'network.proxy.type': 0 } }
  : { browser: 'chrome', executablePath: '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-proxy-server', '--autoplay-policy=no-user-gesture-required'] });
// waits are for conditions, bounded generously (a loaded machine plays slowly); the watchdog bounds all
const watchdog = setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(3); }, 240000);
try {
  const url = new URL(opt.base);
  await browser.setCookie({ name, value, domain: url.hostname, path: '/', httpOnly: true, sameSite: 'Strict' });
  const page = await browser.newPage();
  await page.goto(`${opt.base}/audit/`);
  const result = await page.evaluate(async (src) => {
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const v = document.createElement('video');
    v.muted = true;
    v.preload = 'auto';
    const failed = new Promise((r) => v.addEventListener('error', () => r(v.error ? v.error.message || `code ${v.error.code}` : 'error')));
    v.src = src;
    document.body.append(v);
    const meta = await Promise.race([new Promise((r) => v.addEventListener('loadedmetadata', r)).then(() => null), failed]);
    if (meta) return { error: meta };
    const out = { duration: v.duration, width: v.videoWidth, height: v.videoHeight };
    await v.play();
    for (const deadline = Date.now() + 60000; v.currentTime <= 0.5 && !v.error && Date.now() < deadline;) await sleep(100);
    out.playedTo = v.currentTime;
    // the whole file, not just its start: seek near the end and play through to 'ended'
    const ended = new Promise((r) => v.addEventListener('ended', () => r(true)));
    v.currentTime = Math.max(0, v.duration - 1);
    out.ended = await Promise.race([ended, sleep(90000).then(() => false)]);
    out.finalTime = v.currentTime;
    out.frames = v.getVideoPlaybackQuality().totalVideoFrames;
    out.audio = 'mozHasAudio' in v ? v.mozHasAudio : v.webkitAudioDecodedByteCount > 0;
    out.error = v.error ? v.error.message || `code ${v.error.code}` : null;
    return out;
  }, opt.media);
  console.log(JSON.stringify({ browser: await browser.version(), ...result }));
} finally {
  clearTimeout(watchdog);
  await browser.close();
}
