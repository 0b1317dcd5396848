// report/report.js — one case's inspection report: facts, each item with its marks, notes and
// stills, the decisions and countersignature, the reviewers, times and recordings with hashes.
// The report itself comes from the server (GET /api/cases/{ref}/report: the one CaseReport that
// the bundle's report.html and report.pdf render too); this page only lays it out.
import { t, tv, fmtDateTime, fmtDay, setTimeZone, currentLang, applyTranslations, installLanguageSwitch } from '../lib/i18n.js';
import { errorText } from '../lib/errors.js';
import { api } from '../lib/session.js';

const $ = (id) => document.getElementById(id);
const ref = new URLSearchParams(location.hash.slice(1)).get('case');
let data = null, signingKey = '';

function row(label, value) {
  const tr = document.createElement('tr');
  tr.append(Object.assign(document.createElement('th'), { textContent: label }),
    Object.assign(document.createElement('td'), { textContent: value || '–' }));
  return tr;
}

function render() {
  if (!data) return;
  const c = data;
  const zh = document.documentElement.lang === 'zh-CN';
  $('r-title').textContent = `${zh ? c.type_title.zh : c.type_title.en} — ${c.ref}`;
  $('r-facts').replaceChildren(row(t('audit.applicant'), `${c.applicant_name} ${c.applicant_phone}`),
    row(t('report.site'), c.site_address), row(t('review.owner'), c.owner), row(t('review.co'), c.co_reviewers.join(', ')),
    row(t('review.status'), t(`status.${c.status}`)), row(t('report.accepted'), fmtDay(c.accepted_on)),
    row(t('review.deadline'), fmtDay(c.deadline_on)));
  $('r-items').replaceChildren(...c.items.map((item) => {
    const li = document.createElement('li');
    const m = item.mark;
    li.append(Object.assign(document.createElement('strong'), { textContent: zh ? item.title_zh : item.title_en }),
      document.createTextNode(item.department ? ` ${t('review.department')} ${tv('dept', item.department)}` : ''),
      document.createTextNode(m ? ` — ${t(`mark.${m.result}`)} · ${m.by} · ${fmtDateTime(m.at)}` : ` — ${t('report.unmarked')}`));
    if (m && m.note) li.append(Object.assign(document.createElement('p'), { textContent: m.note }));
    const stills = c.stills.filter((s) => s.item === item.position);
    for (const s of stills) {
      const fig = document.createElement('figure');
      const frame = Object.assign(document.createElement('div'), { className: 'thumb' });
      frame.dataset.testid = 'report-thumb';
      frame.append(Object.assign(document.createElement('img'), { src: s.url, alt: `${t('review.still')} ${s.id}` }));
      const shapes = overlay(s.annotation);
      if (shapes) frame.append(shapes);
      fig.append(frame, Object.assign(document.createElement('figcaption'), { className: 'hash', textContent: `SHA-256 ${s.sha256}` }));
      li.append(fig);
    }
    return li;
  }));
  $('r-decisions').replaceChildren(...c.decisions.map((d) => Object.assign(document.createElement('li'), {
    textContent: `${t(`decision.${d.kind}`)} · ${d.reason} · ${d.by} · ${fmtDateTime(d.at)} · ${tv('dstate', d.state)}` +
      (d.countersigned_by ? ` · ${t('review.countersign')}: ${d.countersigned_by} ${d.countersign_note || ''}` : '') })));
  $('r-sessions').replaceChildren(...c.sessions.map((s) => Object.assign(document.createElement('li'), {
    textContent: `#${s.id} · ${fmtDateTime(s.started_at)}` +
      (s.challenge_seen_by ? ` · ${t('review.challenge.seen')}: ${s.challenge_seen_by}` : '') +
      (s.location ? ` · ${t('review.location')} ±${Math.round(s.location.accuracy_m)} m` +
        (s.location.distance_m != null ? `, ${s.location.distance_m} m ${t('review.distance')}` : '') : '') })));
  $('r-recordings').replaceChildren(...c.recordings.map((r) => {
    const tr = document.createElement('tr');
    tr.append(Object.assign(document.createElement('td'), { textContent: `${r.session}.${r.seq}` }),
      // when its first picture was taken (the archive's 0), then its true media duration
      Object.assign(document.createElement('td'), { textContent: fmtDateTime(r.media_started_at ?? r.started_at) }),
      Object.assign(document.createElement('td'), { textContent: `${(r.duration_ms / 1000).toFixed(1)} s` }),
      Object.assign(document.createElement('td'), { className: 'hash', textContent: r.sha256 || tv('rec', r.archive_state) }));
    return tr;
  }));
  renderAcks(c);
  $('r-report-hash').textContent = `${t('report.verify')} ${c.report_sha256 || ''}`;
  $('r-qr').replaceChildren(...(c.qr_svg ? [Object.assign(document.createElement('img'), {
    src: svgData(c.qr_svg), alt: `${t('report.qr')}: ${c.qr_text}`, className: 'qr' })] : []));
  $('r-generated').textContent = `${t('report.generated')} ${fmtDateTime(Date.now())}`;
  $('r-signing-key').textContent = signingKey ? `${t('report.signing_key')} ${signingKey}` : '';
  $('report').classList.remove('hidden');
}

