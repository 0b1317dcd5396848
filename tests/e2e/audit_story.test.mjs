// audit_story.test.mjs — the auditor's page reads like a story (issue 16, item 3): after a live
// inspection with marks, a still with a drawing and a decision, each event is a sentence naming
// the person in the chosen language (no action key, no epoch number in the visible text),
// times are in the bureau's zone ([bureau] timezone, not the browser's), the markers lie below
// the player and a legend names their shapes, the drawing shows over its still, Enter on a
// timeline item seeks the player there, and the page fits a 390 px phone; consecutive views by
// one person are one line. Screenshots at 390×844 and 1366×768 in both languages (the auditor's
// page, the report, the lead's countersignature queue) go to tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { StoryServer, ARTIFACTS, pageApi, inspect } from './lib/story_util.mjs';

// a zone far from the test machine's (UTC in the namespace): times shown in the browser's zone fail
const ZONE = 'Asia/Shanghai';
const NOTE = 'no extinguisher by the pumps';
let server, story;

before(async () => {
  server = await new StoryServer('audit-story', `[bureau]\ntimezone=${ZONE}\n`).start();
  server.addUser('liwei', 'reviewer', 'commerce');
  server.addUser('zhaomin', 'auditor', 'audit');
  server.addUser('lijun', 'lead', 'commerce');   // countersigns: the queue on the lead's desk
  const c = server.addCase('STORY-1', 'liwei', ['--applicant', 'Wang Fang']);
  story = await inspect(server, c, 'liwei', NOTE);
});

after(async () => { await server?.stop(); });

// the auditor's page of the case, once its story and axis are drawn
async function auditPage(lang, viewport) {
  const page = await server.newPage({ lang, viewport });
  await server.signIn(page, '/audit/#case=STORY-1', 'zhaomin');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=timeline] li').length > 0 &&
    document.querySelectorAll('[data-testid=markers] .marker').length > 0 &&
    [...document.querySelectorAll('figure.still img')].some((i) => i.naturalWidth > 0));
  return page;
}

const visibleText = (page) => page.evaluate(() => document.body.innerText);

