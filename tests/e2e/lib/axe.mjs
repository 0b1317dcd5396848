// lib/axe.mjs — the accessibility check of a page: axe-core (npm, tests/node_modules) injected
// into the page as it is (its CSP untouched), run at the WCAG 2.x A and AA rules (2.0, 2.1, 2.2). Returns the
// violations (an empty list when there are none) and writes them, when there are any, to
// tests/e2e/artifacts/axe-LABEL.json. Reused by every page's test (applicant, reviewer desk,
// lead queue, report; auditor and admin pages too).
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS } from './staff.mjs';

const require = createRequire(import.meta.url);
// its source, evaluated in the page through the DevTools protocol: the pages' Content Security
// Policy (script-src 'self') refuses an injected <script>, and rightly
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export async function checkAxe(page, label) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })) }));
  }, WCAG_TAGS);
  if (violations.length)
    writeFileSync(path.join(ARTIFACTS, `axe-${label.replace(/[^a-zA-Z0-9-]+/g, '-')}.json`), JSON.stringify(violations, null, 2));
  return violations;
}

// A violation list in a line each, for an assertion's message.
export const describeViolations = (violations) => violations
  .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target).join(', ')}`).join('\n');