// server-built SVG (numbers only) as an image: shown, never run
const svgData = (svg) => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;

// a still's drawing over its thumbnail: the shapes in the image's 0..1 coordinates, as the desk drew them
function overlay(annotation) {
  const shapes = Array.isArray(annotation) ? annotation : annotation && Array.isArray(annotation.shapes) ? annotation.shapes : [];
  if (!shapes.length) return null;
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 100 100');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  svg.classList.add('shapes');
  const el = (tag, attrs) => { const n = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); svg.append(n); };
  for (const sh of shapes) {
    const [x1, y1, x2, y2] = [sh.x1 * 100, sh.y1 * 100, sh.x2 * 100, sh.y2 * 100];
    if (sh.kind === 'box') el('rect', { x: Math.min(x1, x2), y: Math.min(y1, y2), width: Math.abs(x2 - x1), height: Math.abs(y2 - y1) });
    else if (sh.kind === 'circle') el('ellipse', { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, rx: Math.abs(x2 - x1) / 2, ry: Math.abs(y2 - y1) / 2 });
    else if (sh.kind === 'arrow') {
      el('line', { x1, y1, x2, y2 });
      const a = Math.atan2(y2 - y1, x2 - x1), h = 5;
      el('polyline', { points: `${x2 - h * Math.cos(a - 0.5)},${y2 - h * Math.sin(a - 0.5)} ${x2},${y2} ${x2 - h * Math.cos(a + 0.5)},${y2 - h * Math.sin(a + 0.5)}` });
    }
  }
  return svg;
}

// the applicant's acknowledgements of notices: who, when, the hash and the drawn signature
function renderAcks(c) {
  const acks = c.acknowledgements || [];
  const kindOf = (id) => { const d = c.decisions.find((x) => x.id === id); return d ? t(`decision.${d.kind}`) : ''; };
  $('r-acks').replaceChildren(...(acks.length ? acks.map((a) => {
    const li = document.createElement('li');
    li.dataset.testid = 'report-ack';
    li.append(document.createTextNode(t('report.ack.line').replace('{name}', a.name).replace('{at}', fmtDateTime(a.at))
      .replace('{kind}', kindOf(a.decision)).replace('{sha}', a.sha256)),
    Object.assign(document.createElement('img'), { className: 'sig-image', src: svgData(a.svg),
      alt: t('report.ack.signature').replace('{name}', a.name) }));
    return li;
  }) : [Object.assign(document.createElement('li'), { textContent: t('report.ack.none') })]));
}

applyTranslations();
installLanguageSwitch($('lang'), () => { render(); pdfLink(); });
$('print').addEventListener('click', () => window.print());
// the PDF in the page's language
const pdfLink = () => { if (ref) $('pdf').href = `/api/cases/${encodeURIComponent(ref)}/report.pdf?lang=${currentLang()}`; };
pdfLink();
if (!ref) $('error').textContent = t('report.nocase');
else {
  const me = await api('/api/me');   // the bureau's time zone, which every time here is shown in
  if (me.ok && me.body.timezone) setTimeZone(me.body.timezone);
  const r = await api(`/api/cases/${encodeURIComponent(ref)}/report`);
  if (!r.ok) $('error').textContent = errorText(r.body);
  else {
    data = r.body;
    const key = await api('/api/signing-key');   // the key this server signs exported bundles with
    if (key.ok) signingKey = key.body.public_key;
    render();
  }
}
