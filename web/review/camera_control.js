// review/camera_control.js — the reviewer's hands on the phone's camera (issue 18,
// docs/protocol.md): switch camera, torch, zoom out / in, and a click on the live video that
// either points there ("point here": a marker on the phone) or focuses there. Each is a
// `camera` command over the signaling; the phone's `camera_result` and `camera_caps` say what
// it did and what it can do. A control the phone cannot use is kept in the tab order but
// aria-disabled, with the reason beside it (shown on hover and focus, and read as its
// description). Without a mouse: the live video takes the focus while the phone is live, the
// arrow keys move a spot over it (drawn, and said in the status line) and Enter or Space
// points or focuses there. Fills <div id="camera-controls"> of review/index.html; review.js hands it
// every signaling message (onMessage), a way to send, and calls render() on a language switch.
import { t } from '../lib/i18n.js';
import { errorText } from '../lib/errors.js';

const CONTROLS = [   // [name, the action it sends, i18n key]
  ['facing', 'facing', 'camera.facing'],
  ['torch', 'torch', 'camera.torch'],
  ['zoom-out', 'zoom', 'camera.zoom_out'],
  ['zoom-in', 'zoom', 'camera.zoom_in'],
  ['point', 'point', 'camera.point'],
  ['focus', 'focus', 'camera.focus'],
];

export class CameraDesk {
  // box: the container; video: the live <video>; send(msg): a signaling message out
  constructor(box, video, send) {
    Object.assign(this, { box, video, send });
    this.serial = 0;
    this.counts = {};
    this.buttons = {};
    this.whys = {};
    const title = document.createElement('h3');
    title.id = 'camera-title';
    title.dataset.i18n = 'camera.title';
    box.setAttribute('role', 'group');
    box.setAttribute('aria-labelledby', 'camera-title');
    const row = document.createElement('div');
    row.className = 'controls camera-row';
    for (const [name, action, key] of CONTROLS) {
      const wrap = document.createElement('span');
      wrap.className = 'camera-ctl';
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.testid = `camera-${name}`;
      b.dataset.i18n = key;
      if (name === 'torch' || name === 'point' || name === 'focus') b.setAttribute('aria-pressed', 'false');
      const why = document.createElement('span');
      why.className = 'why';
      why.id = `camera-${name}-why`;
      why.dataset.testid = `camera-${name}-why`;
      why.setAttribute('role', 'tooltip');
      b.addEventListener('click', () => this.press(name, action));
      wrap.append(b, why);
      row.append(wrap);
      this.buttons[name] = b;
      this.whys[name] = why;
    }
    this.status = document.createElement('p');
    this.status.className = 'muted';
    this.status.dataset.testid = 'camera-status';
    this.status.setAttribute('role', 'status');
    const how = document.createElement('p');
    how.className = 'muted';
    how.id = 'camera-how';
    how.dataset.i18n = 'camera.how';
    box.append(title, row, how, this.status);
    video.addEventListener('click', (e) => this.onVideoClick(e));
    // the keyboard's spot over the video (normalised to its frame), drawn while the video has the focus
    this.keySpot = { x: 0.5, y: 0.5 };
    this.crosshair = document.createElement('div');
    this.crosshair.className = 'camera-spot hidden';
    this.crosshair.dataset.testid = 'camera-spot';
    video.after(this.crosshair);
    video.addEventListener('keydown', (e) => this.onVideoKey(e));
    video.addEventListener('focus', () => this.drawSpot());
    video.addEventListener('blur', () => this.crosshair.classList.add('hidden'));
    this.reset();
  }

  // another case or connection: nothing known of the phone
  reset() {
    this.present = false;
    this.caps = null;
    this.refused = {};     // action -> reason the phone gave (unsupported)
    this.facing = 'environment';
    this.torch = false;
    this.mode = 'point';   // what a click on the video does
    this.status.textContent = '';
    this.render();
  }

  // why a control cannot be used now; null: it can
  why(name, action) {
    if (!this.present) return t('camera.why.absent');
    if (action === 'point') return null;
    if (!this.caps) return t('camera.why.waiting');
    if (this.refused[action]) return t(`camera.why.${action}`);
    if (action === 'zoom') {
      if (!this.caps.zoom) return t('camera.why.zoom');
      if (name === 'zoom-in' && this.caps.zoom.value >= this.caps.zoom.max) return t('camera.why.zoom_max');
      if (name === 'zoom-out' && this.caps.zoom.value <= this.caps.zoom.min) return t('camera.why.zoom_min');
      return null;
    }
    return this.caps[action] ? null : t(`camera.why.${action}`);
  }

  render() {
    for (const el of this.box.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const [name, action] of CONTROLS) {
      const b = this.buttons[name], reason = this.why(name, action);
      b.setAttribute('aria-disabled', String(!!reason));
      this.whys[name].textContent = reason || '';
      if (reason) { b.title = reason; b.setAttribute('aria-describedby', this.whys[name].id); }
      else { b.removeAttribute('title'); b.removeAttribute('aria-describedby'); }
    }
    // the video is a control while the phone is live (clicks and keys point or focus there)
    if (this.present) { this.video.tabIndex = 0; this.video.setAttribute('aria-describedby', 'camera-how'); }
    else { this.video.removeAttribute('tabindex'); this.video.removeAttribute('aria-describedby'); }
    this.buttons.torch.setAttribute('aria-pressed', String(this.torch));
    this.buttons.point.setAttribute('aria-pressed', String(this.mode === 'point'));
    this.buttons.focus.setAttribute('aria-pressed', String(this.mode === 'focus'));
  }

  command(msg) {
    this.send({ type: 'camera', id: `camera-${++this.serial}`, ...msg });
  }

