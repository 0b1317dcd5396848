// translation.test.mjs — zh-CN is whole (issue 16, item 6): the applicant (before and live),
// reviewer, auditor, admin and report pages are rendered in zh-CN, and every visible text node
// (and each option of a visible <select>) is checked: none may be a value of the English
// catalogue (web/i18n/en.js) that Chinese says otherwise, and no word of it may be a stored
// code (a status, result, role, department, decision, action) or an English link word
// ("loss", "RTT", "live"). Allowed: case references, people's names, numbers, and the
// technical names that are the same in both languages (SHA-256, kbit/s, PDF). Then the PDF
// report, asked without a language (the bureau's: zh-CN), through pdftotext: no English result
// words, no codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import en from '../../web/i18n/en.js';
import zh from '../../web/i18n/zh-CN.js';
import { StoryServer, ROOT, ARTIFACTS, pageApi, inspect, watchFor } from './lib/story_util.mjs';

// English wording that Chinese does not share
const ENGLISH = new Set(Object.keys(en).filter((k) => zh[k] && zh[k].trim() !== en[k].trim()).map((k) => en[k].trim())
  .filter((v) => /[A-Za-z]{2}/.test(v)));
const CODES = new Set([
  'accepted', 'awaiting_inspection', 'inspecting', 'approved', 'rectification_required', 'rejection_pending', 'rejected',
  'pass', 'fail', 'not_shown', 'admin', 'reviewer', 'lead', 'auditor', 'applicant', 'watcher', 'clerk',
  'fire', 'commerce', 'audit', 'approve', 'rectify', 'reject', 'final', 'awaiting_countersign', 'returned',
  'loss', 'RTT', 'live', 'good', 'poor', 'bad', 'connecting', 'reconnecting', 'archived', 'salvaged', 'purged',
  'mark', 'decision', 'still.captured', 'participant.joined', 'participant.left', 'participant.connected',
  'recording.started', 'recording.ended', 'recording.archived', 'case.status', 'case.created', 'invite.issued',
  'challenge.seen', 'still.annotated', 'recording.accessed', 'still.accessed', 'expires_at', 'media_ms']);
// people, references and the names that are the same in both languages
const ALLOW = new Set(['TR-1', 'TR-2', 'liwei', 'wangjun', 'zhaomin', 'guanli', 'lijun', 'Wang', 'Fang', 'SHA-256', 'kbit/s', 'ms', 'PDF',
  'Kanyan', 'Ed25519', 'WHEP', 'UTC', 'Asia/Shanghai', 'host', 'udp', 'tcp', 'srflx', 'relay', 'prflx']);

let server, c1, c2;

test('every stable error code the server answers with has its sentence in both languages', () => {
  const codes = [...readFileSync(path.join(ROOT, 'src', 'core', 'errors.c'), 'utf8').matchAll(/= \{ "([a-z_]+)", \d+ \}/g)]
    .map((m) => m[1]);
  assert.ok(codes.length > 20, `the codes are read from errors.c (${codes.length})`);
  const missing = codes.flatMap((c) => [['en', en], ['zh-CN', zh]].filter(([, cat]) => !cat[`error.${c}`]).map(([l]) => `${l}: error.${c}`));
  assert.deepEqual(missing, [], 'lib/errors.js says each code in words');
});

before(async () => {
  // the accounts first: no first-start "admin" (a user name that is also a role's code)
  server = await new StoryServer('translation', '[bureau]\ntimezone=Asia/Shanghai\nlanguage=zh-CN\n').start((s) => {
    s.addUser('liwei', 'reviewer', 'commerce');
    s.addUser('wangjun', 'reviewer', 'fire');
    s.addUser('zhaomin', 'auditor', 'audit');
    s.addUser('guanli', 'admin', 'commerce');
    s.addUser('lijun', 'lead', 'commerce');
  });
  c1 = server.addCase('TR-1', 'liwei', ['--applicant', 'Wang Fang', '--co-reviewer', 'wangjun']);
  c2 = server.addCase('TR-2', 'liwei', ['--applicant', 'Wang Fang', '--co-reviewer', 'wangjun']);
  await inspect(server, c1, 'liwei', '灭火器未展示');
});

after(async () => { await server?.stop(); });

// every English word the page shows: [{text, why}]
async function english(page) {
  const shown = await page.evaluate(() => {
    const out = [];
    const visible = (el) => el && el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) &&
      el.getClientRects().length > 0;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode())
      if (n.textContent.trim() && n.parentElement.tagName !== 'OPTION' && visible(n.parentElement)) out.push(n.textContent.trim());
    for (const sel of document.querySelectorAll('select')) if (visible(sel)) for (const o of sel.options) if (o.text.trim()) out.push(o.text.trim());
    return out;
  });
  const bad = [];
  for (const text of shown) {
    if (ENGLISH.has(text)) { bad.push({ text, why: 'an English catalogue value' }); continue; }
    for (const word of text.split(/[^A-Za-z0-9_.\-/]+/).map((w) => w.replace(/^[.\-/]+|[.\-/]+$/g, '')).filter(Boolean))
      if (!ALLOW.has(word) && (CODES.has(word) || CODES.has(word.toLowerCase())))
        bad.push({ text, why: `the code "${word}"` });
  }
  return bad;
}

