// apply/waiting.js — the applicant's waiting room (issue 18, item 2; docs/protocol.md): the page
// joins with "wait": true and, while the server says `waiting`, sends nothing — it says when the
// reviewer will join (the booked slot, in the applicant's language, or "shortly"), keeps the
// camera's local preview (apply.js's), shows the microphone's level and the connection check,
// and on `admitted` announces it in a live region; apply.js then sends its offer. Once admitted,
// the page joins without waiting for the rest of its life (a reconnect resumes at once).
// Builds its own elements inside <section id="live">; touches nothing else of apply.js.
import { t, tf, currentLang } from '../lib/i18n.js';
import { preflight } from './preflight.js';

const el = (tag, props = {}, text = '') => {
  const node = Object.assign(document.createElement(tag), props);
  if (text) node.textContent = text;
  return node;
};

export class WaitingRoom {
  // stream(): the camera and microphone apply.js opened; setState(code): apply.js's status line
  constructor({ stream, setState }) {
    this.stream = stream;
    this.setState = setState;
    this.admittedOnce = false;
    this.waiting = false;
    this.slotAt = null;
    this.check = null;
    this.meter = null;   // { ctx, timer } while the level is shown
    // the announcement stays in the page after the card goes, so a screen reader hears it
    this.note = el('p', { className: 'waiting-note', role: 'status' });
    this.note.setAttribute('aria-live', 'polite');
    this.note.dataset.testid = 'waiting-note';
    this.card = el('section', { className: 'card waiting hidden', id: 'waiting' });
    this.card.dataset.testid = 'waiting';
    this.card.setAttribute('aria-labelledby', 'waiting-title');
    const live = document.getElementById('live');
    const anchor = document.getElementById('status-line');
    live.insertBefore(this.note, anchor);
    live.insertBefore(this.card, anchor);
  }

  // the join's extra fields: wait until admitted, unless this page was admitted already
  joinFields() {
    return this.admittedOnce ? {} : { wait: true };
  }

  // `joined`: true when the page must wait (no offer yet)
  onJoined(msg) {
    if (!msg.waiting) {
      if (this.waiting) this.leave();
      if (msg.role === 'applicant' && msg.waiting === false) this.admittedOnce = true;
      return false;
    }
    this.waiting = true;
    this.slotAt = msg.slot_at || null;
    this.setState('waiting');
    this.render();
    this.card.classList.remove('hidden');
    this.startMeter();
    if (!this.check) this.runCheck(msg.iceServers);
    return true;
  }

  // `admitted`: true when the page was waiting (apply.js sends its offer now)
  onAdmitted(msg) {
    const was = this.waiting;
    this.admittedOnce = true;
    this.leave();
    if (was) {
      this.note.textContent = t('apply.waiting.admitted');
      this.note.dataset.admitted = 'true';
    }
    return was;
  }

  // the page stops waiting (admitted, ended)
  leave() {
    this.waiting = false;
    this.card.classList.add('hidden');
    this.stopMeter();
  }

  when() {
    if (!this.slotAt || this.slotAt <= Date.now()) return t('apply.waiting.shortly');
    const at = new Date(this.slotAt);
    const today = at.toDateString() === new Date().toDateString();
    const time = new Intl.DateTimeFormat(currentLang(), today ? { timeStyle: 'short' } : { dateStyle: 'full', timeStyle: 'short' })
      .format(at);
    return tf('apply.waiting.at', { time });
  }

  render() {
    if (this.note.dataset.admitted) this.note.textContent = t('apply.waiting.admitted');
    if (!this.waiting) return;
    const when = el('p', { className: 'waiting-when' }, this.when());
    when.dataset.testid = 'waiting-when';
    const level = el('meter', { id: 'mic-level', min: 0, max: 1, value: 0 });
    level.dataset.testid = 'mic-level';
    const label = el('label', { htmlFor: 'mic-level' }, `${t('apply.waiting.mic')} `);
    const check = el('p', { className: 'check' });
    check.dataset.testid = 'waiting-check';
    check.dataset.result = this.check ? this.check.result : 'running';
    check.append(el('strong', {}, t('check.title')), `: ${t(`check.${this.check ? this.check.result : 'running'}`)}`);
    this.card.replaceChildren(el('h2', { id: 'waiting-title' }, t('apply.waiting.title')), when,
      el('p', { className: 'muted' }, t('apply.waiting.idle')), el('p').appendChild(label).parentNode, check);
    label.after(level);
    if (this.meter) this.meter.level = level;
  }

  async runCheck(iceServers) {
    if (!window.RTCPeerConnection) return;
    this.check = await preflight(iceServers);
    this.render();
  }

  // the microphone's level, a few times a second, while waiting (a WebAudio analyser: nothing sent)
  startMeter() {
    const stream = this.stream();
    const track = stream && stream.getAudioTracks()[0];
    if (this.meter || !track || !window.AudioContext) return;
    try {
      const ctx = new AudioContext();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 512;
      ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      this.meter = { ctx, level: this.card.querySelector('meter') };
      this.meter.timer = setInterval(() => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += s * s;
        if (this.meter && this.meter.level) this.meter.level.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      }, 150);
    } catch { this.meter = null; }
  }

  stopMeter() {
    if (!this.meter) return;
    clearInterval(this.meter.timer);
    this.meter.ctx.close().catch(() => {});
    this.meter = null;
  }
}
