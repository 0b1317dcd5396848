// review/slots.js — booking on the reviewer's desk (issue 18): the desk's list of today's and
// upcoming slots (every case the user may read, in time order), and for the open case
// (#case=REF) its slots with offering, booking for the applicant, moving and withdrawing (a
// reason asked for each change), and the invite's short link once one is made. Fills
// <section id="slots-desk"> and <section id="case-slots"> of review/index.html; review.js only
// tells it about a new invite (the `kanyan:invite` event) and the user's sign-in
// (`kanyan:signed-in`). Times are shown in the page's language and this browser's time zone,
// and sent as UTC instants.
import { t } from '../lib/i18n.js';
import { dateField, parseDateTime } from '../lib/dateinput.js';
import { api } from '../lib/session.js';
import { errorText } from '../lib/errors.js';

const desk = document.getElementById('slots-desk');
const box = document.getElementById('case-slots');
let deskSlots = [], caseSlots = [], note = '', shortUrl = '', current = null;

const el = (tag, props = {}, text = '') => {
  const node = Object.assign(document.createElement(tag), props);
  if (text) node.textContent = text;
  return node;
};
const lang = () => document.documentElement.lang || 'en';
const time = (ms, opts) => new Intl.DateTimeFormat(lang(), opts).format(new Date(ms));
const caseFromHash = () => new URLSearchParams(location.hash.slice(1)).get('case');
const dayKey = (ms) => { const d = new Date(ms); return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`; };

function renderDesk() {
  const today = dayKey(Date.now());
  const groups = [['slots.today', deskSlots.filter((s) => dayKey(s.starts_at) === today)],
    ['slots.upcoming', deskSlots.filter((s) => dayKey(s.starts_at) !== today)]];
  const parts = [el('h3', { id: 'slots-desk-title' }, t('slots.desk'))];
  if (!deskSlots.length) parts.push(el('p', { className: 'muted' }, t('slots.none')));
  for (const [key, list] of groups) {
    if (!list.length) continue;
    parts.push(el('h4', {}, t(key)));
    const ul = el('ul', { className: 'slots' });
    for (const s of list) {
      const li = el('li');
      Object.assign(li.dataset, { testid: 'desk-slot', slot: s.id, case: s.case, state: s.state });
      const link = el('a', { href: `#case=${encodeURIComponent(s.case)}` }, s.case);
      li.append(`${time(s.starts_at, key === 'slots.today' ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' })} `,
        link, ` · ${t(`slot.state.${s.state}`)}`);
      ul.append(li);
    }
    parts.push(ul);
  }
  desk.replaceChildren(...parts);
  desk.classList.remove('hidden');   // hidden until the first answer: never an empty card
}

async function loadDesk() {
  const r = await api('/api/slots');
  if (!r.ok) return;   // not signed in yet: the next round
  deskSlots = r.body.slots;
  renderDesk();
}

// a day and a time as typed (the chosen language's format, or ISO: lib/dateinput.js), in this
// browser's time zone, as a UTC instant
const instant = (text) => parseDateTime(text);

async function change(path, body, done) {
  const r = await api(`/api/cases/${encodeURIComponent(current)}/slots${path}`, body);
  note = r.ok ? (done ? t(done) : '') : errorText(r.body);
  await Promise.all([loadCase(), loadDesk()]);
}

// What a move, a withdrawal or a re-booking needs (a new time; the reason, which the applicant
// and the audit log see), asked in a modal <dialog> — keyboard-operable, Escape cancels, the
// focus goes back to the button. Resolves to {at, reason}, or null when cancelled.
let dialog = null;
function ask(title, withTime) {
  if (!dialog) {
    dialog = el('dialog', { className: 'confirm', id: 'slot-dialog' });
    dialog.dataset.testid = 'slot-dialog';
    dialog.append(el('h3', { id: 'slot-dialog-title' }),
      el('label', { htmlFor: 'slot-dialog-at', id: 'slot-dialog-at-label' }, t('slots.at')),
      el('input', { type: 'text', id: 'slot-dialog-at' }),
      el('label', { htmlFor: 'slot-dialog-reason' }, t('slots.reason')),
      el('textarea', { id: 'slot-dialog-reason', rows: 2 }),
      el('p', { className: 'error', id: 'slot-dialog-error', role: 'alert' }),
      el('div', { className: 'controls' }));
    dialog.lastChild.append(el('button', { type: 'button', id: 'slot-dialog-cancel' }, t('desk.cancel')),
      el('button', { type: 'button', id: 'slot-dialog-ok', className: 'primary' }, t('slots.ok')));
    dialog.setAttribute('aria-labelledby', 'slot-dialog-title');
    document.body.append(dialog);
    dateField(dialog.querySelector('#slot-dialog-at'), { time: true });
  }
  const opener = document.activeElement;
  const q = (id) => dialog.querySelector(`#slot-dialog-${id}`);
  q('title').textContent = title;
  q('at').hidden = q('at-label').hidden = !withTime;
  if (q('at-hint')) q('at-hint').hidden = !withTime;
  q('at').value = '';
  q('reason').value = '';
  q('error').textContent = '';
  return new Promise((resolve) => {
    const finish = (value) => {
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected) opener.focus();
      resolve(value);
    };
    q('cancel').onclick = () => finish(null);
    dialog.oncancel = (e) => { e.preventDefault(); finish(null); };   // Escape
    q('ok').onclick = () => {
      const at = withTime ? instant(q('at').value) : null;
      const reason = q('reason').value.trim();
      if ((withTime && !at) || !reason) { q('error').textContent = t('slots.needed'); return; }
      finish({ at, reason });
    };
    dialog.showModal();
    (withTime ? q('at') : q('reason')).focus();
  });
}