async function check(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `translation-${name}.png`), fullPage: true });
  // a browser's date picker speaks the browser's locale, not the page's language: none is used;
  // a date field says its format in Chinese (lib/dateinput.js)
  const dates = await page.evaluate(() => ({
    native: [...document.querySelectorAll('input')].filter((i) => ['date', 'datetime-local', 'time', 'month', 'week'].includes(i.type))
      .map((i) => i.id || i.name),
    fields: [...document.querySelectorAll('input[data-date-field]')].map((i) => ({ id: i.id, placeholder: i.placeholder,
      hint: document.getElementById(`${i.id}-hint`)?.textContent })) }));
  assert.deepEqual(dates.native, [], `${name}: no date input of the browser's locale`);
  if (name === 'audit') assert.equal(dates.fields.length, 2, 'the search\'s two days are date fields');
  for (const f of dates.fields)
    assert.ok(/^2026\/12\/31( 14:30)?$/.test(f.placeholder) && f.hint === `格式：${f.placeholder}`,
      `${name}: the date field ${f.id} shows the zh-CN format: ${JSON.stringify(f)}`);
  const bad = await english(page);
  assert.deepEqual(bad, [], `${name} in zh-CN shows English or codes:\n${bad.map((b) => `  "${b.text}": ${b.why}`).join('\n')}`);
}

test('the staff pages of a decided case, in zh-CN: auditor, report, admin', async () => {
  const audit = await server.newPage({ lang: 'zh-CN' });
  await server.signIn(audit, '/audit/#case=TR-1', 'zhaomin');
  await audit.waitForFunction(() => document.querySelectorAll('[data-testid=timeline] li').length > 5 &&
    document.querySelectorAll('[data-testid=results] li').length > 0);
  await check(audit, 'audit');
  const report = await audit.context().newPage();
  await report.goto(`${server.base}/report/#case=TR-1`);
  await report.waitForFunction(() => !document.getElementById('report').classList.contains('hidden'));
  await check(report, 'report');
  await audit.context().close();

  const admin = await server.newPage({ lang: 'zh-CN' });
  await server.signIn(admin, '/admin/', 'guanli');
  await admin.waitForFunction(() => document.querySelectorAll('#users tr').length >= 4);
  await check(admin, 'admin');
  await admin.context().close();
});

test('the applicant and the reviewer during a live inspection, in zh-CN', async () => {
  const phone = await server.newPage({ lang: 'zh-CN', viewport: { width: 390, height: 844 } });
  await phone.goto(`${server.base}/apply/#case=TR-2&token=${c2.token}`);
  await phone.getByTestId('start').waitFor();
  await check(phone, 'apply-before');
  await phone.getByTestId('start').click();
  await phone.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'live');
  const desk = await server.newPage({ lang: 'zh-CN' });
  await server.signIn(desk, '/review/#case=TR-2', 'liwei');
  await watchFor(desk, 2);
  await pageApi(desk, '/api/cases/TR-2/marks', { item: 1, result: 'fail', note: '未见营业执照' });
  // the figures of both links are shown once measured
  await phone.waitForFunction(() => /\d/.test(document.getElementById('quality')?.textContent || ''));
  await desk.waitForFunction(() => document.querySelector('li[data-item="1"]')?.classList.contains('fail'));
  await check(phone, 'apply-live');
  await check(desk, 'review');
  await desk.context().close();
  await phone.context().close();
});

test('the PDF report in the bureau\'s language has no English result words or codes', async () => {
  const page = await server.newPage({ lang: 'zh-CN' });
  await server.signIn(page, '/audit/', 'zhaomin');
  const bytes = await page.evaluate(async () => {
    const r = await fetch('/api/cases/TR-1/report.pdf');
    return r.ok ? [...new Uint8Array(await r.arrayBuffer())] : r.status;
  });
  assert.ok(Array.isArray(bytes), `the PDF is served (${bytes})`);
  const file = path.join(ARTIFACTS, 'translation-report.pdf');
  writeFileSync(file, Buffer.from(bytes));
  const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-']).toString();
  assert.match(text, /要件/, 'the report is in Chinese');
  assert.match(text, /不符合/, 'the failed item in words');
  const words = text.split(/[^A-Za-z0-9_.\-/]+/).map((w) => w.replace(/^[.\-/]+|[.\-/]+$/g, '')).filter(Boolean);
  const bad = words.filter((w) => !ALLOW.has(w) && (CODES.has(w) || CODES.has(w.toLowerCase()) ||
    ['shown', 'marked', 'Required', 'items', 'department', 'Status', 'Applicant', 'Decisions', 'Recordings', 'segment',
      'session', 'generated', 'Countersigned', 'not'].includes(w)));
  assert.deepEqual(bad, [], `English in the zh-CN PDF:\n${text}`);
  await page.context().close();
});
