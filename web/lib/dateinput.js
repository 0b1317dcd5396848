// lib/dateinput.js — a date (or a date and a time) typed in the chosen language's format. An
// <input type=date> or datetime-local shows the browser's locale, not the language chosen on the
// page (issue 16), so these fields are text: the format is their placeholder and a hint below
// them ("Format: 2026/12/31 14:30" in zh-CN, "12/31/2026 14:30" in English, as fmtDay writes a
// day), what is typed is checked on leaving the field, and a language switch rewrites what was
// typed in the new format. Accepted in either language: that format, the other one, and ISO
// (2026-12-31, 2026-12-31T14:30). Owns the fields it is given and their hints, nothing else.
import { tf, fmtDay } from './i18n.js';

const EXAMPLE = '2026-12-31';
const fields = new Map();   // field → its hint

// "YYYY-MM-DD" for a real calendar day typed as ISO, YYYY/MM/DD (or 年月日) or MM/DD/YYYY; else null
export function parseDay(text) {
  const s = (text || '').trim();
  let m = s.match(/^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/), y, mo, d;
  if (m) [, y, mo, d] = m;
  else if ((m = s.match(/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/))) [, mo, d, y] = m;
  else return null;
  const iso = `${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(iso) ? iso : null;
}

// a day and a time (HH:MM, after a space, a comma or a T) in this browser's time zone → the UTC
// instant as ISO text; null when either part is not one
export function parseDateTime(text) {
  const m = (text || '').trim().match(/^(.+?)[\sT,]+(\d{1,2}):(\d{2})$/);
  const day = m && parseDay(m[1].replace(/,$/, ''));
  if (!day || Number(m[2]) > 23 || Number(m[3]) > 59) return null;
  const at = new Date(`${day}T${m[2].padStart(2, '0')}:${m[3]}`);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

const example = (input) => `${fmtDay(EXAMPLE)}${input.dataset.dateField === 'datetime' ? ' 14:30' : ''}`;

// what the field holds, in the chosen language's format (unchanged when it is not a date)
function rewrite(input) {
  const v = input.value.trim();
  if (!v) return;
  if (input.dataset.dateField === 'day') { const day = parseDay(v); if (day) input.value = fmtDay(day); return; }
  const m = v.match(/^(.+?)[\sT,]+(\d{1,2}):(\d{2})$/);
  const day = m && parseDay(m[1].replace(/,$/, ''));
  if (day) input.value = `${fmtDay(day)} ${m[2].padStart(2, '0')}:${m[3]}`;
}

function label(input) {
  input.placeholder = example(input);
  const hint = fields.get(input);
  if (hint) hint.textContent = tf('date.format', { example: example(input) });
}

// true when the field is empty or holds a date (and time) as asked; says so on the field otherwise
export function checkDateField(input) {
  const v = input.value.trim();
  const ok = !v || (input.dataset.dateField === 'day' ? parseDay(v) : parseDateTime(v)) !== null;
  input.setCustomValidity(ok ? '' : tf('date.bad', { example: example(input) }));
  if (ok) input.removeAttribute('aria-invalid'); else input.setAttribute('aria-invalid', 'true');
  return ok;
}

// Makes `input` (with an id, and a parent) a text field for a day, or a day and a time (`time`),
// with its hint after it (id INPUT-hint, read out with the field).
export function dateField(input, { time = false } = {}) {
  if (fields.has(input)) return input;
  input.type = 'text';
  input.inputMode = 'numeric';
  input.autocomplete = 'off';
  input.dataset.dateField = time ? 'datetime' : 'day';
  const hint = Object.assign(document.createElement('span'), { id: `${input.id}-hint`, className: 'muted date-hint' });
  input.after(hint);
  input.setAttribute('aria-describedby', hint.id);
  input.addEventListener('blur', () => { rewrite(input); checkDateField(input); });
  input.addEventListener('input', () => { if (input.validationMessage) checkDateField(input); });
  fields.set(input, hint);
  label(input);
  return input;
}

// a language switch (applyTranslations sets <html lang>): the hints, placeholders and what was typed follow
new MutationObserver(() => {
  for (const input of fields.keys()) if (input.isConnected) { rewrite(input); label(input); }
}).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