function slotItem(s) {
  const li = el('li', {}, `${time(s.starts_at, { dateStyle: 'medium', timeStyle: 'short' })} · ${s.minutes} min · ` +
    `${t(`slot.state.${s.state}`)}${s.booked_by ? ` (${s.booked_by})` : ''}${s.reason ? ` — ${s.reason}` : ''} `);
  Object.assign(li.dataset, { testid: 'case-slot', slot: s.id, state: s.state });
  if (s.state === 'cancelled') return li;
  if (s.state === 'offered') {
    const book = el('button', {}, t('slots.book'));
    book.dataset.testid = 'slot-book';
    book.addEventListener('click', async () => {
      const other = caseSlots.some((o) => o.state === 'booked');
      const asked = other ? await ask(t('slots.book'), false) : { reason: '' };
      if (asked) change(`/${s.id}/book`, asked.reason ? { reason: asked.reason } : {});
    });
    li.append(book);
  }
  const move = el('button', {}, t('slots.move'));
  move.addEventListener('click', async () => {
    const asked = await ask(t('slots.move'), true);
    if (asked) change(`/${s.id}/move`, { at: asked.at, minutes: s.minutes, reason: asked.reason });
  });
  const withdraw = el('button', {}, t('slots.withdraw'));
  withdraw.addEventListener('click', async () => {
    const asked = await ask(t('slots.withdraw'), false);
    if (asked) change(`/${s.id}/cancel`, { reason: asked.reason });
  });
  li.append(move, withdraw);
  return li;
}

// the case's part: built once (the form keeps what is typed); refreshes replace the list, the
// note and the short link only
let form = null;
function build() {
  const title = el('h3');
  const ul = el('ul', { className: 'slots' });
  const at = el('input', { type: 'text', id: 'slot-at' });
  at.dataset.testid = 'slot-at';
  const minutes = el('input', { type: 'number', id: 'slot-minutes', min: 5, max: 480, value: 30 });
  minutes.dataset.testid = 'slot-minutes';
  const offer = el('button', { type: 'button' });
  offer.dataset.testid = 'slot-offer';
  offer.addEventListener('click', () => {
    const when = instant(at.value);
    if (!when) { note = t('error.bad_field'); renderCase(); return; }
    change('', { at: when, minutes: Number(minutes.value) || 30 }, 'slots.offered');
  });
  const atLabel = el('label', { htmlFor: 'slot-at' }), minutesLabel = el('label', { htmlFor: 'slot-minutes' });
  const status = el('p', { className: 'muted' });
  status.setAttribute('role', 'status');
  status.dataset.testid = 'slot-note';
  const shortLabel = el('label', { htmlFor: 'invite-short' });
  const short = el('input', { className: 'invite-url', readOnly: true, id: 'invite-short' });
  short.dataset.testid = 'invite-short';
  box.replaceChildren(title, ul, atLabel, at, minutesLabel, minutes, offer, status, shortLabel, short);
  dateField(at, { time: true });   // after it is in the page: its hint goes beside it
  form = { title, ul, offer, atLabel, minutesLabel, status, shortLabel, short };
}

function renderCase() {
  if (!current) { box.classList.add('hidden'); return; }
  if (!form) build();
  form.title.textContent = t('slots.case');
  form.ul.replaceChildren(...caseSlots.map(slotItem));
  form.offer.textContent = t('slots.offer');
  form.atLabel.textContent = t('slots.at');
  form.minutesLabel.textContent = t('slots.minutes');
  form.status.textContent = note;
  form.shortLabel.textContent = t('slots.short');
  form.short.value = shortUrl;
  form.shortLabel.classList.toggle('hidden', !shortUrl);
  form.short.classList.toggle('hidden', !shortUrl);
  box.classList.remove('hidden');
}

async function loadCase() {
  if (!current) { renderCase(); return; }
  const ref = current;
  const r = await api(`/api/cases/${encodeURIComponent(ref)}/slots`);
  if (ref !== current) return;
  caseSlots = r.ok ? r.body.slots : [];
  renderCase();
}

function follow() {
  const ref = caseFromHash();
  if (ref === current) return;
  current = ref;
  caseSlots = [];
  note = '';
  shortUrl = '';
  loadCase();
}

if (desk && box) {
  follow();
  loadDesk();
  setInterval(() => { loadDesk(); loadCase(); }, 5000);
  document.addEventListener('kanyan:signed-in', () => { loadDesk(); loadCase(); });   // review.js
  window.addEventListener('hashchange', follow);
  document.addEventListener('kanyan:invite', (e) => { shortUrl = e.detail.short_url || ''; renderCase(); });
  document.getElementById('lang')?.addEventListener('click', () => setTimeout(() => { renderDesk(); renderCase(); }, 0));
}
