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
    this.canMark = false;
  }

  show(caseRef, detail) {
    this.caseRef = caseRef;
    this.items = detail.items;
    this.canMark = detail.can.includes('mark');
    this.render();
  }

  // a `mark` message from the signaling socket
  apply(mark) {
    const item = this.items.find((i) => i.position === mark.item);
    if (!item) return;
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
      note.disabled = !this.canMark;
      for (const result of RESULTS) {
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset.result = result;
        b.textContent = t(`mark.${result}`);
        b.setAttribute('aria-pressed', String(!!item.mark && item.mark.result === result));
        b.disabled = !this.canMark;
        b.addEventListener('click', () => this.mark(item.position, result, note.value));
        group.append(b);
      }
      li.append(group, note);
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

  async mark(item, result, note) {
    const r = await api(`/api/cases/${encodeURIComponent(this.caseRef)}/marks`, { item, result, note });
    if (!r.ok) this.onError(r.body ? r.body.message : t('err.network'));
  }
}

export function formatMedia(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
