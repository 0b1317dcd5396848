// lib/i18n.js — picks zh-CN or English from the browser (switchable, remembered), fills data-i18n;
// and says values in the chosen language: stored codes (results, statuses, roles, departments,
// actions) through the catalogue, dates and numbers through Intl in the page's language (never
// the browser's locale) and in the bureau's time zone (setTimeZone, from /api/me or the timeline).
import en from '../i18n/en.js';
import zh from '../i18n/zh-CN.js';

const catalogs = { en, 'zh-CN': zh };
let lang = localStorage.getItem('kanyan.lang') ||
  ((navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en');
let zone;   // the bureau's IANA time zone; undefined: the browser's

export function t(key) {
  return (catalogs[lang] && catalogs[lang][key]) || en[key] || key;
}

// the chosen language ("zh-CN" or "en")
export function currentLang() { return lang; }

// t() with {name} placeholders filled from vars
export function tf(key, vars = {}) {
  return t(key).replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
}

// a stored code in words: tv('status', 'rectification_required') → "需整改"; an unknown code
// (a department the catalogue does not name) as it is
export function tv(kind, code) {
  if (code === null || code === undefined || code === '') return '';
  const key = `${kind}.${code}`;
  const text = t(key);
  return text === key ? String(code) : text;
}

// the zone times are shown in (an unknown name leaves the browser's)
export function setTimeZone(name) {
  try { new Intl.DateTimeFormat('en', { timeZone: name }); zone = name; } catch { zone = undefined; }
}
export function timeZone() { return zone || Intl.DateTimeFormat().resolvedOptions().timeZone; }

const formatters = new Map();
function formatter(kind) {
  const key = `${lang}|${zone}|${kind}`;
  if (!formatters.has(key)) {
    const opts = { timeZone: zone, hourCycle: 'h23',
      ...(kind === 'date' ? { year: 'numeric', month: '2-digit', day: '2-digit' }
        : kind === 'time' ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
          : kind === 'clock' ? { hour: '2-digit', minute: '2-digit' }
          : { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }) };
    formatters.set(key, new Intl.DateTimeFormat(lang, opts));
  }
  return formatters.get(key);
}
// epoch ms → "2026/12/03 14:05:09" (zh-CN) or "12/03/2026, 14:05:09" (en), in the bureau's zone
export function fmtDateTime(ms) { return ms ? formatter('datetime').format(new Date(ms)) : '–'; }
export function fmtTime(ms) { return ms ? formatter('time').format(new Date(ms)) : '–'; }
export function fmtClock(ms) { return ms ? formatter('clock').format(new Date(ms)) : '–'; }   // "14:05"
export function fmtDate(ms) { return ms ? formatter('date').format(new Date(ms)) : '–'; }
// a calendar day "2026-12-17" (a deadline, an acceptance: no time, no zone) in the page's language
export function fmtDay(iso) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso || '')) return iso || '–';
  return new Intl.DateTimeFormat(lang, { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(`${iso}T00:00:00Z`));
}
// a number in the page's language, with at most `digits` decimals
export function fmtNumber(n, digits = 0) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
}

export function applyTranslations(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  // a <select> of stored codes: each option says its code in words
  for (const el of root.querySelectorAll('select[data-i18n-values] option[value]:not([value=""])'))
    el.textContent = tv(el.parentElement.dataset.i18nValues, el.value);
}

export function installLanguageSwitch(button, onChange) {
  button.addEventListener('click', () => {
    lang = lang === 'en' ? 'zh-CN' : 'en';
    localStorage.setItem('kanyan.lang', lang);
    applyTranslations();
    if (onChange) onChange();
  });
}
