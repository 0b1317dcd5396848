// lib/signal.js — the WebSocket signaling channel (docs/protocol.md): JSON messages, one handler.
export function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

export function openSignal(onMessage, onClose) {
  const ws = new WebSocket(wsUrl());
  const channel = {
    send(msg) { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg)); },
    close() { ws.onclose = null; ws.close(); },
    opened: new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; }),
  };
  ws.onmessage = (event) => {
    let msg;
    try { msg = JSON.parse(event.data); } catch { return; }
    onMessage(msg);
  };
  ws.onclose = () => onClose && onClose();
  return channel;
}

// The RTCPeerConnection configuration from the server's `joined` message: its `iceServers`
// (STUN/TURN from the server's [ice] settings, TURN credentials valid for this connection).
// Nothing configured (or an older server): no ICE servers, host candidates only.
export function rtcConfig(joined) {
  return { iceServers: joined && Array.isArray(joined.iceServers) ? joined.iceServers : [] };
}

// Bitrate, loss and resolution from getStats, for the quality indicators.
export async function mediaStats(pc, previous) {
  const out = { bitrateKbps: 0, lossPct: 0, width: 0, height: 0, rttMs: null, bytes: 0, at: performance.now() };
  if (!pc) return out;
  const report = await pc.getStats();
  let lost = 0, received = 0;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.bytes += s.bytesReceived || 0; lost += s.packetsLost || 0; received += s.packetsReceived || 0;
      out.width = s.frameWidth || out.width; out.height = s.frameHeight || out.height;
    }
    if (s.type === 'outbound-rtp' && s.kind === 'video') out.bytes += s.bytesSent || 0;
    if (s.type === 'remote-inbound-rtp' && s.kind === 'video') {
      lost += s.packetsLost || 0; received += 1000;
      if (s.roundTripTime) out.rttMs = Math.round(s.roundTripTime * 1000);
    }
    if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.currentRoundTripTime) out.rttMs = Math.round(s.currentRoundTripTime * 1000);
  });
  if (previous) out.bitrateKbps = Math.max(0, Math.round(((out.bytes - previous.bytes) * 8) / (out.at - previous.at)));
  lost = Math.max(0, lost);   // remote reports can say -1 (duplicates)
  out.lossPct = received + lost > 0 ? Math.round((lost * 1000) / (received + lost)) / 10 : 0;
  out.lost = lost; out.received = received;   // the totals, for the loss over an interval
  return out;
}
