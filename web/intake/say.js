// intake/say.js — status lines of the intake and administration pages that stay in the chosen
// language: each remembers its catalogue key and values, and is written again when the
// language changes (resay). Refusals are said by their stable error code (lib/errors.js's rule).
import { t } from '../lib/i18n.js';

export const fill = (text, vars = {}) => Object.entries(vars).reduce((s, [k, v]) => s.split(`{${k}}`).join(v), text);

export function say(el, key, vars = {}) {
  if (!key) { delete el.dataset.say; el.textContent = ''; return; }
  el.dataset.say = JSON.stringify([key, vars]);
  el.textContent = fill(t(key), vars);
}

// the server's {code, message} (null: unreachable) as a sentence, never the code or its English message
export function sayRefusal(el, body) {
  const key = body && body.code ? `error.${body.code}` : 'error.network';
  say(el, t(key) === key ? 'error.generic' : key);
}

export function resay(root = document) {
  for (const el of root.querySelectorAll('[data-say]')) {
    const [key, vars] = JSON.parse(el.dataset.say);
    el.textContent = fill(t(key), vars);
  }
}
