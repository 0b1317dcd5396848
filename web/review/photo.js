// review/photo.js — "Ask for a photo" on each item of the checklist (issue 18): asks the
// applicant's phone for a photograph of the item (POST /api/cases/{ref}/photo-requests,
// docs/api.md), then says it waits until the photo arrives — as a `still` with source "photo",
// which the checklist shows beside the item like any still (and the drawing dialog annotates).
// Hooks into Checklist's rows (onBuildRow, onFillRow); never touches the rest of the page.
import { t } from '../lib/i18n.js';
import { api } from '../lib/session.js';

export function installPhotoRequests(checklist) {
  checklist.onBuildRow = (row) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'ask-photo';
    b.dataset.testid = 'ask-photo';
    b.addEventListener('click', () => ask(checklist, row, b));
    row.photo = { button: b, request: null, asking: false, failed: false };
    row.group.append(b);
  };
  checklist.onFillRow = (row, item, mine) => {
    const p = row.photo;
    if (!p) return;
    // the photo of the request came: done waiting
    if (p.request && checklist.stills.some((s) => s.source === 'photo' && s.request === p.request)) p.request = null;
    const waiting = p.asking || p.request !== null;
    p.button.dataset.state = p.asking ? 'asking' : p.request ? 'waiting' : 'idle';
    p.button.textContent = t(waiting ? 'review.photo.waiting' : 'review.photo.ask');
    p.button.disabled = !mine || p.asking;
    if (checklist.canMark && !mine) {   // another department's item: says why, as the mark buttons do
      p.button.title = t('review.not_yours');
      p.button.setAttribute('aria-describedby', row.why.id);
    } else {
      p.button.removeAttribute('title');
      p.button.removeAttribute('aria-describedby');
    }
  };
}

async function ask(checklist, row, button) {
  const p = row.photo;
  p.asking = true;
  checklist.render();
  const r = await api(`/api/cases/${encodeURIComponent(checklist.caseRef)}/photo-requests`, { item: row.position });
  p.asking = false;
  if (r.ok) p.request = r.body.request;
  else checklist.onError(r.body);   // the page turns it into a sentence (lib/errors.js)
  checklist.render();
}
