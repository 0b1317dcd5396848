// apply/camera_control.js — the reviewer's hands on this phone's camera (issue 18,
// docs/protocol.md): the server's `camera` commands — switch camera, torch, zoom, focus at a
// point, "point here" — applied as far as this browser can (applyConstraints with torch, zoom,
// pointsOfInterest; the other camera's track put in place with RTCRtpSender.replaceTrack, so
// the stream flows on without renegotiation), each answered with `camera_result` (what could
// not be done, and why); and `camera_caps`, what this camera can do, told once streaming and
// after each switch. "Point here" shows a marker over the preview for a few seconds at the
// normalised spot of the frame the reviewer sees (the sent frame: the preview shows the same
// pixels), placed through the preview's object-fit and mirroring and placed again when the
// preview's size changes (the phone turned: the frame's width and height swap, the normalised
// spot stays). apply.js keeps the stream, the connection and the signaling; this module only
// swaps the video track and talks through the `send` it is given.
import { t } from '../lib/i18n.js';

const MARKER_MS = 4000;

export class PhoneCamera {
  // preview: the <video> of the local stream (inside a positioned box that gets the marker);
  // getStream, getPc: apply.js's current stream and peer connection; send: a signaling message out
  constructor({ preview, getStream, getPc, send }) {
    Object.assign(this, { preview, getStream, getPc, send });
    this.facing = 'environment';
    this.point = null;          // {x, y} shown now, normalised
    this.markerTimer = null;
    this.marker = document.createElement('div');
    this.marker.className = 'point-marker hidden';
    this.marker.dataset.testid = 'point-marker';
    this.marker.setAttribute('role', 'status');
    this.marker.setAttribute('aria-live', 'polite');
    this.markerText = document.createElement('span');   // said to a screen reader, not drawn
    this.marker.append(this.markerText);
    preview.parentElement.append(this.marker);
    preview.addEventListener('resize', () => this.placeMarker());   // new frame size (rotation, another camera)
    window.addEventListener('resize', () => this.placeMarker());
  }

  track() {
    const stream = this.getStream();
    return stream ? stream.getVideoTracks()[0] : null;
  }

  // what this camera can do, as camera_caps says it
  async capabilities() {
    const track = this.track();
    const caps = track && track.getCapabilities ? track.getCapabilities() : {};
    const settings = track && track.getSettings ? track.getSettings() : {};
    const supported = navigator.mediaDevices.getSupportedConstraints ? navigator.mediaDevices.getSupportedConstraints() : {};
    const cameras = (await navigator.mediaDevices.enumerateDevices().catch(() => [])).filter((d) => d.kind === 'videoinput');
    const zoom = caps.zoom && typeof caps.zoom.min === 'number' && caps.zoom.max > caps.zoom.min
      ? { min: caps.zoom.min, max: caps.zoom.max, step: caps.zoom.step || 0.1, value: settings.zoom ?? caps.zoom.min } : null;
    return {
      facing: cameras.length >= 2,
      torch: caps.torch === true || (Array.isArray(caps.torch) && caps.torch.includes(true)),
      focus: !!supported.pointsOfInterest && this.focusMode(caps) !== null,
      zoom,
    };
  }

  // the focus mode that focuses at a point of interest: once, or continuously; null: none
  focusMode(caps) {
    const modes = Array.isArray(caps.focusMode) ? caps.focusMode : [];
    return modes.includes('single-shot') ? 'single-shot' : modes.includes('continuous') ? 'continuous' : null;
  }

  async announce() {
    if (!this.track()) return;
    const caps = await this.capabilities();
    this.lastCaps = caps;
    this.send({ type: 'camera_caps', ...caps });
  }

  onMessage(msg) {
    if (msg.type !== 'camera') return;
    this.apply(msg).then((outcome) => {
      this.send({ type: 'camera_result', request: msg.request, ...outcome });
      if (msg.action === 'facing' && outcome.ok) this.announce();   // another camera, other abilities
    });
  }

  // one command: {ok, value?} or {ok: false, reason}
  async apply(msg) {
    const track = this.track();
    if (msg.action === 'point') return this.showPoint(msg.x, msg.y);
    if (!track || track.readyState !== 'live') return { ok: false, reason: 'failed' };
    const caps = this.lastCaps || await this.capabilities();
    const constrain = async (set) => track.applyConstraints({ advanced: [set] })
      .then(() => null, (err) => (err && err.name === 'OverconstrainedError' ? 'unsupported' : 'failed'));
    if (msg.action === 'facing') return this.switchTo(msg.value);
    if (msg.action === 'torch') {
      if (!caps.torch) return { ok: false, reason: 'unsupported' };
      const reason = await constrain({ torch: msg.value });
      return reason ? { ok: false, reason } : { ok: true, value: msg.value };
    }
    if (msg.action === 'zoom') {
      if (!caps.zoom) return { ok: false, reason: 'unsupported' };
      if (msg.value < caps.zoom.min || msg.value > caps.zoom.max) return { ok: false, reason: 'out_of_range' };
      const reason = await constrain({ zoom: msg.value });
      if (reason) return { ok: false, reason };
      caps.zoom.value = track.getSettings().zoom ?? msg.value;
      return { ok: true, value: caps.zoom.value };
    }
    if (msg.action === 'focus') {
      const mode = this.focusMode(track.getCapabilities ? track.getCapabilities() : {});
      if (!caps.focus || !mode) return { ok: false, reason: 'unsupported' };
      const reason = await constrain({ pointsOfInterest: [{ x: msg.x, y: msg.y }], focusMode: mode });
      return reason ? { ok: false, reason } : { ok: true };
    }
    return { ok: false, reason: 'unsupported' };
  }

