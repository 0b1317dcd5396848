// lib/home.js — the landing page: translations and the language switch.
import { applyTranslations, installLanguageSwitch } from './i18n.js';
applyTranslations();
installLanguageSwitch(document.getElementById('lang'));
