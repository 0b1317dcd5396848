// apply/booking.js — the applicant's inspection time (issue 18): the slots the reviewer
// offered, picking one (a second pick moves the booking, with a reason), cancelling, and the
// booked time in the applicant's language with a calendar file (.ics) to add to the phone.
// Fills <section id="booking"> of apply/index.html; the invite token (the URL's fragment) is
// its only credential, as for the rest of this page. Touches nothing of apply.js.
import { t } from '../lib/i18n.js';
import { errorText } from '../lib/errors.js';

const box = document.getElementById('booking');
const params = new URLSearchParams(location.hash.slice(1));
const caseRef = params.get('case');
const token = params.get('token');
const auth = { Authorization: `Bearer ${token}` };
let slots = [], icsUrl = null, note = '';

const el = (tag, props = {}, text = '') => {
  const node = Object.assign(document.createElement(tag), props);
  if (text) node.textContent = text;
  return node;
};

// the slot's time in the page's language, in this phone's time zone
function when(slot) {
  const lang = document.documentElement.lang || 'en';
  const day = new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'short' }).format(new Date(slot.starts_at));
  return `${day} (${t('booking.minutes').replace('{n}', slot.minutes)})`;
}

async function call(path, body) {
  const url = `/api/invite/slots${path}${path.includes('?') ? '&' : '?'}case=${encodeURIComponent(caseRef)}`;
  const opts = body === undefined ? { headers: auth }
    : { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const resp = await fetch(url, opts).catch(() => null);
  if (!resp) return { ok: false, body: null };
  const parsed = await resp.json().catch(() => null);
  return { ok: resp.ok, body: parsed };
}

// the calendar file of the booked slot, fetched with the token (a plain link could not carry it)
async function calendarLink(slot) {
  const resp = await fetch(`/api/invite/slots/${slot.id}/ics?case=${encodeURIComponent(caseRef)}`, { headers: auth })
    .catch(() => null);
  if (!resp || !resp.ok) return null;
  if (icsUrl) URL.revokeObjectURL(icsUrl);
  icsUrl = URL.createObjectURL(new Blob([await resp.arrayBuffer()], { type: 'text/calendar' }));
  const a = el('a', { href: icsUrl, download: `inspection-${caseRef}.ics`, className: 'button' }, t('booking.ics'));
  a.dataset.testid = 'ics-download';
  return a;
}

async function act(path, body, done) {
  const r = await call(path, body);
  note = r.ok ? t(done) : errorText(r.body);
  await load();
}

function reasonValue() {
  const input = document.getElementById('booking-reason');
  return input ? input.value.trim() : '';
}

async function render() {
  const booked = slots.find((s) => s.state === 'booked');
  const offered = slots.filter((s) => s.state === 'offered');
  const parts = [el('h2', { id: 'booking-title' }, t('booking.title'))];
  if (booked) {
    const p = el('p', {}, `${t('booking.booked')} `);
    const strong = el('strong', {}, when(booked));
    strong.dataset.testid = 'booked-time';
    strong.dataset.slot = booked.id;
    p.append(strong);
    parts.push(p);
    const link = await calendarLink(booked);
    if (link) parts.push(el('p').appendChild(link).parentNode);
  } else if (!offered.length) {
    parts.push(el('p', { className: 'muted' }, t('booking.none')));
  }
  if (offered.length) {
    parts.push(el('p', {}, t('booking.offered')));
    const list = el('ul', { className: 'slots' });
    for (const slot of offered) {
      const li = el('li', {}, `${when(slot)} `);
      li.dataset.testid = 'offered-slot';
      li.dataset.slot = slot.id;
      const pick = el('button', {}, t('booking.pick'));
      pick.dataset.testid = 'slot-pick';
      pick.addEventListener('click', () => {
        const reason = reasonValue();
        if (booked && !reason) { note = t('booking.reason.needed'); render(); return; }
        act(`/${slot.id}/pick`, reason ? { reason } : {}, 'booking.picked');
      });
      li.append(pick);
      list.append(li);
    }
    parts.push(list);
  }
  if (booked) {
    const label = el('label', { htmlFor: 'booking-reason' }, t('booking.reason'));
    const reason = el('input', { id: 'booking-reason', type: 'text', maxLength: 500 });
    reason.dataset.testid = 'booking-reason';
    const cancel = el('button', {}, t('booking.cancel'));
    cancel.dataset.testid = 'booking-cancel';
    cancel.addEventListener('click', () => {
      const why = reasonValue();
      if (!why) { note = t('booking.reason.needed'); render(); return; }
      act(`/${booked.id}/cancel`, { reason: why }, 'booking.cancelled');
    });
    parts.push(label, reason, cancel);
  }
  const status = el('p', { className: 'muted' }, note);
  status.setAttribute('role', 'status');
  status.dataset.testid = 'booking-note';
  parts.push(status);
  box.replaceChildren(...parts);
  box.classList.remove('hidden');
}

async function load() {
  const r = await call('', undefined);
  if (!r.ok || !r.body) { box.classList.add('hidden'); return; }   // apply.js says what is wrong with the link
  slots = r.body.slots;
  await render();
}

if (box && caseRef && token) {
  load();
  setInterval(() => { if (!document.getElementById('booking-reason')?.value) load(); }, 15000);   // newly offered times
  document.getElementById('lang')?.addEventListener('click', () => setTimeout(render, 0));
}
