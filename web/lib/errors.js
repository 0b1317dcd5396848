// lib/errors.js — what the pages say when the server refuses: a sentence in the chosen language
// for each stable error code (docs/errors.md), never the code or the server's English message.
import { t } from './i18n.js';

// body: the server's {code, message} (or null when the server could not be reached)
export function errorText(body) {
  if (!body || !body.code) return t('error.network');
  const key = `error.${body.code}`;
  const text = t(key);
  return text === key ? t('error.generic') : text;
}
