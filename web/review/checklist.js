// review/checklist.js — the required items of the open case beside the video: each with
// pass / fail / not shown and a note; marks from every reviewer appear as they are made.
// Nothing typed is lost: a note is saved as it is typed (NOTE_PAUSE_MS after the last key),
// when its field is left and on Enter — as the item's mark again, with its current result
// (POST …/marks, docs/api.md) — and says so beside the field; until the server has it, it is
// kept in this browser (localStorage), so a reload brings it back. A row is built once per
// case and updated in place: what others mark is merged into it, and a field holding text not
// yet saved is never overwritten. Never touches the rest of the page (review.js does).
import { t, tv, fmtTime } from '../lib/i18n.js';
import { api } from '../lib/session.js';
import { errorText } from '../lib/errors.js';

const RESULTS = ['pass', 'fail', 'not_shown'];
const NOTE_PAUSE_MS = 1500;   // a pause in typing this long saves the note (each save is an audited mark: not every word)
const STATE_TEXT = { saving: 'review.note.saving', saved: 'review.note.saved', unsaved: 'review.note.needs_result',
  failed: 'review.note.failed' };

function el(tag, className, testid) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (testid) node.dataset.testid = testid;
  return node;
}

// a note not yet saved, kept per case and item (with its live inspection: a later one starts clean)
const draftKey = (caseRef, position) => `kanyan.note.${caseRef}.${position}`;
function readDraft(caseRef, position) {
  try { return JSON.parse(localStorage.getItem(draftKey(caseRef, position))); } catch { return null; }
}
function writeDraft(caseRef, position, session, text) {
  try { localStorage.setItem(draftKey(caseRef, position), JSON.stringify({ session, text })); } catch { /* full or off */ }
}
function dropDraft(caseRef, position) {
  try { localStorage.removeItem(draftKey(caseRef, position)); } catch { /* off */ }
}

export class Checklist {
  constructor(list, onError) {
    this.list = list;
    this.onError = onError;
    this.caseRef = null;
    this.items = [];
    this.stills = [];
    this.canMark = false;
    this.onOpenStill = null;   // (still) => void: the drawing dialog
    this.onRender = null;      // (items) => void: the page's summary of the marks, after each update
    this.onBuildRow = null;    // (row) => void: more controls in a new row (photo.js)
    this.onFillRow = null;     // (row, item, mine) => void: and brought up to date with it
    // what the signaling socket brought: a case fetched before a mark or still was made can
    // answer after its message came (or before the list exists), and must not undo it
    this.liveMarks = new Map();   // position -> the newest mark message (by id)
    this.liveStills = [];
    this.rows = new Map();        // position -> the row's elements and its note's saving state
    this.builtFor = null;         // the case and positions the rows were built for
  }

