// review/drawing.js — draw an arrow, circle or box on an evidence still (a drag, a click at
// each end, or the keyboard: on the focused picture the arrow keys move a cursor, Shift for
// bigger steps, Enter or Space sets where the shape starts and then where it ends, Escape
// drops a started shape). The drawing is sent as shapes in 0…1 image coordinates and stored
// apart from the image, which never changes.
import { t } from '../lib/i18n.js';
import { api } from '../lib/session.js';
import { errorText } from '../lib/errors.js';

export function openDrawing(dialog, caseRef, still, onSaved) {
  const img = dialog.querySelector('img');
  const canvas = dialog.querySelector('canvas');
  const kind = dialog.querySelector('select');
  let shapes = Array.isArray(still.annotation) ? still.annotation.map((s) => ({ ...s })) : [];
  let start = null;
  let cursor = null;   // the keyboard's cursor [x, y] in 0…1, shown while the picture has the focus

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
    if (cursor) {   // a cross with a dark outline: seen on light and dark pictures
      const [cx, cy] = [cursor[0] * canvas.width, cursor[1] * canvas.height];
      for (const [style, width] of [['#0d1117', 4], ['#ffffff', 2]]) {
        g.strokeStyle = style; g.lineWidth = width;
        g.beginPath(); g.moveTo(cx - 10, cy); g.lineTo(cx + 10, cy); g.moveTo(cx, cy - 10); g.lineTo(cx, cy + 10); g.stroke();
      }
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
  // the keyboard (WCAG 2.1.1): a cursor moved by the arrow keys, Enter or Space at each end
  const say = (text) => { dialog.querySelector('.result').textContent = text; };
  const pct = (v) => Math.round(v * 100);
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'application');
  canvas.setAttribute('aria-label', t('desk.drawing.keys'));
  canvas.onfocus = () => { cursor = cursor || [0.5, 0.5]; draw(start ? { kind: kind.value, x1: start[0], y1: start[1], x2: cursor[0], y2: cursor[1] } : null); };
  canvas.onblur = () => { cursor = null; draw(); };
  canvas.onkeydown = (e) => {
    const step = e.shiftKey ? 0.1 : 0.02;
    const move = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    if (!cursor) cursor = [0.5, 0.5];
    if (move) {
      cursor = [Math.min(1, Math.max(0, cursor[0] + move[0])), Math.min(1, Math.max(0, cursor[1] + move[1]))];
    } else if (e.key === 'Enter' || e.key === ' ') {
      if (!start) {
        start = [...cursor];
        say(t('desk.drawing.started').replace('{x}', pct(cursor[0])).replace('{y}', pct(cursor[1])));
      } else {
        shapes.push({ kind: kind.value, x1: start[0], y1: start[1], x2: cursor[0], y2: cursor[1] });
        start = null; anchored = false;
        say(t('desk.drawing.added').replace('{shape}', t(`shape.${kind.value}`)));
      }
    } else if (e.key === 'Escape' && start) {
      start = null; anchored = false;
      say('');
    } else {
      return;
    }
    e.preventDefault();   // arrows do not scroll, Space does not page, Escape does not close while a shape is begun
    draw(start ? { kind: kind.value, x1: start[0], y1: start[1], x2: cursor[0], y2: cursor[1] } : null);
  };
  dialog.querySelector('.undo').onclick = () => { shapes.pop(); draw(); };
  dialog.querySelector('.save').onclick = async () => {
    const r = await api(`/api/cases/${encodeURIComponent(caseRef)}/annotations`, { still: still.id, shapes });
    dialog.querySelector('.result').textContent = r.ok ? t('review.drawing.saved') : errorText(r.body);
    if (r.ok) { still.annotation = shapes; onSaved && onSaved(still); }
  };
  dialog.querySelector('.close').onclick = () => dialog.close();
  say('');
  dialog.querySelector('.sha').textContent = `SHA-256 ${still.sha256}`;
  img.onload = () => draw();
  img.src = still.url;
  dialog.showModal();
  if (img.complete) draw();
}