  press(name, action) {
    if (this.buttons[name].getAttribute('aria-disabled') === 'true') return;
    if (name === 'facing') this.command({ action, value: this.facing === 'environment' ? 'user' : 'environment' });
    else if (name === 'torch') this.command({ action, value: !this.torch });
    else if (action === 'zoom') {
      const z = this.caps.zoom, stride = Math.max(z.step || 0, (z.max - z.min) / 10);
      const next = name === 'zoom-in' ? Math.min(z.max, z.value + stride) : Math.max(z.min, z.value - stride);
      this.command({ action, value: Math.round(next * 1000) / 1000 });
    } else { this.mode = name; this.render(); }   // point, focus: what the next click on the video does
  }

  // the frame's box inside the video element (letterboxed: object-fit contain, a <video>'s default)
  frameBox() {
    const v = this.video, w = v.clientWidth, h = v.clientHeight;
    if (!v.videoWidth || !v.videoHeight || !w || !h) return null;
    const fit = getComputedStyle(v).objectFit;
    if (fit === 'fill') return { left: 0, top: 0, width: w, height: h };
    const scale = fit === 'cover' ? Math.max(w / v.videoWidth, h / v.videoHeight) : Math.min(w / v.videoWidth, h / v.videoHeight);
    const cw = v.videoWidth * scale, ch = v.videoHeight * scale;
    return { left: (w - cw) / 2, top: (h - ch) / 2, width: cw, height: ch };
  }

  drawSpot() {
    const box = this.frameBox();
    if (!box || !this.present) { this.crosshair.classList.add('hidden'); return; }
    this.crosshair.style.left = `${this.video.offsetLeft + box.left + this.keySpot.x * box.width}px`;
    this.crosshair.style.top = `${this.video.offsetTop + box.top + this.keySpot.y * box.height}px`;
    this.crosshair.classList.remove('hidden');
  }

  onVideoKey(e) {
    const step = e.shiftKey ? 0.01 : 0.05;
    const move = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    if (move) {
      e.preventDefault();
      const clamp = (n) => Math.min(1, Math.max(0, Math.round(n * 1000) / 1000));
      this.keySpot = { x: clamp(this.keySpot.x + move[0]), y: clamp(this.keySpot.y + move[1]) };
      this.drawSpot();
      this.status.textContent = t('camera.spot').replace('{x}', Math.round(this.keySpot.x * 100)).replace('{y}', Math.round(this.keySpot.y * 100));
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.act({ ...this.keySpot });
    }
  }

  // the click's spot on the video's own frame, normalised (0,0 its top left; the letterbox
  // bands of object-fit: contain, a <video>'s default, are not the frame); null: off the frame
  spot(e) {
    const v = this.video, r = v.getBoundingClientRect();
    if (!v.videoWidth || !v.videoHeight || !r.width || !r.height) return null;
    const fit = getComputedStyle(v).objectFit;
    let cw = r.width, ch = r.height;
    if (fit !== 'fill') {
      const scale = fit === 'cover' ? Math.max(r.width / v.videoWidth, r.height / v.videoHeight)
        : Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
      cw = v.videoWidth * scale; ch = v.videoHeight * scale;
    }
    const x = (e.clientX - r.left - (r.width - cw) / 2) / cw, y = (e.clientY - r.top - (r.height - ch) / 2) / ch;
    if (x < 0 || x > 1 || y < 0 || y > 1) return null;
    return { x: Math.round(x * 10000) / 10000, y: Math.round(y * 10000) / 10000 };
  }

  onVideoClick(e) {
    const spot = this.spot(e);
    if (spot) this.act(spot);
  }

  // point or focus (the chosen mode) at a spot of the frame
  act(spot) {
    const name = this.mode, action = name;
    if (this.why(name, action)) { this.status.textContent = this.why(name, action); return; }
    this.command({ action, ...spot });
  }

  onMessage(msg) {
    if (msg.type === 'joined') this.reset();
    else if (msg.type === 'state') {
      const present = msg.applicant === 'live';
      if (present !== this.present) { this.present = present; this.render(); if (!present) this.crosshair.classList.add('hidden'); }
    } else if (msg.type === 'camera_caps') {
      this.caps = { facing: msg.facing, torch: msg.torch, focus: msg.focus, zoom: msg.zoom ? { ...msg.zoom } : null };
      this.refused = {};
      this.render();
    } else if (msg.type === 'camera_result') this.onResult(msg);
    else if (msg.type === 'bye') { this.present = false; this.render(); }
    else if (msg.type === 'error' && typeof msg.id === 'string' && msg.id.startsWith('camera-'))
      this.status.textContent = errorText(msg);
  }

  onResult(msg) {
    const what = t(`camera.action.${msg.action}`);
    if (msg.ok) {
      if (msg.action === 'facing' && typeof msg.value === 'string') this.facing = msg.value;
      if (msg.action === 'torch') this.torch = msg.value === true;
      if (msg.action === 'zoom' && this.caps && this.caps.zoom && typeof msg.value === 'number') this.caps.zoom.value = msg.value;
      this.status.textContent = `${what}: ${t('camera.done')}`;
    } else {
      if (msg.reason === 'unsupported') this.refused[msg.action] = true;
      this.status.textContent = `${what}: ${t(`camera.reason.${msg.reason}`)}`;
    }
    // test hooks: the last outcome's action and result, and how many outcomes of that action came
    this.counts[msg.action] = (this.counts[msg.action] || 0) + 1;
    this.status.dataset.action = msg.action;
    this.status.dataset.result = msg.ok ? 'ok' : msg.reason;
    this.status.dataset.count = String(this.counts[msg.action]);
    this.render();
  }
}
