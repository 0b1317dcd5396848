// review/waiting.js — the desk's side of the waiting room (issue 18, item 2; docs/protocol.md):
// while the open case's applicant waits to be let in (`state` `waiting`), a banner says since
// when (and the booked time: admitting before it calls the applicant in early), with an Admit
// button that sends `admit`; a new wait is also announced by a short sound (WebAudio; when the
// browser's autoplay rules keep it silent, the banner alone does it). Builds its own banner after
// the desk's hint line; touches nothing else of review.js.
import { t, tf, currentLang, timeZone, fmtClock } from '../lib/i18n.js';

export class DeskWaiting {
  // send(msg): on the desk's signaling socket; current(): the open case's reference
  constructor({ send, current }) {
    this.send = send;
    this.current = current;
    this.state = null;   // the last `state` while it says `waiting`
    this.box = document.createElement('div');
    this.box.className = 'waiting-cue hidden';
    this.box.dataset.testid = 'waiting-desk';
    this.box.setAttribute('role', 'alert');
    this.text = document.createElement('p');
    this.text.dataset.testid = 'waiting-since';
    this.slot = document.createElement('p');
    this.slot.className = 'muted';
    this.button = document.createElement('button');
    this.button.className = 'primary';
    this.button.dataset.testid = 'admit';
    this.button.addEventListener('click', () => this.admit());
    this.box.append(this.text, this.slot, this.button);
    document.getElementById('hint').after(this.box);
    this.audio = null;
  }

  // every signaling message of the desk passes here first
  onMessage(msg) {
    if (msg.type === 'state') {
      const fresh = msg.applicant === 'waiting' && (!this.state || this.state.waiting_since !== msg.waiting_since);
      this.state = msg.applicant === 'waiting' ? msg : null;
      this.render();
      if (fresh) this.cue();
    } else if (msg.type === 'admitted' || msg.type === 'bye') {
      this.state = null;
      this.render();
    } else if (msg.type === 'error' && msg.code === 'nobody_waiting') {
      this.button.disabled = false;
    }
  }

  reset() {
    this.state = null;
    this.render();
  }

  render() {
    const s = this.state;
    this.box.classList.toggle('hidden', !s);
    document.body.classList.toggle('applicant-waiting', !!s);
    if (!s) return;
    this.text.textContent = tf('review.wait.since', { time: fmtClock(s.waiting_since) });
    const early = s.slot_at && Date.now() < s.slot_at;
    this.slot.textContent = s.slot_at ? tf(early ? 'review.wait.early' : 'review.wait.slot', { time: this.slotText(s.slot_at) }) : '';
    this.slot.hidden = !s.slot_at;
    this.button.textContent = t(early ? 'review.wait.call' : 'review.wait.admit');
    this.button.disabled = false;
  }

  // the booked time: the time alone today, else the day too
  slotText(ms) {
    const at = new Date(ms);
    if (at.toDateString() === new Date().toDateString()) return this.hm(ms);
    return new Intl.DateTimeFormat(currentLang(), { dateStyle: 'medium', timeStyle: 'short', timeZone: timeZone() }).format(at);
  }

  admit() {
    const ref = this.current();
    if (!ref || !this.state) return;
    this.button.disabled = true;   // until the state changes, or the server refuses
    this.send({ type: 'admit', case: ref });
  }

  // two short tones; the banner's dataset says whether the browser let them sound
  async cue() {
    try {
      this.audio = this.audio || new AudioContext();
      if (this.audio.state === 'suspended') await Promise.race([this.audio.resume(), new Promise((r) => setTimeout(r, 300))]);
      if (this.audio.state !== 'running') { this.box.dataset.sound = 'blocked'; return; }
      const now = this.audio.currentTime;
      for (const [at, freq] of [[0, 880], [0.25, 660]]) {
        const osc = this.audio.createOscillator();
        const gain = this.audio.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, now + at);
        gain.gain.exponentialRampToValueAtTime(0.2, now + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.2);
        osc.connect(gain).connect(this.audio.destination);
        osc.start(now + at);
        osc.stop(now + at + 0.22);
      }
      this.box.dataset.sound = 'played';
    } catch {
      this.box.dataset.sound = 'blocked';
    }
  }
}
