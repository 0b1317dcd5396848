// lib/i18n.js — picks zh-CN or English from the browser (switchable, remembered), fills data-i18n.
import en from '../i18n/en.js';
import zh from '../i18n/zh-CN.js';

const catalogs = { en, 'zh-CN': zh };
let lang = localStorage.getItem('kanyan.lang') ||
  ((navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en');

export function t(key) {
  return (catalogs[lang] && catalogs[lang][key]) || en[key] || key;
}

export function applyTranslations(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}

export function installLanguageSwitch(button, onChange) {
  button.addEventListener('click', () => {
    lang = lang === 'en' ? 'zh-CN' : 'en';
    localStorage.setItem('kanyan.lang', lang);
    applyTranslations();
    if (onChange) onChange();
  });
}