  show(caseRef, detail) {
    if (this.caseRef && caseRef !== this.caseRef) {   // another case
      this.liveMarks.clear(); this.liveStills = [];
      for (const row of this.rows.values()) if (row.timer) this.flush(row);   // saved to the case it was typed for
    }
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
    // the case again (a rejoin after the server or the link came back): a note the server
    // refused or never got is tried again
    for (const row of this.rows.values())
      if (row.dirty && row.stateKey === 'failed' && !row.timer && !row.busy) this.flush(row);
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

  // Builds the rows for a new case (or a new set of items), then brings every row up to date in
  // place; also after a language switch.
  render() {
    const shape = `${this.caseRef}|${this.items.map((i) => i.position).join(',')}`;
    if (shape !== this.builtFor) {
      this.rows = new Map(this.items.map((item) => [item.position, this.buildRow(item.position)]));
      this.list.replaceChildren(...[...this.rows.values()].map((row) => row.li));
      this.builtFor = shape;
    }
    for (const item of this.items) this.fill(this.rows.get(item.position), item);
    if (this.onRender) this.onRender(this.items);
  }

  buildRow(position) {
    const row = { position, caseRef: this.caseRef, li: el('li'), title: el('span'), dept: el('span', 'muted department', 'item-department'),
      group: el('div', 'marks'), buttons: [], capture: el('button', 'capture', 'capture'),
      why: el('p', 'muted why', 'not-yours'), note: el('input', 'note'), state: el('span', 'muted note-state', 'note-state'),
      thumbs: el('div', 'thumbs'), who: el('div', 'muted who'),
      known: null,      // the server's mark of the item as this page last heard it: {result, note}
      dirty: false,     // the field holds text the server does not have yet
      result: null,     // a result clicked, not yet sent
      timer: null, busy: false, again: false, stateKey: '', stateBody: null, restored: false, capturing: false };
    row.li.dataset.item = position;
    const title = el('div', 'item-title');
    title.append(row.title, ' ', row.dept);
    row.group.setAttribute('role', 'group');
    row.why.id = `not-yours-${position}`;
    for (const result of RESULTS) {
      const b = el('button');
      b.type = 'button';
      b.dataset.result = result;
      b.addEventListener('click', () => this.mark(position, result));
      row.buttons.push(b);
      row.group.append(b);
    }
    row.capture.type = 'button';
    row.capture.addEventListener('click', () => this.capture(position, row.capture));
    row.group.append(row.capture);
    row.note.type = 'text';
    row.note.maxLength = 2000;   // the server's limit of a note (docs/api.md)
    row.note.addEventListener('input', () => this.typed(row));
    row.note.addEventListener('blur', () => { if (row.dirty || row.timer) this.flush(row); });
    row.note.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.flush(row); });
    row.state.setAttribute('aria-live', 'polite');
    row.li.append(title, row.group, row.why, row.note, row.state, row.thumbs, row.who);
    if (this.onBuildRow) this.onBuildRow(row);
    return row;
  }

  // one row brought up to date with its item; the note only while it holds nothing unsaved
  fill(row, item) {
    const zh = document.documentElement.lang === 'zh-CN';
    const mark = item.mark;
    row.li.className = `item ${mark ? mark.result : 'unmarked'}`;
    row.title.textContent = zh ? item.title_zh : item.title_en;
    row.dept.textContent = item.department ? `${t('review.department')} ${tv('dept', item.department)}` : '';
    row.dept.hidden = !item.department;
    row.group.setAttribute('aria-label', row.title.textContent);
    // parallel approval: an item of another department is marked by its co-reviewer
    const mine = this.canMark && item.may_mark !== false;
    const theirs = this.canMark && !mine;
    row.why.hidden = !theirs;
    row.why.textContent = theirs ? t('review.not_yours') : '';
    for (const b of row.buttons) {
      b.textContent = t(`mark.${b.dataset.result}`);
      b.setAttribute('aria-pressed', String(!!mark && mark.result === b.dataset.result));
      b.disabled = !mine;
      if (theirs) { b.title = t('review.not_yours'); b.setAttribute('aria-describedby', row.why.id); }
      else { b.removeAttribute('title'); b.removeAttribute('aria-describedby'); }
    }
    if (!row.capturing) {
      row.capture.textContent = t('review.capture');
      row.capture.disabled = !this.canMark;
    }
    row.note.placeholder = t('review.note');
    row.note.setAttribute('aria-label', `${t('review.note')}: ${row.title.textContent}`);
    if (row.note.disabled !== !mine) row.note.disabled = !mine;
    row.known = mark ? { result: mark.result, note: mark.note } : null;
    if (!row.dirty) {
      const text = mark ? mark.note : '';
      if (row.note.value !== text) {   // someone else's note: theirs to vouch for, not "saved" by this page
        row.note.value = text;
        this.setState(row, '');
      }
    }
    if (!row.restored && this.session !== null && row.caseRef === this.caseRef) this.restore(row, mark);
    this.setState(row, row.stateKey, row.stateBody);   // in the language now chosen
    this.fillThumbs(row, item.position);
    if (this.onFillRow) this.onFillRow(row, item, mine);
    row.who.hidden = !mark;
    if (mark) {
      const at = mark.media_ms != null ? ` · ${formatMedia(mark.media_ms)}` : '';
      row.who.textContent = `${mark.by} · ${fmtTime(mark.at)}${at}`;
    }
  }

  // a note this browser kept before a reload (not yet saved) comes back into its field
  restore(row, mark) {
    row.restored = true;
    const draft = readDraft(row.caseRef, row.position);
    if (!draft || draft.session !== this.session || row.dirty || row.note.disabled) return;
    if (draft.text === (mark ? mark.note : '')) { dropDraft(row.caseRef, row.position); return; }
    row.note.value = draft.text;
    this.typed(row);
  }

  fillThumbs(row, position) {
    for (const still of this.stills.filter((s) => s.item === position)) {
      let img = row.thumbs.querySelector(`img[data-still="${still.id}"]`);
      if (!img) {
        img = el('img');
        img.src = still.url;
        img.dataset.still = still.id;
        img.tabIndex = 0;
        img.setAttribute('role', 'button');   // it opens the drawing dialog: Enter or Space
        const open = () => this.onOpenStill && this.onOpenStill(still);
        img.addEventListener('click', open);
        img.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
        row.thumbs.append(img);
      }
      const photo = still.source === 'photo';   // a photograph the phone took on request (photo.js)
      img.dataset.source = photo ? 'photo' : 'video';
      img.alt = `${t(photo ? 'review.photo' : 'review.still')} ${still.id}`;
      img.title = photo ? `${t('review.photo')} · ${still.width}×${still.height} · ${fmtTime(still.at)} · SHA-256 ${still.sha256.slice(0, 12)}…`
        : `${still.by} · ${formatMedia(still.media_ms || 0)} · SHA-256 ${still.sha256.slice(0, 12)}…`;
    }
  }

  setState(row, key, body = null) {
    row.stateKey = key;
    row.stateBody = body;
    row.state.dataset.state = key;
    const text = key ? t(STATE_TEXT[key]) : '';
    const why = key === 'failed' ? ` ${errorText(body)}` : '';
    if (row.state.textContent !== text + why) row.state.textContent = text + why;
  }

  // the reviewer typed in a note: kept here at once, saved after a pause (once a result is known)
  typed(row) {
    row.dirty = true;
    writeDraft(row.caseRef, row.position, this.session, row.note.value);
    clearTimeout(row.timer);
    row.timer = null;
    if (!row.result && !row.known) { this.setState(row, 'unsaved'); return; }   // saved with the result, once clicked
    this.setState(row, 'saving');
    row.timer = setTimeout(() => this.flush(row), NOTE_PAUSE_MS);
  }

  // Sends the row's mark: a clicked result and the note as the field holds it. One request per
  // item at a time, in order: what changes meanwhile goes in the next.
  async flush(row) {
    clearTimeout(row.timer);
    row.timer = null;
    if (row.busy) { row.again = true; return; }
    const note = row.note.value, clicked = row.result;
    const result = clicked || (row.known && row.known.result);
    if (!clicked && !row.dirty) return;
    if (!result) { this.setState(row, note ? 'unsaved' : ''); return; }
    if (!clicked && row.known && row.known.note === note) {   // the server has this text already
      row.dirty = false;
      dropDraft(row.caseRef, row.position);
      this.setState(row, 'saved');
      return;
    }
    row.result = null;
    row.busy = true;
    this.setState(row, 'saving');
    const r = await api(`/api/cases/${encodeURIComponent(row.caseRef)}/marks`, { item: row.position, result, note });
    row.busy = false;
    if (r.ok) {
      row.known = { result, note };
      if (row.note.value === note) {
        row.dirty = false;
        dropDraft(row.caseRef, row.position);
        this.setState(row, note ? 'saved' : '');
      }
    } else {
      this.onError(r.body);   // the page turns it into a sentence (lib/errors.js)
      if (note && row.dirty) this.setState(row, 'failed', r.body);   // the text stays, and here until saved
    }
    if (row.again) { row.again = false; this.flush(row); }
  }

  async capture(item, button) {
    const row = this.rows.get(item);
    if (row) row.capturing = true;
    button.disabled = true;
    button.textContent = t('review.capturing');
    const r = await api(`/api/cases/${encodeURIComponent(this.caseRef)}/stills`, { item });
    if (row) row.capturing = false;
    button.disabled = !this.canMark;
    button.textContent = t('review.capture');
    if (!r.ok) this.onError(r.body);   // the page turns it into a sentence (lib/errors.js)
    else this.addStill(r.body);
  }

  // a result clicked: sent with the note as its field holds it
  mark(item, result) {
    const row = this.rows.get(item);
    if (!row) return;
    row.result = result;
    this.flush(row);
  }
}

export function formatMedia(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
