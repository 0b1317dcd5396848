// review/checklist.js — the required items of the open case beside the video: each with
// pass / fail / not shown and a note; marks from every reviewer appear as they are made.
import { t } from '../lib/i18n.js';
import { api } from '../lib/session.js';

const RESULTS = ['pass', 'fail', 'not_shown'];

export class Checklist {
  constructor(list, onError) {
    this.list = list;
    this.onError = onError;
    this.caseRef = null;
    this.items = [];
    this.stills = [];
    this.canMark = false;
    this.onOpenStill = null;   // (still) => void: the drawing dialog
    // what the signaling socket brought: a case fetched before a mark or still was made can
    // answer after its message came (or before the list exists), and must not undo it
    this.liveMarks = new Map();   // position -> the newest mark message (by id)
    this.liveStills = [];
  }

  show(caseRef, detail) {
    if (this.caseRef && caseRef !== this.caseRef) { this.liveMarks.clear(); this.liveStills = []; }   // another case
    this.caseRef = caseRef;
    this.items = detail.items;
    this.stills = detail.stills || [];
    this.session = detail.sessions && detail.sessions.length ? detail.sessions[detail.sessions.length - 1].id : null;
    this.canMark = detail.can.includes('mark');
    for (const item of this.items) {
      const live = this.liveMarks.get(item.position);
      if (live && live.session === this.session && (!item.mark || item.mark.id < live.id)) item.mark = live;
    }
    for (const still of this.liveStills)
      if (!this.stills.some((s) => s.id === still.id)) this.stills.push(still);
    this.render();
  }

  // a `still` message from the signaling socket
  addStill(still) {
    if (!this.liveStills.some((s) => s.id === still.id)) this.liveStills.push(still);
    if (!this.stills.some((s) => s.id === still.id)) this.stills.push(still);
    this.render();
  }

  // a `mark` message from the signaling socket
  apply(mark) {
    const known = this.liveMarks.get(mark.item);
    if (!known || known.id < mark.id) this.liveMarks.set(mark.item, mark);
    const item = this.items.find((i) => i.position === mark.item);
    if (!item || (item.mark && item.mark.id > mark.id)) return;
    item.mark = mark;
    this.render();
  }

  render() {
    const zh = document.documentElement.lang === 'zh-CN';
    this.list.replaceChildren(...this.items.map((item) => {
      const li = document.createElement('li');
      li.dataset.item = item.position;
      li.className = `item ${item.mark ? item.mark.result : 'unmarked'}`;
      const title = document.createElement('div');
      title.className = 'item-title';
      title.textContent = zh ? item.title_zh : item.title_en;
      li.append(title);
      // parallel approval: an item of another department is marked by its co-reviewer
      const mine = this.canMark && item.may_mark !== false;
      if (item.department) {
        const dept = document.createElement('span');
        dept.className = 'muted department';
        dept.dataset.testid = 'item-department';
        dept.textContent = `${t('review.department')} ${item.department}`;
        title.append(' ', dept);
      }
      const group = document.createElement('div');
      group.className = 'marks';
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', title.textContent);
      const note = document.createElement('input');
      note.type = 'text';
      note.className = 'note';
      note.placeholder = t('review.note');
      note.setAttribute('aria-label', `${t('review.note')}: ${title.textContent}`);
      note.value = item.mark ? item.mark.note : '';
      note.disabled = !mine;
      for (const result of RESULTS) {
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset.result = result;
        b.textContent = t(`mark.${result}`);
        b.setAttribute('aria-pressed', String(!!item.mark && item.mark.result === result));
        b.disabled = !mine;
        if (this.canMark && !mine) b.title = t('review.not_yours');
        b.addEventListener('click', () => this.mark(item.position, result, note.value));
        group.append(b);
      }
      const capture = document.createElement('button');
      capture.type = 'button';
      capture.className = 'capture';
      capture.dataset.testid = 'capture';
      capture.textContent = t('review.capture');
      capture.disabled = !this.canMark;
      capture.addEventListener('click', () => this.capture(item.position, capture));
      group.append(capture);
      li.append(group, note);
      const thumbs = document.createElement('div');
      thumbs.className = 'thumbs';
      for (const still of this.stills.filter((s) => s.item === item.position)) {
        const img = document.createElement('img');
        img.src = still.url;
        img.alt = `${t('review.still')} ${still.id}`;
        img.dataset.still = still.id;
        img.tabIndex = 0;
        img.title = `${still.by} · ${formatMedia(still.media_ms || 0)} · SHA-256 ${still.sha256.slice(0, 12)}…`;
        const open = () => this.onOpenStill && this.onOpenStill(still);
        img.addEventListener('click', open);
        img.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
        thumbs.append(img);
      }
      li.append(thumbs);
      if (item.mark) {
        const who = document.createElement('div');
        who.className = 'muted who';
        const at = item.mark.media_ms != null ? ` · ${formatMedia(item.mark.media_ms)}` : '';
        who.textContent = `${item.mark.by} · ${new Date(item.mark.at).toLocaleTimeString()}${at}`;
        li.append(who);
      }
      return li;
    }));
  }

  async capture(item, button) {
    button.disabled = true;
    button.textContent = t('review.capturing');
    const r = await api(`/api/cases/${encodeURIComponent(this.caseRef)}/stills`, { item });
    button.disabled = false;
    button.textContent = t('review.capture');
    if (!r.ok) this.onError(r.body);   // the page turns it into a sentence (lib/errors.js)
    else this.addStill(r.body);
  }

  async mark(item, result, note) {
    const r = await api(`/api/cases/${encodeURIComponent(this.caseRef)}/marks`, { item, result, note });
    if (!r.ok) this.onError(r.body);
  }
}

export function formatMedia(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
