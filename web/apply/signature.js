// apply/signature.js — the applicant acknowledges receipt of a notice (issue 18): a name and a
// signature drawn with a finger (or the mouse, or a pen) on a canvas, sent as strokes — arrays of
// [x, y] points from 0 to 1 of the 5:2 box — with the invite token; the server builds the SVG
// from them. Keyboard-only (or anyone who cannot draw): tick "sign with my typed name" and the
// typed name is the signature. Fills <section id="signature"> of apply/index.html; learns the
// invite from apply.js's `kanyan:invite` event (each time the page fetches it, and the closed
// case's answer: a countersigned rejection's notice is signed under the outcome); touches nothing
// of apply.js.
import { t, fmtDateTime } from '../lib/i18n.js';
import { errorText } from '../lib/errors.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.hash.slice(1));
const caseRef = params.get('case');
const token = params.get('token');
const MAX_POINTS = 3000, MAX_STROKES = 60, MIN_STEP = 0.004;
let strokes = [], current = null, invite = null, total = 0;

const pad = $('sig-pad');
const ctx = pad.getContext('2d');

function redraw() {
  ctx.clearRect(0, 0, pad.width, pad.height);
  ctx.lineWidth = 3; ctx.lineCap = 'round'; ctx.lineJoin = 'round'; ctx.strokeStyle = '#000';
  for (const s of strokes) {
    ctx.beginPath();
    s.forEach(([x, y], i) => (i ? ctx.lineTo(x * pad.width, y * pad.height) : ctx.moveTo(x * pad.width, y * pad.height)));
    if (s.length === 1) ctx.lineTo(s[0][0] * pad.width + 0.1, s[0][1] * pad.height);
    ctx.stroke();
  }
  pad.dataset.strokes = String(strokes.length);   // test hook: how many strokes are drawn
}

// a pointer's place in the box, 0..1 (rounded: the server keeps 4 decimals)
function point(e) {
  const r = pad.getBoundingClientRect();
  const clamp = (v) => Math.min(1, Math.max(0, Math.round(v * 10000) / 10000));
  return [clamp((e.clientX - r.left) / r.width), clamp((e.clientY - r.top) / r.height)];
}

pad.addEventListener('pointerdown', (e) => {
  if (strokes.length >= MAX_STROKES || total >= MAX_POINTS) return;
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  current = [point(e)];
  total++;
  strokes.push(current);
  redraw();
});
pad.addEventListener('pointermove', (e) => {
  if (!current || total >= MAX_POINTS) return;
  const p = point(e), last = current[current.length - 1];
  if (Math.hypot(p[0] - last[0], p[1] - last[1]) < MIN_STEP) return;
  current.push(p);
  total++;
  redraw();
});
for (const type of ['pointerup', 'pointercancel']) pad.addEventListener(type, () => { current = null; });

function clearPad() { strokes = []; total = 0; current = null; redraw(); }

function render() {
  const box = $('signature');
  if (!invite || !invite.ack_notice) { box.classList.add('hidden'); return; }
  box.classList.remove('hidden');
  const ack = invite.acknowledgement;
  $('sig-form').classList.toggle('hidden', !!ack);
  $('sig-done').classList.toggle('hidden', !ack);
  if (ack) $('sig-done').textContent = t('sign.done').replace('{name}', ack.name).replace('{at}', fmtDateTime(ack.at));
}

async function submit(event) {
  event.preventDefault();
  const name = $('sig-name').value.trim();
  const typed = $('sig-typed').checked;
  if (!name) { $('sig-result').textContent = t('sign.need.name'); $('sig-name').focus(); return; }
  if (!typed && !strokes.length) { $('sig-result').textContent = t('sign.need.drawing'); return; }
  $('sig-submit').disabled = true;
  const body = typed ? { name, typed: true, notice: invite.ack_notice } : { name, strokes, notice: invite.ack_notice };
  const resp = await fetch(`/api/invite/acknowledge?case=${encodeURIComponent(caseRef)}`, { method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    .catch(() => null);
  const answer = resp ? await resp.json().catch(() => null) : null;
  $('sig-submit').disabled = false;
  if (resp && (resp.ok || (answer && answer.code === 'already_acknowledged')) && answer.acknowledgement) {
    invite = { ...invite, acknowledgement: answer.acknowledgement };
    $('sig-result').textContent = '';
    render();
    $('sig-done').focus();
  } else {
    $('sig-result').textContent = errorText(answer);
  }
}

// drawing or typing: the checkbox says which; the canvas is not needed for a typed signature
$('sig-typed').addEventListener('change', () => { $('sig-draw').classList.toggle('hidden', $('sig-typed').checked); });
$('sig-clear').addEventListener('click', clearPad);
$('sig-form').addEventListener('submit', submit);
document.addEventListener('kanyan:invite', (e) => { invite = e.detail; render(); });
redraw();