test('each event is a sentence naming its person, in the bureau\'s time zone, without codes or epoch numbers', async () => {
  const page = await auditPage('en');
  const tl = (await pageApi(page, '/api/cases/STORY-1/timeline')).body;
  assert.equal(tl.timezone, ZONE, 'the timeline says the bureau\'s zone');
  const text = await visibleText(page);
  assert.doesNotMatch(text, /\b\d{13}\b/, 'no epoch milliseconds on the page');
  for (const action of new Set(tl.entries.map((e) => e.action)))
    if (/[._]/.test(action)) assert.ok(!text.includes(action), `the action key ${action} is not shown`);
  assert.doesNotMatch(text, /\b(expires_at|media_ms|session|sha256|detail):/, 'no raw detail keys');
  const items = await page.getByTestId('timeline').locator('li').evaluateAll((els) => els.map((li) => ({
    id: li.dataset.entry, action: li.dataset.action, text: li.querySelector('.sentence').textContent, time: li.querySelector('time').textContent })));
  const mark2 = items.find((i) => i.action === 'mark' && i.text.includes('item 2'));
  assert.equal(mark2?.text, `liwei marked item 2 failed: ${NOTE}`, 'the mark in words');
  assert.ok(items.some((i) => i.action === 'participant.joined' && i.text === 'Wang Fang joined the live inspection'),
    `the applicant is named: ${JSON.stringify(items.filter((i) => i.action === 'participant.joined'))}`);
  assert.ok(items.some((i) => i.action === 'decision' && i.text.startsWith('liwei decided rejection')), 'the decision in words');
  // the time of each entry as the bureau's clock shows it, not the browser's
  const fmt = new Intl.DateTimeFormat('en', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  assert.ok(items.length >= 8, `the story has its entries (${items.length})`);
  for (const item of items) {
    const e = tl.entries.find((x) => String(x.id) === item.id);
    assert.equal(item.time, fmt.format(new Date(e.at)), `entry ${e.id} (${e.action}) in ${ZONE}`);
  }
  assert.match(await page.getByTestId('times-in').textContent(), new RegExp(ZONE));
  await page.context().close();
});

test('the same story in Chinese', async () => {
  const page = await auditPage('zh-CN');
  const items = await page.getByTestId('timeline').locator('li .sentence').allTextContents();
  assert.ok(items.includes(`liwei 将第 2 项标为不符合：${NOTE}`), `the mark in Chinese: ${items.join(' | ')}`);
  assert.ok(items.includes('Wang Fang 加入了远程踏勘'), 'the applicant joined, in Chinese');
  const text = await visibleText(page);
  assert.doesNotMatch(text, /\b(failed|passed|joined|rejection|inspecting|rejection_pending)\b/, 'no English values');
  assert.match(await page.locator('#report-pdf').getAttribute('href'), /lang=zh-CN/, 'the PDF is asked for in the page\'s language');
  await page.context().close();
});

test('markers lie below the player, have a legend and shapes per kind; the drawing shows over its still; Enter seeks', async () => {
  const page = await auditPage('en');
  const geometry = await page.evaluate(() => {
    const v = document.querySelector('[data-testid=player]').getBoundingClientRect();
    const markers = [...document.querySelectorAll('[data-testid=markers] .marker')].map((m) => {
      const r = m.getBoundingClientRect();
      return { top: r.top, kind: m.dataset.kind, clip: getComputedStyle(m).clipPath, radius: getComputedStyle(m).borderRadius };
    });
    return { videoBottom: v.bottom, markers };
  });
  for (const m of geometry.markers)
    assert.ok(m.top >= geometry.videoBottom, `a marker (${m.kind}) at ${m.top} lies below the video (bottom ${geometry.videoBottom})`);
  const looks = new Map(geometry.markers.map((m) => [m.kind, `${m.clip}|${m.radius}`]));
  assert.ok(looks.size >= 3, `markers of several kinds: ${[...looks.keys()]}`);
  assert.equal(new Set(looks.values()).size, looks.size, `each kind its own shape: ${JSON.stringify([...looks])}`);
  const legend = page.getByTestId('legend');
  assert.ok(await legend.isVisible(), 'a legend is shown');
  for (const kind of looks.keys())
    assert.equal(await legend.locator(`.kind-${kind}`).count(), 1, `the legend names the ${kind} marker`);

  // the drawing: the still's shapes over the still's picture
  const drawing = await page.evaluate((id) => {
    const fig = document.querySelector(`figure.still[data-still="${id}"]`);
    if (!fig) return null;
    const img = fig.querySelector('img').getBoundingClientRect();
    const shapes = [...fig.querySelectorAll('svg.drawing-over > *')].map((s) => {
      const r = s.getBoundingClientRect();
      return { kind: s.dataset.kind, left: r.left, top: r.top, right: r.right, bottom: r.bottom, stroke: getComputedStyle(s).stroke };
    });
    return { img: { left: img.left, top: img.top, right: img.right, bottom: img.bottom, w: img.width }, shapes,
      visible: getComputedStyle(fig.querySelector('svg')).display !== 'none' };
  }, story.still.id);
  assert.ok(drawing, 'the captured still is in the story');
  assert.ok(drawing.visible && drawing.img.w > 50, 'the still is shown');
  assert.deepEqual(drawing.shapes.map((s) => s.kind), story.shapes.map((s) => s.kind), 'every shape drawn');
  for (const s of drawing.shapes) {
    assert.ok(s.left >= drawing.img.left - 2 && s.right <= drawing.img.right + 2 && s.top >= drawing.img.top - 2 &&
      s.bottom <= drawing.img.bottom + 2 && s.right - s.left > 5, `the ${s.kind} lies over the still: ${JSON.stringify([s, drawing.img])}`);
    assert.notEqual(s.stroke, 'none', 'and is stroked');
  }
  const box = drawing.shapes[0];
  const expectLeft = drawing.img.left + 0.2 * (drawing.img.right - drawing.img.left);
  assert.ok(Math.abs(box.left - expectLeft) < 4, `the box sits where it was drawn (${box.left} vs ${expectLeft})`);

  // the keyboard: Enter on the mark of item 2 plays its moment
  const tl = (await pageApi(page, '/api/cases/STORY-1/timeline')).body;
  const mark = tl.entries.find((e) => e.action === 'mark' && e.detail.item === '2');
  const seg = tl.recordings.filter((r) => r.url).find((r) => mark.at >= (r.media_started_at ?? r.started_at) &&
    mark.at <= (r.media_started_at ?? r.started_at) + r.duration_ms);
  assert.ok(seg, 'a segment holds the mark');
  const expected = (mark.at - (seg.media_started_at ?? seg.started_at)) / 1000;
  assert.ok(expected > 2, `the mark lies seconds into its segment (${expected})`);
  await page.waitForFunction(() => document.querySelector('[data-testid=player]').readyState >= 1);
  const item = page.getByTestId('timeline').locator(`li[data-action="mark"]`).filter({ hasText: 'item 2' })
    .locator('button.seek');
  await item.focus();
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'BUTTON', 'the entry is a button (tab order)');
  await page.keyboard.press('Enter');
  await page.waitForFunction(([id, at]) => {
    const v = document.querySelector('[data-testid=player]');
    return v.dataset.recording === String(id) && !v.seeking && Math.abs(v.currentTime - at) < 1;
  }, [seg.id, expected]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'audit-story-en-1366.png'), fullPage: true });
  await page.context().close();
});

