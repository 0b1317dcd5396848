// checklist_race.test.mjs — the reviewer's checklist (web/review/checklist.js) in real Chromium:
// a case fetched before a mark or still was made may answer after the mark's or still's
// signaling message (or the message may come before the list exists); neither order may lose
// what the message brought. Deterministic: the orders are played directly on the module.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from './lib/port.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PATIENCE = 90000;   // ms: a failure bound, not an expected time
let server, browser, port;

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kanyan-e2e-checklist-'));
  port = await freePort();
  server = spawn(path.join(ROOT, 'build', 'kanyan'), ['serve', '--no-tls', '--port', String(port), '--bind', '127.0.0.1',
    '--data-dir', path.join(dir, 'data'), '--recordings', path.join(dir, 'rec'), '--web-dir', path.join(ROOT, 'web'),
    '--pipelines-dir', path.join(ROOT, 'pipelines')], { stdio: 'ignore' });
  for (const deadline = Date.now() + PATIENCE; ;) {   // listening once /api/health answers
    try { if ((await fetch(`http://127.0.0.1:${port}/api/health`)).ok) break; } catch { /* not yet */ }
    if (Date.now() > deadline || server.exitCode !== null) throw new Error('kanyan serve did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server'] });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
});

test('a stale case fetch does not undo a mark or still that came by message, in either order', async () => {
  const context = await browser.newContext();
  context.setDefaultTimeout(PATIENCE);
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/review/`);
  const result = await page.evaluate(async () => {
    const { Checklist } = await import('/review/checklist.js');
    const mark = (id, item, result) => ({ id, session: 7, item, result, note: '', by: 'rev1', at: 0, media_ms: 0 });
    const detail = (marks) => ({
      items: [1, 2, 3].map((position) => ({ position, title_en: `item ${position}`, title_zh: `项 ${position}`,
        guidance: '', department: '', mark: marks[position] || null })),
      stills: [], sessions: [{ id: 7 }], can: ['mark'],
    });
    const classes = (list) => [...list.querySelectorAll('li')].map((li) => li.className);
    const out = {};
    // 1. the list is shown, a mark comes by message, then a fetch made before it answers
    let list = document.createElement('ol');
    let c = new Checklist(list, () => {});
    c.show('C-1', detail({}));
    c.apply(mark(10, 2, 'fail'));
    c.show('C-1', detail({}));
    out.staleAfterMessage = classes(list);
    // 2. the message comes before the list exists; the fetch (made before the mark) follows
    list = document.createElement('ol');
    c = new Checklist(list, () => {});
    c.apply(mark(11, 1, 'pass'));
    c.addStill({ id: 3, item: 1, url: 'data:,', by: 'rev1', media_ms: 0, sha256: '0'.repeat(64) });
    c.show('C-1', detail({}));
    out.messageBeforeList = classes(list);
    out.stills = c.stills.map((s) => s.id);
    // 3. a newer mark from the fetch wins over an older message
    c.show('C-1', detail({ 1: mark(12, 1, 'not_shown') }));
    out.newerFetch = classes(list);
    // 4. another case forgets the messages of the first
    c.show('C-2', detail({}));
    out.otherCase = classes(list);
    return out;
  });
  assert.deepEqual(result.staleAfterMessage, ['item unmarked', 'item fail', 'item unmarked'], 'a stale fetch keeps the mark that came by message');
  assert.deepEqual(result.messageBeforeList, ['item pass', 'item unmarked', 'item unmarked'], 'a mark that came before the list appears');
  assert.deepEqual(result.stills, [3], 'a still that came before the list stays');
  assert.deepEqual(result.newerFetch, ['item not_shown', 'item unmarked', 'item unmarked'], 'a newer mark from the fetch wins');
  assert.deepEqual(result.otherCase, ['item unmarked', 'item unmarked', 'item unmarked'], 'another case starts clean');
  await context.close();
});
