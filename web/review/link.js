// review/link.js — the link-quality indicator: the applicant's link as the server receives it
// (its `link` messages) and the reviewer's own, from this page's RTCPeerConnection stats.
// Figures and a plain word: good / poor / bad, with the server's thresholds (link_stats.h).
import { t } from '../lib/i18n.js';

export function qualityWord(kbps, lossPct, rttMs) {
  const rtt = rttMs ?? -1;
  if (kbps < 1 || lossPct >= 10 || rtt >= 1000) return 'bad';
  if (lossPct >= 2 || rtt >= 300) return 'poor';   // a low bitrate alone says nothing: a still picture needs little
  return 'good';
}

// "1234 kbit/s · 0.5% loss · 45 ms" (the round trip left out until one is known)
export function linkFigures(kbps, lossPct, rttMs) {
  const parts = [`${Math.round(kbps)} kbit/s`, `${lossPct}% ${t('link.loss')}`];
  if (rttMs !== null && rttMs !== undefined && rttMs >= 0) parts.push(`${rttMs} ms`);
  return parts.join(' · ');
}

// Shows figures and word in `figures` / `word` (the word also as data-quality, for styling).
export function showLink(figures, word, kbps, lossPct, rttMs, quality) {
  const q = quality || qualityWord(kbps, lossPct, rttMs);
  figures.textContent = linkFigures(kbps, lossPct, rttMs);
  word.textContent = t(`link.${q}`);
  word.dataset.quality = q;
}

export function clearLink(figures, word) {
  figures.textContent = '–';
  word.textContent = '';
  delete word.dataset.quality;
}

// The loss over the last interval from two mediaStats() samples (cumulative counters).
export function intervalLoss(s, previous) {
  if (!previous || s.lost === undefined) return s.lossPct;
  const lost = Math.max(0, s.lost - previous.lost), received = Math.max(0, s.received - previous.received);
  return lost + received > 0 ? Math.round((lost * 1000) / (lost + received)) / 10 : 0;
}