  // The other camera: by facing mode where the browser names it, else (a camera that does not
  // say which way it faces) the next camera of the list. A phone that cannot open two cameras at
  // once (NotReadableError) lets the old one go first; if the new one fails then, the old one is
  // opened again. The new track goes to the sender with replaceTrack: no renegotiation.
  async switchTo(want) {
    const stream = this.getStream();
    const old = this.track();
    if (!stream || !old) return { ok: false, reason: 'failed' };
    const oldSettings = old.getSettings ? old.getSettings() : {};
    const cameras = (await navigator.mediaDevices.enumerateDevices().catch(() => [])).filter((d) => d.kind === 'videoinput');
    if (cameras.length < 2) return { ok: false, reason: 'unsupported' };
    if (oldSettings.facingMode === want) return { ok: true, value: want };
    const size = { width: { ideal: 1280 }, height: { ideal: 720 }, zoom: true };
    let video;
    if (oldSettings.facingMode) video = { ...size, facingMode: { exact: want } };
    else {
      const at = cameras.findIndex((d) => d.deviceId === oldSettings.deviceId);
      video = { ...size, deviceId: { exact: cameras[(at + 1) % cameras.length].deviceId } };
    }
    const open = (v) => navigator.mediaDevices.getUserMedia({ video: v }).then((s) => s.getVideoTracks()[0]);
    let track = null, reason = null;
    try { track = await open(video); } catch (err) {
      if (err.name === 'OverconstrainedError' || err.name === 'NotFoundError') reason = 'unsupported';
      else if (err.name === 'NotReadableError') {
        old.stop();
        track = await open(video).catch(() => null);
        if (!track) {   // the old camera back, so the inspection goes on
          const back = await open({ ...size, deviceId: { exact: oldSettings.deviceId } }).catch(() => null);
          if (back) await this.replace(stream, old, back);
          return { ok: false, reason: 'busy' };
        }
      } else reason = 'failed';
    }
    if (!track) return { ok: false, reason };
    if (track.getSettings().deviceId === oldSettings.deviceId) { track.stop(); return { ok: false, reason: 'unsupported' }; }
    await this.replace(stream, old, track);
    this.facing = track.getSettings().facingMode || want;
    return { ok: true, value: this.facing };
  }

  async replace(stream, old, track) {
    const pc = this.getPc();
    const sender = pc && pc.getSenders().find((s) => s.track === old || (s.track && s.track.kind === 'video'));
    if (sender) await sender.replaceTrack(track);
    stream.removeTrack(old);
    old.stop();
    stream.addTrack(track);
    this.preview.srcObject = stream;
  }

  // "point here": the marker at (x, y) of the frame for MARKER_MS
  showPoint(x, y) {
    this.point = { x, y };
    this.marker.dataset.x = String(x);
    this.marker.dataset.y = String(y);
    this.markerText.textContent = t('camera.point.shown');
    this.marker.classList.remove('hidden');
    this.placeMarker();
    clearTimeout(this.markerTimer);
    this.markerTimer = setTimeout(() => { this.point = null; this.marker.classList.add('hidden'); }, MARKER_MS);
    return { ok: true };
  }

  // where (x, y) of the frame is drawn in the preview box: object-fit (cover crops, contain
  // letterboxes, fill stretches) about object-position's centre, then the mirror (a transform
  // that flips the preview flips the spot)
  placeMarker() {
    if (!this.point) return;
    const v = this.preview;
    const w = v.clientWidth, h = v.clientHeight, vw = v.videoWidth || w, vh = v.videoHeight || h;
    const style = getComputedStyle(v);
    let cw = w, ch = h;
    if (style.objectFit === 'cover' || style.objectFit === 'contain' || style.objectFit === 'none' || style.objectFit === 'scale-down') {
      const scale = style.objectFit === 'cover' ? Math.max(w / vw, h / vh) : Math.min(w / vw, h / vh);
      cw = vw * scale; ch = vh * scale;
    } else if (style.objectFit !== 'fill') {   // a <video>'s own default letterboxes
      const scale = Math.min(w / vw, h / vh);
      cw = vw * scale; ch = vh * scale;
    }
    let px = (w - cw) / 2 + this.point.x * cw;
    const py = (h - ch) / 2 + this.point.y * ch;
    const m = style.transform && style.transform !== 'none' ? new DOMMatrix(style.transform) : null;
    if (m && m.a < 0) px = w - px;
    // a spot cropped away by cover is shown at the nearest edge, and says so
    const clipped = px < 0 || px > w || py < 0 || py > h;
    this.marker.dataset.clipped = String(clipped);
    this.marker.style.left = `${v.offsetLeft + Math.max(0, Math.min(w, px))}px`;
    this.marker.style.top = `${v.offsetTop + Math.max(0, Math.min(h, py))}px`;
  }
}
