// review/drawing.js — draw an arrow, circle or box on an evidence still (a drag, or a click at
// each end). The drawing is sent as shapes in 0…1 image coordinates and stored apart from the
// image, which never changes.
import { t } from '../lib/i18n.js';
import { api } from '../lib/session.js';
import { errorText } from '../lib/errors.js';

export function openDrawing(dialog, caseRef, still, onSaved) {
  const img = dialog.querySelector('img');
  const canvas = dialog.querySelector('canvas');
  const kind = dialog.querySelector('select');
  let shapes = Array.isArray(still.annotation) ? still.annotation.map((s) => ({ ...s })) : [];
  let start = null;

  const draw = (extra) => {
    canvas.width = img.clientWidth;
    canvas.height = img.clientHeight;
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.strokeStyle = '#ff2d55';
    g.lineWidth = 3;
    for (const s of extra ? [...shapes, extra] : shapes) {
      const [x1, y1, x2, y2] = [s.x1 * canvas.width, s.y1 * canvas.height, s.x2 * canvas.width, s.y2 * canvas.height];
      g.beginPath();
      if (s.kind === 'box') g.rect(Math.min(x1, x2), Math.min(y1, y2), Math.abs(x2 - x1), Math.abs(y2 - y1));
      else if (s.kind === 'circle') g.ellipse((x1 + x2) / 2, (y1 + y2) / 2, Math.abs(x2 - x1) / 2, Math.abs(y2 - y1) / 2, 0, 0, 2 * Math.PI);
      else {
        const a = Math.atan2(y2 - y1, x2 - x1);
        g.moveTo(x1, y1); g.lineTo(x2, y2);
        g.lineTo(x2 - 14 * Math.cos(a - 0.4), y2 - 14 * Math.sin(a - 0.4));
        g.moveTo(x2, y2); g.lineTo(x2 - 14 * Math.cos(a + 0.4), y2 - 14 * Math.sin(a + 0.4));
      }
      g.stroke();
    }
  };
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), Math.min(1, Math.max(0, (e.clientY - r.top) / r.height))];
  };
  const shape = (e) => { const [x2, y2] = at(e); return { kind: kind.value, x1: start[0], y1: start[1], x2, y2 }; };
  // a drag draws a shape; so do two clicks, its start and its end (no dragging needed: WCAG 2.5.7)
  let anchored = false;
  canvas.onpointerdown = (e) => { if (!start) start = at(e); };
  canvas.onpointermove = (e) => { if (start) draw(shape(e)); };
  canvas.onpointerup = (e) => {
    if (!start) return;
    const [x, y] = at(e);
    const still = Math.abs(x - start[0]) < 0.01 && Math.abs(y - start[1]) < 0.01;
    if (still && !anchored) { anchored = true; return; }   // a click: the shape ends at the next one
    if (!still) shapes.push(shape(e));
    start = null; anchored = false; draw();
  };
  dialog.querySelector('.undo').onclick = () => { shapes.pop(); draw(); };
  dialog.querySelector('.save').onclick = async () => {
    const r = await api(`/api/cases/${encodeURIComponent(caseRef)}/annotations`, { still: still.id, shapes });
    dialog.querySelector('.result').textContent = r.ok ? t('review.drawing.saved') : errorText(r.body);
    if (r.ok) { still.annotation = shapes; onSaved && onSaved(still); }
  };
  dialog.querySelector('.close').onclick = () => dialog.close();
  dialog.querySelector('.sha').textContent = `SHA-256 ${still.sha256}`;
  img.onload = () => draw();
  img.src = still.url;
  dialog.showModal();
  if (img.complete) draw();
}
