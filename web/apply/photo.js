// apply/photo.js — photo-grade evidence on the applicant's phone (issue 18): a reviewer's
// `photo_request` {id, item, key} shows a prompt naming the item; "Take photo" captures the
// camera at its full resolution (ImageCapture.takePhoto) or, where the browser has no
// ImageCapture or it fails, the live video track's current frame drawn on a canvas at the
// track's own size; a picture that is neither JPEG nor PNG (HEIC) is redrawn as a JPEG. It goes
// to POST /api/invite/photos with the invite and the request's id and key (docs/api.md), with
// the phone's location when it gives one. Builds its own prompt inside #live; never touches
// the live connection (apply.js owns it). Test hook: #photo-request[data-state] (docs/pages.md).
import { t, tf } from '../lib/i18n.js';
import { errorText } from '../lib/errors.js';

const SENT_SHOWN_MS = 4000;
let ctx = null, box = null, pending = null, state = 'idle', failure = null, hideTimer = null;

function el(tag, id, testid) {
  const node = document.createElement(tag);
  if (id) node.id = id;
  if (testid) node.dataset.testid = testid;
  return node;
}

// options: {caseRef, token, stream: () => MediaStream|null, itemTitle: (position) => string}
export function installPhoto(options) {
  ctx = options;
  box = el('section', 'photo-request', 'photo-request');
  box.className = 'card hidden';
  box.setAttribute('role', 'alertdialog');
  box.setAttribute('aria-labelledby', 'photo-ask');
  const ask = el('p', 'photo-ask', 'photo-ask');
  const status = el('p', 'photo-status', 'photo-status');
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  const take = el('button', 'photo-take', 'photo-take');
  take.type = 'button';
  take.className = 'primary';
  take.addEventListener('click', capture);
  const later = el('button', 'photo-later', 'photo-later');
  later.type = 'button';
  later.addEventListener('click', () => { pending = null; setState('idle'); });
  const controls = el('div');
  controls.className = 'controls';
  controls.append(take, later);
  box.append(ask, controls, status);
  const live = document.getElementById('live');
  live.insertBefore(box, live.querySelector('.preview'));
  render();
}

// the signaling socket brought {type: "photo_request", id, item, key, expires_at, max_bytes}
export function photoRequested(msg) {
  pending = msg;
  failure = null;
  setState('asked');
}

function setState(next) {
  state = next;
  clearTimeout(hideTimer);
  if (next === 'sent') hideTimer = setTimeout(() => { if (state === 'sent') setState('idle'); }, SENT_SHOWN_MS);
  render();
}

// (again after a language switch)
export function render() {
  if (!box) return;
  box.dataset.state = state;
  box.classList.toggle('hidden', state === 'idle');
  const title = pending ? ctx.itemTitle(pending.item) : '';
  box.querySelector('#photo-ask').textContent = pending ? tf('apply.photo.asked', { item: title }) : '';
  const take = box.querySelector('#photo-take');
  take.textContent = t(state === 'failed' ? 'apply.photo.again' : 'apply.photo.take');
  take.disabled = !pending || state === 'taking' || state === 'sending';
  take.hidden = state === 'sent';
  const later = box.querySelector('#photo-later');
  later.textContent = t('apply.photo.later');
  later.hidden = state === 'sent' || state === 'taking' || state === 'sending';
  const words = { taking: t('apply.photo.taking'), sending: t('apply.photo.sending'), sent: t('apply.photo.sent'),
    failed: failure ? `${t('apply.photo.failed')} ${failure}` : t('apply.photo.failed') };
  box.querySelector('#photo-status').textContent = words[state] || '';
}

// the track's current frame at its own size: the fallback where ImageCapture is missing or fails
async function frameOf(track) {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  await video.play();
  if (!video.videoWidth) await new Promise((resolve) => video.addEventListener('loadeddata', resolve, { once: true }));
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  video.srcObject = null;
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
}

// anything the server does not take (HEIC, WebP) redrawn as a JPEG of the same size
async function asJpeg(blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
}

// where the phone is, if it says so within a few seconds (the last minute's fix will do)
function position() {
  if (!navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => navigator.geolocation.getCurrentPosition(
    (pos) => resolve(pos.coords), () => resolve(null), { enableHighAccuracy: true, timeout: 5000, maximumAge: 60000 }));
}

async function capture() {
  const request = pending;
  const stream = ctx.stream();
  const track = stream && stream.getVideoTracks()[0];
  if (!request || !track) return;
  setState('taking');
  let blob = null;
  if (window.ImageCapture) {
    try { blob = await new ImageCapture(track).takePhoto(); } catch { blob = null; }
  }
  try {
    if (!blob || !blob.size) blob = await frameOf(track);
    if (blob && blob.type !== 'image/jpeg' && blob.type !== 'image/png') blob = await asJpeg(blob);
  } catch { blob = null; }
  if (!blob) { failure = null; setState('failed'); return; }
  setState('sending');
  const where = await position();
  const query = new URLSearchParams({ case: ctx.caseRef, request: String(request.id), key: request.key });
  if (where) { query.set('lat', String(where.latitude)); query.set('lon', String(where.longitude)); query.set('accuracy', String(Math.round(where.accuracy))); }
  const resp = await fetch(`/api/invite/photos?${query}`, { method: 'POST', body: blob,
    headers: { Authorization: `Bearer ${ctx.token}`, 'Content-Type': blob.type } }).catch(() => null);
  if (pending !== request) return;   // a newer request came meanwhile: its prompt stays
  if (resp && resp.ok) { pending = null; setState('sent'); return; }
  const body = resp ? await resp.json().catch(() => null) : null;
  failure = errorText(body);
  if (body && (body.code === 'photo_request_used' || body.code === 'photo_request_expired' || body.code === 'photo_not_requested'))
    pending = null;   // this request cannot be answered any more: the reviewer asks again
  setState('failed');
}