test('the page fits a 390 px phone; screenshots in both languages', async () => {
  for (const lang of ['en', 'zh-CN']) {
    const phone = await auditPage(lang, { width: 390, height: 844 });
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    await phone.screenshot({ path: path.join(ARTIFACTS, `audit-story-${lang}-390.png`), fullPage: true });
    assert.ok(width <= 390, `${lang}: the page is ${width} px wide on a 390 px phone`);
    const geometry = await phone.evaluate(() => ({
      video: document.querySelector('[data-testid=player]').getBoundingClientRect().bottom,
      top: Math.min(...[...document.querySelectorAll('[data-testid=markers] .marker')].map((m) => m.getBoundingClientRect().top)) }));
    assert.ok(geometry.top >= geometry.video, `${lang}: markers below the video on the phone too`);
    await phone.context().close();
    if (lang === 'zh-CN') {
      const wide = await auditPage(lang);
      await wide.screenshot({ path: path.join(ARTIFACTS, 'audit-story-zh-CN-1366.png'), fullPage: true });
      await wide.context().close();
    }
  }
});

test('screenshots of the report and the lead\'s countersignature queue at 390×844 and 1366×768 in both languages', async () => {
  for (const lang of ['en', 'zh-CN'])
    for (const [size, viewport] of [['390x844', { width: 390, height: 844 }], ['1366x768', { width: 1366, height: 768 }]]) {
      const report = await server.newPage({ lang, viewport });
      await server.signIn(report, '/audit/', 'zhaomin');
      await report.goto(`${server.base}/report/#case=STORY-1`);
      await report.waitForFunction(() => !document.getElementById('report').classList.contains('hidden'));
      await report.waitForFunction((l) => document.documentElement.lang === l, lang);
      await report.screenshot({ path: path.join(ARTIFACTS, `report-${size}-${lang}.png`), fullPage: true });
      const wide = await report.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      assert.ok(wide <= 0, `the report at ${size} (${lang}) is ${wide} px wider than the screen`);
      await report.context().close();
      const lead = await server.newPage({ lang, viewport });
      await server.signIn(lead, '/review/', 'lijun');
      await lead.getByTestId('countersign-queue').locator('li', { hasText: 'STORY-1' }).waitFor();
      await lead.screenshot({ path: path.join(ARTIFACTS, `lead-queue-${size}-${lang}.png`), fullPage: true });
      await lead.context().close();
    }
});

test('consecutive views by one person are one line with their count and span; its entries open below it', async () => {
  const first = await auditPage('en');   // its player and stills are requests too: each one an audited view
  const tl0 = (await pageApi(first, '/api/cases/STORY-1/timeline')).body;
  const still = tl0.stills?.[0]?.url ?? (await pageApi(first, '/api/cases/STORY-1')).body.stills[0].url;
  for (let i = 0; i < 3; i++) await first.evaluate((u) => fetch(u, { cache: 'no-store' }).then((r) => r.arrayBuffer()), still);
  await first.context().close();
  const page = await auditPage('en');
  const tl = (await pageApi(page, '/api/cases/STORY-1/timeline')).body;
  const views = tl.entries.filter((e) => e.action.endsWith('.accessed') && e.actor === 'zhaomin');
  assert.ok(views.length >= 3, `the auditor's views are audited (${views.length})`);
  const lines = await page.getByTestId('timeline').locator(':scope > li').evaluateAll((els) => els.map((li) => ({
    action: li.dataset.action, count: Number(li.dataset.count || 1), entries: (li.dataset.entries || li.dataset.entry).split(' '),
    text: li.querySelector('.sentence').textContent })));
  // no two lines in a row are one person's views: they are folded
  const entryOf = new Map(tl.entries.map((e) => [String(e.id), e]));
  const isView = (l) => l.action === 'views' || l.action.endsWith('.accessed');
  for (let i = 1; i < lines.length; i++)
    if (isView(lines[i]) && isView(lines[i - 1]))
      assert.notEqual(entryOf.get(lines[i].entries[0]).actor, entryOf.get(lines[i - 1].entries[0]).actor,
        `lines ${i - 1} and ${i} are views by one person, not folded`);
  // (the page's own requests after it read the timeline are later entries than it shows)
  const last = Math.max(...lines.flatMap((l) => l.entries.map(Number)));
  assert.equal(lines.reduce((n, l) => n + l.count, 0), tl.entries.filter((e) => e.id <= last).length,
    'every entry is in exactly one line');
  const folded = lines.filter((l) => l.action === 'views' && entryOf.get(l.entries[0]).actor === 'zhaomin');
  assert.ok(folded.length >= 1 && folded.some((l) => l.count >= 3), JSON.stringify(folded));
  const line = folded.find((l) => l.count >= 3);
  const fmt = new Intl.DateTimeFormat('en', { timeZone: ZONE, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const [a, b] = [entryOf.get(line.entries[0]).at, entryOf.get(line.entries.at(-1)).at].map((t) => fmt.format(new Date(t)));
  assert.equal(line.text, `zhaomin viewed recordings or stills ${line.count} times, ${a}–${b}`);
  // its entries open below it, one sentence each
  const li = page.locator(`[data-testid=timeline] > li[data-action="views"][data-entry="${line.entries[0]}"]`);
  assert.ok(!(await li.locator('.views p').first().isVisible()), 'folded at first');
  await li.locator('summary').click();
  assert.equal(await li.locator('.views p').count(), line.count);
  assert.ok(await li.locator('.views p').first().isVisible());
  await page.context().close();
});
