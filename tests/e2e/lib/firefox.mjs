// lib/firefox.mjs — the staff pages in Debian's Firefox ESR for the browser tests, beside
// lib/staff.mjs's Chromium: puppeteer-core drives /usr/bin/firefox-esr over WebDriver BiDi (it
// downloads no browser). launchFirefox() gives a browser whose newPage() opens a page in a
// fresh browser context (its own cookies and storage) with the pages' language chosen before
// any script runs, like lib/staff.mjs's newPage(); shoot() photographs every open page of a
// failed test into tests/e2e/artifacts; closePages() closes them. The pages are puppeteer's, not
// playwright's: use selectors and page.evaluate / page.waitForFunction. Touches nothing outside
// its browser's temporary profile and tests/e2e/artifacts.
import puppeteer from 'puppeteer-core';
import { writeFileSync } from 'node:fs';
import { PATIENCE } from './staff.mjs';

export const FIREFOX = '/usr/bin/firefox-esr';

export async function launchFirefox() {
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true,
    extraPrefsFirefox: { 'media.autoplay.default': 0, 'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true, 'network.proxy.type': 0 },
  });
  const open = [];   // { context, page, log }
  return {
    browser,
    // a page in a new browser context; `lang` ('en' | 'zh-CN') is the pages' remembered choice
    async newPage({ viewport = { width: 1366, height: 768 }, lang = 'en' } = {}) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      const entry = { context, page, log: [] };
      open.push(entry);
      page.setDefaultTimeout(PATIENCE);
      await page.setViewport(viewport);
      await page.evaluateOnNewDocument((l) => { try { localStorage.setItem('kanyan.lang', l); } catch { /* opaque origin */ } }, lang);
      page.on('pageerror', (e) => entry.log.push(`error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') entry.log.push(`console: ${m.text()}`); });
      return page;
    },
    // a failed test's Firefox pages: a screenshot each and their complaints (STEM-ff-N.png, STEM-ff.log)
    async shoot(stem) {
      let n = 0;
      for (const { page } of open) await page.screenshot({ path: `${stem}-ff-${++n}.png` }).catch(() => {});
      writeFileSync(`${stem}-ff.log`, open.flatMap((o, i) => o.log.map((l) => `page ${i + 1} ${l}`)).join('\n') + '\n');
    },
    async closePages() {
      const all = open.splice(0);
      await Promise.all(all.map((o) => o.context.close().catch(() => {})));
    },
    close: () => browser.close(),
  };
}

// Signs in through the staff pages' login form (lib/staff.js) and waits until it is gone.
export async function signInFirefox(page, user, password) {
  await page.waitForSelector('[data-testid=login-user]', { visible: true });
  await page.type('[data-testid=login-user]', user);
  await page.type('[data-testid=login-password]', password);
  await page.click('[data-testid=login-submit]');
  await page.waitForFunction(() => document.getElementById('login')?.classList.contains('hidden'));
}
